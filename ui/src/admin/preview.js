// The live check and preview: the backend validates the draft (errors placed at their fields) and
// says when a ticket opened now would be due, with the open hours of the next three weeks.
import { el } from "../lib/dom.js";
import { formatInstant, viewerTimeZone } from "../lib/time.js";
import { api, resize } from "../lib/transport.js";
import { $, banner, state } from "./fields.js";

let previewTimer = null;
let previewSeq = 0;

export function showErrors(errors) {
  state.errors = errors;
  for (const node of document.querySelectorAll("[data-path][aria-invalid]")) node.removeAttribute("aria-invalid");
  // the JSON editor's and the "add" fields' own errors are not the engine's to clear
  for (const node of $("tw-editor").querySelectorAll(".tw-error:not(.tw-local-error)")) {
    if (node.id !== "tw-json-error") node.textContent = "";
  }
  const fields = [...document.querySelectorAll("#tw-editor [data-path]")];
  const unplaced = [];
  const byField = new Map();
  for (const error of errors) {
    let best = null;
    for (const field of fields) {
      const p = field.dataset.path;
      if ((error.path === p || error.path.startsWith(p + ".")) && (!best || p.length > best.dataset.path.length)) best = field;
    }
    if (best) byField.set(best, [...(byField.get(best) || []), error.message]);
    else unplaced.push(error);
  }
  for (const [field, messages] of byField) {
    field.setAttribute("aria-invalid", "true");
    const target = $(field.getAttribute("aria-describedby")) || field.querySelector(":scope > .tw-error")
      || field.closest("tr, .tw-field, fieldset")?.querySelector(".tw-error");
    if (target) target.textContent = [target.textContent, ...messages].filter(Boolean).join("; ");
    else unplaced.push(...messages.map((message) => ({ path: field.dataset.path, message })));
  }
  $("tw-other-errors").replaceChildren(...unplaced.map((e) => el("div", { text: e.path ? `${e.path}: ${e.message}` : e.message })));
  $("tw-save").disabled = errors.length > 0;
  $("tw-error-count").textContent = errors.length
    ? `${errors.length} problem${errors.length > 1 ? "s" : ""} to fix before saving.`
    : "No problems found.";
}

/** Run `run` (the preview) after `delay` ms of quiet: a newer call replaces a waiting one. */
export function schedulePreview(delay = 350, run = runPreview) {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(run, delay);
}

export async function runPreview() {
  const seq = ++previewSeq;
  try {
    const result = await api("POST", "/admin/preview", { document: state.draft });
    if (seq !== previewSeq) return; // a newer draft is on its way
    showErrors(result.errors);
    if (result.valid) {
      renderPreview(result);
      renderStrip(result.calendars);
    } else {
      $("tw-preview").setAttribute("data-stale", "true");
    }
  } catch (err) {
    banner("danger", `Preview failed: ${err.message}`);
  }
  resize();
}

function dueCell(iso, note) {
  if (iso) return el("td", {}, el("time", { datetime: iso, text: formatInstant(iso) }));
  return el("td", { class: "tw-subtlest", text: note || "best effort" });
}

function renderPreview(result) {
  $("tw-preview-at").textContent = `A ticket opened now (${formatInstant(result.at)}) would be due… Times in ${viewerTimeZone()}.`;
  const rows = result.rows.map((r) => el("tr", { "data-tier": r.tier, "data-severity": r.severity },
    el("th", { scope: "row", text: `${r.tier_name} · ${r.severity_name}` }),
    dueCell(r.first_response_due, r.notes.first_response),
    dueCell(r.next_update_due, "—"),
    dueCell(r.resolution_due, r.notes.resolution)));
  $("tw-preview").removeAttribute("data-stale");
  $("tw-preview").replaceChildren(el("table", { id: "tw-preview-table" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Tier · severity" }), el("th", { scope: "col", text: "First response" }),
      el("th", { scope: "col", text: "Next update after a reply now" }), el("th", { scope: "col", text: "Resolution" }))),
    el("tbody", {}, rows)));
}

function renderStrip(calendars) {
  if (!calendars.length) {
    $("tw-strip").replaceChildren(el("p", { class: "tw-subtlest", text: "Only the round-the-clock calendar is used." }));
    return;
  }
  $("tw-strip").replaceChildren(...calendars.map((cal) => el("div", { "data-calendar": cal.id },
    el("h3", { text: `${cal.id} (${cal.timezone})` }),
    el("div", { class: "tw-strip", role: "list" }, cal.days.map((d) => {
      const closed = d.open.length === 0;
      const kind = d.holiday && closed ? "tw-holiday" : closed ? "tw-closed" : "";
      const text = closed ? (d.closed_reason || "closed") : d.open.join(", ");
      return el("div", { class: `tw-day ${kind}`, role: "listitem", title: d.holiday || text, "aria-label": `${d.weekday} ${d.date}: ${text}` },
        el("b", { text: `${d.weekday} ${d.date.slice(5)}` }), closed ? (d.holiday ? `Holiday: ${d.holiday}` : text) : text);
    })))));
}
