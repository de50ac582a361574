// Saving (a new immutable version, confirmed with a Jira flag), field settings, and the version
// history: diffs, roll back, export, re-apply to open tickets.
import { el } from "../lib/dom.js";
import { formatInstant } from "../lib/time.js";
import { ApiError, api, download, flag, resize } from "../lib/transport.js";
import { $, banner, state } from "./fields.js";
import { setDraft } from "./form.js";
import { showErrors } from "./preview.js";

export async function save() {
  if (state.errors.length) return;
  $("tw-save").disabled = true;
  try {
    const result = await api("POST", "/admin/policy", { document: state.draft, note: $("tw-note").value });
    banner("success", `Saved as version ${result.version.number}. New tickets use it from now on; open tickets keep theirs unless you re-apply.`);
    flag("success", "Policy saved", `Version ${result.version.number} is active for new tickets.`);
    $("tw-note").value = "";
    await loadActive(false);
    await loadVersions();
  } catch (err) {
    if (err instanceof ApiError && err.body.errors) showErrors(err.body.errors);
    banner("danger", `Not saved: ${err.message}`);
    flag("error", "Policy not saved", err.message);
  } finally {
    $("tw-save").disabled = state.errors.length > 0;
  }
}

export async function saveSettings() {
  const body = { field_bindings: {}, oncall_webhook_url: $("s-oncall").value.trim() || null };
  for (const node of $("tw-bindings").querySelectorAll("select")) body.field_bindings[node.dataset.settingsPath.split(".")[1]] = node.value;
  for (const node of document.querySelectorAll("[data-settings-path]")) {
    node.removeAttribute("aria-invalid");
    const target = $(node.getAttribute("aria-describedby") || `${node.id}-error`);
    if (target) target.textContent = "";
  }
  try {
    state.settings = (await api("PUT", "/admin/settings", body)).settings;
    banner("success", "Field settings saved.");
  } catch (err) {
    for (const e of err.body?.errors || []) {
      const node = document.querySelector(`[data-settings-path="${e.path}"]`);
      if (!node) continue;
      node.setAttribute("aria-invalid", "true");
      $(`${node.id}-error`).textContent = e.message;
    }
    banner("danger", `Field settings not saved: ${err.message}`);
  }
}

function versionLabel(v) {
  return v.is_default ? "built-in default" : `version ${v.number}`;
}

export async function loadActive(replaceDraft = true) {
  const result = await api("GET", "/admin/policy");
  state.active = result.version;
  state.settings = result.settings;
  const v = result.version;
  $("tw-active-version").textContent = v.is_default
    ? `Active: the built-in ${v.document.name} preset (not saved yet).`
    : `Active: version ${v.number} (${v.document.name}), saved ${formatInstant(v.created_at)}${v.created_by ? ` by ${v.created_by}` : ""}.`;
  if (replaceDraft) setDraft(v.document);
}

async function showDiff(older, newer) {
  const result = await api("GET", `/admin/versions/${older.id}/diff/${newer.id}`);
  $("tw-diff").replaceChildren(el("h3", { text: `Changes from ${versionLabel(older)} to ${versionLabel(newer)}` }),
    result.changes.length ? el("ul", { class: "tw-diff" }, result.changes.map((c) => el("li", { "data-kind": c.kind, text: c.text })))
      : el("p", { class: "tw-subtlest", text: "No differences." }));
  resize();
}

async function rollback(v) {
  try {
    const result = await api("POST", `/admin/versions/${v.id}/rollback`);
    banner("success", `Rolled back: version ${result.version.number} is a copy of version ${v.number}.`);
    await loadActive(true);
    await loadVersions();
  } catch (err) {
    banner("danger", `Roll back failed: ${err.message}`);
  }
}

async function reapply(v) {
  const box = $("tw-reapply");
  const bar = el("progress", { max: "1", value: "0", "aria-label": `Re-applying version ${v.number} to open tickets` });
  const text = el("p", { class: "tw-subtlest", text: "Queued…" });
  box.replaceChildren(el("h3", { text: `Re-apply version ${v.number} to open tickets` }), bar, text);
  try {
    await api("POST", `/admin/versions/${v.id}/reapply`);
  } catch (err) {
    text.textContent = `Could not queue: ${err.message}`;
    return;
  }
  const poll = async () => {
    const p = await api("GET", `/admin/versions/${v.id}/reapply`).catch(() => ({}));
    if (p.total !== null && p.total !== undefined) {
      bar.max = Math.max(p.total, 1);
      bar.value = p.done || 0;
      text.textContent = `${p.done || 0} of ${p.total} open tickets re-evaluated.`;
      if ((p.done || 0) >= p.total) return;
    }
    setTimeout(poll, 1500);
  };
  poll();
}

export async function loadVersions() {
  state.versions = (await api("GET", "/admin/versions")).versions;
  const rows = state.versions.map((v, i) => {
    const older = state.versions[i + 1];
    return el("tr", { "data-version": v.number },
      el("td", { text: `${v.number}${i === 0 ? " (active)" : ""}` }),
      el("td", {}, el("time", { datetime: v.created_at, text: formatInstant(v.created_at) }), v.created_by ? el("div", { class: "tw-subtlest", text: v.created_by }) : null),
      el("td", { text: v.note || "" }),
      el("td", {},
        older ? el("button", { type: "button", class: "tw-subtle-button", text: "Changes", "aria-label": `Changes in version ${v.number}`, onclick: () => showDiff(older, v) }) : null,
        i > 0 ? el("button", { type: "button", class: "tw-subtle-button", text: "Roll back", "aria-label": `Roll back to version ${v.number}`, onclick: () => rollback(v) }) : null,
        el("button", { type: "button", class: "tw-subtle-button", text: "Export", "aria-label": `Export version ${v.number} as JSON`, onclick: () => download(`/admin/versions/${v.id}/export`, `policy-v${v.number}.json`) }),
        el("button", { type: "button", class: "tw-subtle-button", text: "Re-apply", "aria-label": `Re-apply version ${v.number} to open tickets`, onclick: () => reapply(v) })));
  });
  $("tw-history").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: "4", class: "tw-subtlest", text: "Nothing saved yet: the built-in default is in force." }))]));
}
