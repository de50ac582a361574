// The admin page's layout (static markup, no data): the same in both doors; page.js fills it in.
export const ADMIN_SHELL = `
<main id="tw-admin" aria-labelledby="tw-title">
  <h1 id="tw-title">Tierwise SLA policy</h1>
  <p id="tw-active-version" class="tw-version" aria-live="polite">Loading…</p>
  <div id="tw-banner" class="tw-banner" role="status" aria-live="polite"></div>

  <div id="tw-editor" class="tw-layout" hidden>
    <div>
      <section class="tw-card" aria-labelledby="tw-h-start">
        <h2 id="tw-h-start">Start from</h2>
        <div class="tw-row">
          <div class="tw-field">
            <label for="tw-preset">Published policy (preset)</label>
            <select id="tw-preset"></select>
          </div>
          <button type="button" id="tw-load-preset">Use preset</button>
          <div class="tw-field">
            <label for="tw-import">Import a policy file (JSON or YAML)</label>
            <input type="file" id="tw-import" accept=".json,.yaml,.yml,application/json,text/yaml">
          </div>
        </div>
      </section>

      <section class="tw-card" aria-labelledby="tw-h-policy">
        <h2 id="tw-h-policy">Policy</h2>
        <div class="tw-row">
          <div class="tw-field"><label for="f-name">Name</label><input id="f-name" data-path="name"><div class="tw-error" id="f-name-error"></div></div>
          <div class="tw-field"><label for="f-id">Id</label><input id="f-id" data-path="id"><div class="tw-error" id="f-id-error"></div></div>
        </div>
        <h3>Severities</h3>
        <div id="tw-severities"></div>
      </section>

      <section class="tw-card" aria-labelledby="tw-h-targets">
        <h2 id="tw-h-targets">Targets per tier and severity</h2>
        <p class="tw-subtlest">Durations: <code>30m</code>, <code>4h</code>, <code>1bd</code> (business day), <code>1w</code>, optionally <code>on &lt;calendar&gt;</code>; <code>best_effort</code>; cadence also <code>at_closure</code>.</p>
        <div id="tw-tiers"></div>
      </section>

      <section class="tw-card" aria-labelledby="tw-h-calendars">
        <h2 id="tw-h-calendars">Business-hours calendars</h2>
        <div id="tw-calendars"></div>
        <datalist id="tw-timezones"></datalist>
      </section>

      <section class="tw-card" aria-labelledby="tw-h-mapping">
        <h2 id="tw-h-mapping">Mapping: tier and severity of a ticket</h2>
        <div id="tw-mapping"></div>
      </section>

      <section class="tw-card" aria-labelledby="tw-h-phases">
        <h2 id="tw-h-phases">Phases (statuses)</h2>
        <div id="tw-phases"></div>
      </section>

      <section class="tw-card" aria-labelledby="tw-h-actions">
        <h2 id="tw-h-actions">Actions</h2>
        <div id="tw-actions"></div>
      </section>

      <section class="tw-card" aria-labelledby="tw-h-json">
        <details id="tw-json-details">
          <summary id="tw-h-json">Edit the whole document as JSON</summary>
          <label for="tw-json">Policy document (JSON)</label>
          <textarea id="tw-json" spellcheck="false" aria-describedby="tw-json-error"></textarea>
          <div class="tw-error" id="tw-json-error"></div>
        </details>
      </section>

      <section class="tw-card" aria-labelledby="tw-h-save">
        <h2 id="tw-h-save">Save</h2>
        <div id="tw-other-errors" class="tw-error" role="alert"></div>
        <div class="tw-row">
          <div class="tw-field"><label for="tw-note">What changed (kept with the version)</label><input id="tw-note"></div>
          <button type="button" id="tw-save" class="tw-primary">Save as new version</button>
        </div>
        <p id="tw-error-count" class="tw-subtlest" aria-live="polite"></p>
      </section>

      <section class="tw-card" aria-labelledby="tw-h-settings">
        <h2 id="tw-h-settings">Jira fields and on-call</h2>
        <p class="tw-subtlest">Which Jira fields receive the deadlines, tier and severity (site settings, not part of the policy).</p>
        <div id="tw-bindings"></div>
        <div class="tw-field"><label for="s-oncall">On-call webhook URL</label><input id="s-oncall" type="url" data-settings-path="oncall_webhook_url"><div class="tw-error" id="s-oncall-error"></div></div>
        <button type="button" id="tw-save-settings">Save field settings</button>
      </section>

      <section class="tw-card" aria-labelledby="tw-h-history">
        <h2 id="tw-h-history">Version history</h2>
        <table><caption class="tw-sr-only">Saved policy versions, newest first</caption>
          <thead><tr><th scope="col">Version</th><th scope="col">Saved</th><th scope="col">Note</th><th scope="col">Actions</th></tr></thead>
          <tbody id="tw-history"></tbody>
        </table>
        <div id="tw-diff" aria-live="polite"></div>
        <div id="tw-reapply" aria-live="polite"></div>
      </section>
    </div>

    <aside class="tw-sticky" aria-labelledby="tw-h-preview">
      <section class="tw-card">
        <h2 id="tw-h-preview">Preview</h2>
        <p class="tw-subtlest" id="tw-preview-at">A ticket opened now would be due…</p>
        <div id="tw-preview" aria-live="polite"></div>
      </section>
      <section class="tw-card" aria-labelledby="tw-h-strip">
        <h2 id="tw-h-strip">Open hours, next three weeks</h2>
        <div id="tw-strip"></div>
      </section>
    </aside>
  </div>
</main>
`;
