// The admin form's building blocks: the draft document and its paths, inputs bound to them, the
// "add"/"remove" controls, and the option lists Jira offers for a field. The form (form.js) sets `hooks`.
import { el } from "../lib/dom.js";
import { api } from "../lib/transport.js";

export const $ = (id) => document.getElementById(id);
export const state = { draft: null, reference: null, site: { fields: [], statuses: [] }, active: null, errors: [], versions: [], settings: null };
/** What a control calls after it edited the draft (`changed`) or its shape (`rerender`); set by form.js. */
export const hooks = { changed() {}, rerender() {} };

export function banner(kind, text) {
  $("tw-banner").className = `tw-banner tw-${kind}`;
  $("tw-banner").textContent = text;
}

export function steps(path) {
  return path.split(".").map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

export function getAt(path) {
  let node = state.draft;
  for (const s of steps(path)) {
    if (node === null || node === undefined) return undefined;
    node = node[s];
  }
  return node;
}

export function setAt(path, value) {
  const parts = steps(path);
  let node = state.draft;
  parts.slice(0, -1).forEach((s, i) => {
    if (node[s] === undefined || node[s] === null) node[s] = typeof parts[i + 1] === "number" ? [] : {};
    node = node[s];
  });
  const last = parts[parts.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
}

export function targetText(value) {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (value.best_effort) return "best_effort";
  if (value.duration) return value.calendar ? `${value.duration} on ${value.calendar}` : value.duration;
  return JSON.stringify(value);
}
// An input bound to a path of the draft; `parse` turns its text into the stored value.
export function input(path, label, { parse = (v) => v, format = (v) => (v ?? ""), type = "text", list, help } = {}) {
  const id = `f-${path.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const field = el("input", { id, type, "data-path": path, "aria-describedby": `${id}-error`, list, value: format(getAt(path)) });
  field.addEventListener("input", () => { setAt(path, parse(field.value)); hooks.changed(); });
  return el("div", { class: "tw-field" }, el("label", { for: id, text: label }), field,
    help ? el("div", { class: "tw-subtlest", text: help }) : null, el("div", { class: "tw-error", id: `${id}-error` }));
}

export function select(path, label, options, { allowEmpty = "", onchange } = {}) {
  const id = `f-${path.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const current = getAt(path) ?? "";
  const known = options.some(([value]) => value === current);
  const field = el("select", { id, "data-path": path, "aria-describedby": `${id}-error` },
    allowEmpty !== null ? el("option", { value: "", text: allowEmpty || "—" }) : null,
    !known && current ? el("option", { value: current, text: `${current} (not on this site)` }) : null,
    options.map(([value, text]) => el("option", { value, text })));
  field.value = current;
  field.addEventListener("change", () => {
    setAt(path, field.value || undefined);
    if (onchange) onchange(field.value);
    hooks.changed();
  });
  return el("div", { class: "tw-field" }, el("label", { for: id, text: label }), field, el("div", { class: "tw-error", id: `${id}-error` }));
}

export function checkbox(path, label, defaultValue = false) {
  const id = `f-${path.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const box = el("input", { id, type: "checkbox", "data-path": path, checked: Boolean(getAt(path) ?? defaultValue) });
  // a default-true flag must be written as false; a default-false flag is simply left out
  box.addEventListener("change", () => { setAt(path, box.checked ? true : defaultValue ? false : undefined); hooks.changed(); });
  return el("label", { for: id, class: "tw-check" }, box, ` ${label}`);
}

export const listParse = (v) => {
  const items = v.split(",").map((s) => s.trim()).filter(Boolean);
  return items.length ? items : undefined;
};
export const listFormat = (v) => (Array.isArray(v) ? v.join(", ") : v ?? "");

export const ID_PATTERN = /^[A-Za-z0-9_-]+$/;
export const BEST_EFFORT = { first_response: "best_effort", resolution: "best_effort" };
export const clone = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

// "New <what> id" + "Add <what>": checks the id here (empty, not an id, taken), then `add(id)` edits the
// draft and returns the data-path of the field to focus next.
export function adder(key, what, taken, add, { placeholder } = {}) {
  const id = `tw-new-${key}`;
  const field = el("input", { id, "aria-describedby": `${id}-error`, autocomplete: "off", placeholder });
  const error = el("div", { class: "tw-error tw-local-error", id: `${id}-error` });
  field.addEventListener("input", () => { error.textContent = ""; field.removeAttribute("aria-invalid"); });
  const go = () => {
    const value = field.value.trim();
    const problem = !value ? `Enter an id for the new ${what}.`
      : !ID_PATTERN.test(value) ? `"${value}" is not an id: use letters, digits, _ and -.`
      : taken(value) ? `There is already a ${what} "${value}".` : "";
    error.textContent = problem;
    if (problem) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
      return;
    }
    const focusPath = add(value);
    hooks.rerender();
    hooks.changed();
    document.querySelector(`[data-path="${focusPath}"]`)?.focus();
  };
  field.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); go(); } });
  return el("div", { class: "tw-row tw-adder" },
    el("div", { class: "tw-field" }, el("label", { for: id, text: `New ${what} id` }), field, error),
    el("button", { type: "button", text: `Add ${what}`, onclick: go }));
}

// A "Remove" button; after removing, focus goes to `then` (an element id) so keyboard users stay in place.
export function removeButton(label, remove, then) {
  return el("button", { type: "button", class: "tw-subtle-button", text: "Remove", "aria-label": label,
    onclick: () => { remove(); hooks.rerender(); hooks.changed(); if (then) $(then)?.focus(); } });
}

// A <datalist> of a Jira select field's option values (loaded once per field); returns its id.
export const optionLists = new Map();
export const optionValues = new Map(); // field id → its option values, once loaded
export const optionProblems = new Map(); // field id → why Jira did not list its options
export function optionsList(fieldId) {
  if (!fieldId) return undefined;
  const id = `tw-options-${fieldId.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  if (!optionLists.has(fieldId)) {
    const list = el("datalist", { id });
    document.body.append(list);
    optionLists.set(fieldId, api("GET", `/admin/site/fields/${encodeURIComponent(fieldId)}/options`)
      .then((r) => {
        if (r.message) optionProblems.set(fieldId, r.message);
        return r.options.filter((o) => !o.disabled).map((o) => o.value);
      })
      .catch((err) => { optionProblems.set(fieldId, err.message); return []; })
      .then((values) => {
        list.replaceChildren(...values.map((value) => el("option", { value })));
        list.dataset.loaded = "true";
        optionValues.set(fieldId, values);
        return values;
      }));
  }
  return id;
}

export function fieldName(fieldId) {
  return state.site.fields.find((f) => f.id === fieldId)?.name || fieldId;
}

// A line naming the values Jira offers for a field (filled in when they arrive).
export function optionsHint(fieldId) {
  const hint = el("p", { class: "tw-subtlest tw-options-hint" });
  if (!fieldId) return hint;
  optionsList(fieldId);
  optionLists.get(fieldId).then((values) => {
    hint.textContent = values.length ? `${fieldName(fieldId)} offers: ${values.join(", ")}` : optionProblems.get(fieldId) || "";
  });
  return hint;
}

// The site's fields for a picker: custom fields by name (their id after it, for admins who know ids).
export function fieldOptions() {
  return state.site.fields.map((f) => [f.id, f.custom ? `${f.name} (custom field ${f.id})` : `${f.name} (${f.id})`]);
}

