// The admin settings page: a structured form and a JSON editor over one draft policy document,
// validated and previewed live by the backend; saving creates a new immutable version.
import { el } from "../lib/dom.js";
import { setViewer } from "../lib/time.js";
import { ApiError, api, pageContext, resize, useTransport } from "../lib/transport.js";
import { $, banner, setAt, state } from "./fields.js";
import { changed, renderBindings, renderFormFields, setDraft } from "./form.js";
import { runPreview, schedulePreview } from "./preview.js";
import { ADMIN_SHELL } from "./shell.js";
import { loadActive, loadVersions, save, saveSettings } from "./versions.js";

async function importFile(file) {
  try {
    const result = await api("POST", "/admin/import", { text: await file.text(), filename: file.name });
    setDraft(result.document);
    banner("info", `Imported ${file.name}${result.errors.length ? `: ${result.errors.length} problem(s) to fix` : ""}. Not saved yet.`);
  } catch (err) {
    banner("danger", `Could not import ${file.name}: ${err.message}`);
  }
}

function wire() {
  for (const path of ["name", "id"]) {
    $(`f-${path}`).addEventListener("input", (e) => { setAt(path, e.target.value); changed(); });
  }
  $("tw-load-preset").addEventListener("click", async () => {
    const id = $("tw-preset").value;
    const result = await api("GET", `/admin/presets/${encodeURIComponent(id)}`);
    setDraft(result.document);
    banner("info", `Loaded the ${result.document.name} preset. Not saved yet.`);
  });
  $("tw-import").addEventListener("change", (e) => e.target.files[0] && importFile(e.target.files[0]));
  $("tw-json").addEventListener("input", () => {
    schedulePreview(400, () => {
      try {
        const doc = JSON.parse($("tw-json").value);
        $("tw-json-error").textContent = "";
        $("tw-json").removeAttribute("aria-invalid");
        state.draft = doc;
        renderFormFields(); // the textarea keeps focus: it is not re-rendered
        runPreview();
      } catch (err) {
        $("tw-json-error").textContent = `Not valid JSON: ${err.message}`;
        $("tw-json").setAttribute("aria-invalid", "true");
        $("tw-save").disabled = true;
      }
    });
  });
  $("tw-save").addEventListener("click", save);
  $("tw-save-settings").addEventListener("click", saveSettings);
}

async function load() {
  try {
    const [reference, site] = await Promise.all([api("GET", "/admin/reference"), api("GET", "/admin/site")]);
    state.reference = reference;
    state.site = site;
    if (site.message) banner("info", site.message);
    $("tw-preset").replaceChildren(...reference.presets.map((p) => el("option", { value: p.id, text: p.name, title: p.description })));
    wire();
    $("tw-editor").hidden = false;
    await loadActive(true);
    renderBindings();
    await loadVersions();
  } catch (err) {
    $("tw-active-version").textContent = "";
    if (err instanceof ApiError && err.status === 403) {
      banner("danger", "Only Jira administrators can see and change Tierwise's settings.");
      $("tw-banner").dataset.refused = "true";
    } else {
      banner("danger", `Could not load the settings: ${err.message}`);
    }
  }
  resize();
}

/** Start the admin page in `transport`'s door: theme, the Jira user's zone and locale, then the policy. */
export async function startAdmin(transport, root = document.body) {
  useTransport(transport);
  transport.theme();
  root.insertAdjacentHTML("afterbegin", ADMIN_SHELL);
  try {
    setViewer(await pageContext());
  } catch {
    // the browser's zone and locale then: the page still works
  }
  await load();
}

