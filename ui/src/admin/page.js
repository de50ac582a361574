// The admin settings page: a structured form and a JSON editor over one draft policy document,
// validated and previewed live by the backend; saving creates a new immutable version.
import { el } from "../lib/dom.js";
import { formatInstant, setViewer, viewerTimeZone } from "../lib/time.js";
import { ApiError, api, download, flag, pageContext, resize, useTransport } from "../lib/transport.js";
import { ADMIN_SHELL } from "./shell.js";

const $ = (id) => document.getElementById(id);
const PHASES = ["active", "mitigated", "stabilized", "paused", "closed"];
const TARGET_LABELS = { first_response: "First response", resolution: "Resolution" };
const BINDING_LABELS = {
  first_response_due: "First response due", next_update_due: "Next update due",
  resolution_due: "Resolution due", tier: "Tier", severity: "Severity",
};
const state = { draft: null, reference: null, site: { fields: [], statuses: [] }, active: null, errors: [], versions: [], settings: null };
let previewTimer = null;
let previewSeq = 0;

// --- helpers ----------------------------------------------------------------------------------

function banner(kind, text) {
  $("tw-banner").className = `tw-banner tw-${kind}`;
  $("tw-banner").textContent = text;
}

function steps(path) {
  return path.split(".").map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function getAt(path) {
  let node = state.draft;
  for (const s of steps(path)) {
    if (node === null || node === undefined) return undefined;
    node = node[s];
  }
  return node;
}

function setAt(path, value) {
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

function targetText(value) {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (value.best_effort) return "best_effort";
  if (value.duration) return value.calendar ? `${value.duration} on ${value.calendar}` : value.duration;
  return JSON.stringify(value);
}

function changed() {
  syncJson();
  schedulePreview();
}

// An input bound to a path of the draft; `parse` turns its text into the stored value.
function input(path, label, { parse = (v) => v, format = (v) => (v ?? ""), type = "text", list, help } = {}) {
  const id = `f-${path.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const field = el("input", { id, type, "data-path": path, "aria-describedby": `${id}-error`, list, value: format(getAt(path)) });
  field.addEventListener("input", () => { setAt(path, parse(field.value)); changed(); });
  return el("div", { class: "tw-field" }, el("label", { for: id, text: label }), field,
    help ? el("div", { class: "tw-subtlest", text: help }) : null, el("div", { class: "tw-error", id: `${id}-error` }));
}

function select(path, label, options, { allowEmpty = "", onchange } = {}) {
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
    changed();
  });
  return el("div", { class: "tw-field" }, el("label", { for: id, text: label }), field, el("div", { class: "tw-error", id: `${id}-error` }));
}

function checkbox(path, label, defaultValue = false) {
  const id = `f-${path.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const box = el("input", { id, type: "checkbox", "data-path": path, checked: Boolean(getAt(path) ?? defaultValue) });
  // a default-true flag must be written as false; a default-false flag is simply left out
  box.addEventListener("change", () => { setAt(path, box.checked ? true : defaultValue ? false : undefined); changed(); });
  return el("label", { for: id, class: "tw-check" }, box, ` ${label}`);
}

const listParse = (v) => {
  const items = v.split(",").map((s) => s.trim()).filter(Boolean);
  return items.length ? items : undefined;
};
const listFormat = (v) => (Array.isArray(v) ? v.join(", ") : v ?? "");

const ID_PATTERN = /^[A-Za-z0-9_-]+$/;
const BEST_EFFORT = { first_response: "best_effort", resolution: "best_effort" };
const clone = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

// "New <what> id" + "Add <what>": checks the id here (empty, not an id, taken), then `add(id)` edits the
// draft and returns the data-path of the field to focus next.
function adder(key, what, taken, add, { placeholder } = {}) {
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
    renderFormFields();
    changed();
    document.querySelector(`[data-path="${focusPath}"]`)?.focus();
  };
  field.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); go(); } });
  return el("div", { class: "tw-row tw-adder" },
    el("div", { class: "tw-field" }, el("label", { for: id, text: `New ${what} id` }), field, error),
    el("button", { type: "button", text: `Add ${what}`, onclick: go }));
}

// A "Remove" button; after removing, focus goes to `then` (an element id) so keyboard users stay in place.
function removeButton(label, remove, then) {
  return el("button", { type: "button", class: "tw-subtle-button", text: "Remove", "aria-label": label,
    onclick: () => { remove(); renderFormFields(); changed(); if (then) $(then)?.focus(); } });
}

// A <datalist> of a Jira select field's option values (loaded once per field); returns its id.
const optionLists = new Map();
const optionValues = new Map(); // field id → its option values, once loaded
const optionProblems = new Map(); // field id → why Jira did not list its options
function optionsList(fieldId) {
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

function fieldName(fieldId) {
  return state.site.fields.find((f) => f.id === fieldId)?.name || fieldId;
}

// A line naming the values Jira offers for a field (filled in when they arrive).
function optionsHint(fieldId) {
  const hint = el("p", { class: "tw-subtlest tw-options-hint" });
  if (!fieldId) return hint;
  optionsList(fieldId);
  optionLists.get(fieldId).then((values) => {
    hint.textContent = values.length ? `${fieldName(fieldId)} offers: ${values.join(", ")}` : optionProblems.get(fieldId) || "";
  });
  return hint;
}

// --- the form ---------------------------------------------------------------------------------

function renderSeverities() {
  const severities = state.draft.severities || [];
  $("tw-severities").replaceChildren(...severities.map((sev, i) =>
    el("div", { class: "tw-row", "data-severity": sev.id },
      input(`severities.${i}.name`, `${sev.id} name`),
      input(`severities.${i}.aliases`, `${sev.id} aliases (comma-separated)`, { parse: listParse, format: listFormat }),
      severities.length > 1 ? removeButton(`Remove severity ${sev.id}`, () => {
        state.draft.severities.splice(i, 1);
        for (const tier of Object.values(state.draft.tiers || {})) delete tier[sev.id];
      }, "tw-new-severity") : null)),
  adder("severity", "severity", (id) => severities.some((s) => s.id === id), (id) => {
    const list = (state.draft.severities ||= []);
    const last = list[list.length - 1]?.id;
    list.push({ id, name: id });
    // every tier must define every severity: start from the least severe one's targets
    for (const tier of Object.values(state.draft.tiers || {})) tier[id] = clone(tier[last]) || { ...BEST_EFFORT };
    return `severities.${list.length - 1}.name`;
  }, { placeholder: "sev5" }));
}

function renderTiers() {
  const severities = (state.draft.severities || []).map((s) => s.id);
  const sections = Object.entries(state.draft.tiers || {}).map(([tierId, tier]) => {
    const cadencePhases = [...new Set(severities.flatMap((sev) => Object.keys(tier[sev]?.update_cadence || {})))];
    if (!cadencePhases.includes("active")) cadencePhases.unshift("active");
    const head = el("tr", {}, el("th", { scope: "col", text: "Severity" }),
      el("th", { scope: "col", text: "First response" }),
      cadencePhases.map((p) => el("th", { scope: "col", text: `Update (${p})` })),
      el("th", { scope: "col", text: "Resolution" }), el("th", { scope: "col", text: "Flags" }));
    const rows = severities.map((sev) => {
      const base = `tiers.${tierId}.${sev}`;
      const cell = (path, label, opts) => el("td", {}, input(path, label, opts));
      return el("tr", {},
        el("th", { scope: "row", text: sev }),
        cell(`${base}.first_response`, `${tierId} ${sev} first response`, { format: targetText }),
        cadencePhases.map((p) => cell(`${base}.update_cadence.${p}`, `${tierId} ${sev} update (${p})`,
          { format: targetText, parse: (v) => v.trim() || undefined })),
        cell(`${base}.resolution`, `${tierId} ${sev} resolution`, { format: targetText }),
        el("td", {}, checkbox(`${base}.eta_required`, "ETA in replies"), checkbox(`${base}.page_on_call`, "Page on-call")));
    });
    const tiers = Object.keys(state.draft.tiers || {});
    return el("div", { class: "tw-tier", "data-tier": tierId },
      el("div", { class: "tw-row tw-heading-row" }, el("h3", { text: `Tier ${tierId}` }),
        tiers.length > 1 ? removeButton(`Remove tier ${tierId}`, () => { delete state.draft.tiers[tierId]; }, "tw-new-tier") : null),
      input(`tiers.${tierId}.name`, "Tier name"),
      el("div", { style: "overflow-x:auto" }, el("table", {}, el("thead", {}, head), el("tbody", {}, rows))));
  });
  const addTier = adder("tier", "tier", (id) => id in (state.draft.tiers || {}), (id) => {
    const tiers = (state.draft.tiers ||= {});
    const model = Object.values(tiers).pop() || {};
    const fresh = { name: id };
    for (const sev of severities) fresh[sev] = clone(model[sev]) || { ...BEST_EFFORT };
    tiers[id] = fresh;
    return `tiers.${id}.name`;
  }, { placeholder: "gold" });
  $("tw-tiers").replaceChildren(...sections, addTier);
  // screen readers get the per-cell labels; sighted users read the table headers
  for (const label of $("tw-tiers").querySelectorAll("td .tw-field > label")) label.classList.add("tw-sr-only");
}

function renderCalendars() {
  const regions = state.reference.holiday_regions;
  const countries = Object.entries(regions).map(([code, r]) => [code, `${r.name} (${code})`]);
  const cals = Object.entries(state.draft.calendars || {}).map(([calId, cal]) => {
    const base = `calendars.${calId}`;
    const subdivisionBox = el("div");
    const renderSubdivisions = () => {
      const country = getAt(`${base}.holidays.country`);
      const subs = Object.entries(regions[country]?.subdivisions || {}).map(([code, name]) => [code, name === code ? code : `${name} (${code})`]);
      subdivisionBox.replaceChildren(select(`${base}.holidays.subdivision`, "Subdivision", subs, { allowEmpty: "whole country" }));
    };
    renderSubdivisions();
    const hours = Object.keys(cal.hours || {}).map((key) =>
      input(`${base}.hours.${key}`, `Hours ${key}`, { format: listFormat, parse: (v) => (v.includes(",") ? listParse(v) : v.trim()) }));
    return el("div", { class: "tw-calendar", "data-calendar": calId },
      el("div", { class: "tw-row tw-heading-row" }, el("h3", { text: `Calendar ${calId}` }),
        removeButton(`Remove calendar ${calId}`, () => { delete state.draft.calendars[calId]; }, "tw-new-calendar")),
      el("div", { class: "tw-row" },
        input(`${base}.timezone`, "Time zone", { list: "tw-timezones" }),
        input(`${base}.day_length`, "Business day length", { parse: (v) => v.trim() || undefined, help: "empty: the usual open hours of a day" })),
      el("div", { class: "tw-row" }, hours),
      el("div", { class: "tw-row" },
        select(`${base}.holidays.country`, "Holidays of", countries, {
          allowEmpty: "no holidays",
          onchange: (v) => {
            if (!v) setAt(`${base}.holidays`, undefined);
            else setAt(`${base}.holidays.subdivision`, undefined);
            renderSubdivisions();
          },
        }),
        subdivisionBox),
      checkbox(`${base}.holidays.closes_desk`, "Holidays close the desk", true),
      el("div", { class: "tw-row" },
        input(`${base}.closed_dates`, "Extra closed dates (YYYY-MM-DD, comma-separated)", { parse: listParse, format: listFormat }),
        input(`${base}.open_dates`, "Extra open dates", { parse: listParse, format: listFormat })));
  });
  const addCalendar = adder("calendar", "calendar", (id) => id === "24x7" || id in (state.draft.calendars || {}), (id) => {
    (state.draft.calendars ||= {})[id] = { timezone: viewerTimeZone(), hours: { "mon-fri": "09:00-17:00" } };
    return `calendars.${id}.timezone`;
  }, { placeholder: "office" });
  $("tw-calendars").replaceChildren(...cals, addCalendar);
  $("tw-timezones").replaceChildren(...state.reference.timezones.map((tz) => el("option", { value: tz })));
}

// The site's fields for a picker: custom fields by name (their id after it, for admins who know ids).
function fieldOptions() {
  return state.site.fields.map((f) => [f.id, f.custom ? `${f.name} (custom field ${f.id})` : `${f.name} (${f.id})`]);
}

// A value → tier/severity table of a mapping rule (`values`, `organization` or `email_domain`);
// `listId` names a <datalist> of the values Jira offers.
function valuesEditor(rule, key, base, what, choices, listId) {
  const table = rule[key] || {};
  const body = el("tbody");
  const rebuild = () => {
    const next = {};
    for (const row of body.children) {
      const word = row.querySelector("input").value.trim();
      if (word) next[word] = row.querySelector("select").value;
    }
    // a field rule without values matches names and aliases; the other tables must not be empty
    if (key === "values" && !Object.keys(next).length) delete rule[key];
    else rule[key] = next;
    changed();
  };
  const addRow = (word, target) => {
    const n = body.children.length;
    const wordInput = el("input", { value: word, "aria-label": `${what} ${n + 1}`, "data-path": `${base}.${key}.${word}`, list: listId, autocomplete: "off" });
    const targetSelect = el("select", { "aria-label": `${what} ${n + 1} decides`, "data-path": `${base}.${key}.${word}` },
      choices.map(([v, t]) => el("option", { value: v, text: t })));
    targetSelect.value = target;
    wordInput.addEventListener("input", () => {
      wordInput.dataset.path = targetSelect.dataset.path = `${base}.${key}.${wordInput.value.trim()}`;
      rebuild();
    });
    targetSelect.addEventListener("change", rebuild);
    const remove = el("button", { type: "button", class: "tw-subtle-button", text: "Remove", "aria-label": `Remove ${what} ${n + 1}`,
      onclick: () => { row.remove(); rebuild(); } });
    const row = el("tr", {}, el("td", {}, wordInput), el("td", {}, targetSelect), el("td", {}, remove, el("div", { class: "tw-error" })));
    body.append(row);
    return wordInput;
  };
  for (const [word, target] of Object.entries(table)) addRow(word, target);
  const add = el("button", { type: "button", class: "tw-subtle-button", text: `Add ${what}`,
    onclick: () => addRow("", choices[0]?.[0] || "").focus() });
  return el("div", {}, el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col", text: what }),
    el("th", { scope: "col", text: "decides" }), el("th", {}))), body), add);
}

// The impact × urgency grid of a matrix rule: one severity per cell, rows and columns added and removed here.
function matrixEditor(rule, base, sevs, ruleNo) {
  const m = rule.matrix;
  m.cells ||= {};
  // rows and columns in the order Jira lists the options (Critical, High, Medium, Low), once known
  const inJiraOrder = (values, fieldId) => {
    const known = optionValues.get(fieldId) || [];
    const rank = (v) => (known.includes(v) ? known.indexOf(v) : known.length);
    return [...values].sort((a, b) => rank(a) - rank(b));
  };
  const waiting = [m.impact, m.urgency].filter((f) => f && !optionValues.has(f));
  if (waiting.length) Promise.all(waiting.map((f) => { optionsList(f); return optionLists.get(f); })).then(rerenderMapping);
  const impacts = inJiraOrder(Object.keys(m.cells), m.impact);
  const urgencies = inJiraOrder(new Set(impacts.flatMap((i) => Object.keys(m.cells[i] || {}))), m.urgency);
  const fallback = sevs[sevs.length - 1]?.[0] || "";
  const head = el("tr", {}, el("th", { scope: "col", text: "Impact ↓ · urgency →" }),
    urgencies.map((u) => el("th", { scope: "col" }, u, " ",
      removeButton(`Remove urgency ${u} from rule ${ruleNo}`, () => { for (const i of impacts) delete m.cells[i][u]; }, `tw-new-urgency-${ruleNo}`))),
    el("th", {}));
  const rows = impacts.map((imp) => el("tr", {}, el("th", { scope: "row", text: imp }),
    urgencies.map((u) => {
      const cell = el("select", { "aria-label": `Severity when impact is ${imp} and urgency is ${u}`, "data-path": `${base}.matrix.cells.${imp}.${u}` },
        el("option", { value: "", text: "—" }), sevs.map(([v, t]) => el("option", { value: v, text: t })));
      cell.value = m.cells[imp]?.[u] || "";
      cell.addEventListener("change", () => {
        if (cell.value) (m.cells[imp] ||= {})[u] = cell.value;
        else delete m.cells[imp][u];
        changed();
      });
      return el("td", {}, cell);
    }),
    el("td", {}, removeButton(`Remove impact ${imp} from rule ${ruleNo}`, () => { delete m.cells[imp]; }, `tw-new-impact-${ruleNo}`),
      el("div", { class: "tw-error" }))));
  const addLine = (kind, fieldId, add) => {
    const id = `tw-new-${kind}-${ruleNo}`;
    const field = el("input", { id, list: optionsList(fieldId), autocomplete: "off", "aria-describedby": `${id}-error` });
    const error = el("div", { class: "tw-error tw-local-error", id: `${id}-error` });
    field.addEventListener("input", () => { error.textContent = ""; field.removeAttribute("aria-invalid"); });
    const go = () => {
      const value = field.value.trim();
      const problem = !value ? `Enter an ${kind} value.` : add(value);
      error.textContent = problem || "";
      if (problem) { field.setAttribute("aria-invalid", "true"); field.focus(); return; }
      renderFormFields();
      changed();
      $(id)?.focus();
    };
    field.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); go(); } });
    return el("div", { class: "tw-row tw-adder" },
      el("div", { class: "tw-field" }, el("label", { for: id, text: `New ${kind} value (${fieldName(fieldId)})` }), field, error),
      el("button", { type: "button", text: `Add ${kind} value`, "aria-label": `Add ${kind} value to rule ${ruleNo}`, onclick: go }));
  };
  return el("div", {},
    el("div", { style: "overflow-x:auto" }, el("table", { class: "tw-matrix" }, el("thead", {}, head), el("tbody", {}, rows))),
    el("div", {},
      addLine("impact", m.impact, (v) => {
        if (v in m.cells) return `Impact "${v}" is already a row.`;
        m.cells[v] = Object.fromEntries(urgencies.map((u) => [u, fallback]));
        return "";
      }),
      addLine("urgency", m.urgency, (v) => {
        if (urgencies.includes(v)) return `Urgency "${v}" is already a column.`;
        if (!impacts.length) return "Add an impact value first.";
        for (const i of impacts) m.cells[i][v] = fallback;
        return "";
      })));
}

// Re-render the mapping after a choice that changes its shape, keeping the keyboard focus where it was.
function rerenderMapping() {
  const focused = document.activeElement?.id;
  renderMapping();
  if (focused) $(focused)?.focus();
}

const NEW_RULES = {
  field: () => ({ field: "priority", sets: "severity" }),
  matrix: () => ({ matrix: { impact: "customfield_10004", urgency: "customfield_10005", cells: {} } }),
  organization: () => ({ organization: {}, sets: "tier" }),
  email_domain: () => ({ email_domain: {}, sets: "tier" }),
};
const NEW_RULE_LABELS = { field: "Jira field", matrix: "impact × urgency matrix", organization: "JSM organization → tier", email_domain: "e-mail domain → tier" };

function renderMapping() {
  const tiers = Object.entries(state.draft.tiers || {}).map(([id, t]) => [id, t.name || id]);
  const sevs = (state.draft.severities || []).map((s) => [s.id, s.name || s.id]);
  const rules = (state.draft.mapping?.rules || []).map((rule, i) => {
    const base = `mapping.rules.${i}`;
    const no = i + 1;
    const remove = removeButton(`Remove rule ${no}`, () => { state.draft.mapping.rules.splice(i, 1); }, "tw-new-rule-kind");
    const choices = (rule.sets || (rule.matrix ? "severity" : "tier")) === "tier" ? tiers : sevs;
    let title;
    let parts;
    if ("field" in rule) {
      const hasValues = rule.values && Object.keys(rule.values).length;
      title = `Rule ${no}: Jira field → ${rule.sets || "tier"}`;
      parts = [
        el("div", { class: "tw-row" },
          select(`${base}.field`, `Rule ${no}: Jira field`, fieldOptions(), { allowEmpty: null, onchange: () => setTimeout(rerenderMapping) }),
          select(`${base}.sets`, `Rule ${no} decides`, [["severity", "severity"], ["tier", "tier"]], { allowEmpty: null, onchange: () => setTimeout(rerenderMapping) })),
        optionsHint(rule.field),
        hasValues ? null : el("p", { class: "tw-subtlest", text: `Without values, the field is matched against ${rule.sets === "severity" ? "severity names and aliases" : "tier ids and names"}.` }),
        valuesEditor(rule, "values", base, "Field value", choices, optionsList(rule.field)),
      ];
    } else if (rule.matrix) {
      title = `Rule ${no}: impact × urgency → severity`;
      parts = [
        el("div", { class: "tw-row" },
          select(`${base}.matrix.impact`, `Rule ${no}: impact field`, fieldOptions(), { allowEmpty: null, onchange: () => setTimeout(rerenderMapping) }),
          select(`${base}.matrix.urgency`, `Rule ${no}: urgency field`, fieldOptions(), { allowEmpty: null, onchange: () => setTimeout(rerenderMapping) })),
        matrixEditor(rule, base, sevs, no),
      ];
    } else if (rule.organization) {
      title = `Rule ${no}: JSM organization → tier`;
      parts = [valuesEditor(rule, "organization", base, "Organization", tiers)];
    } else if (rule.email_domain) {
      title = `Rule ${no}: reporter's e-mail domain → tier`;
      parts = [valuesEditor(rule, "email_domain", base, "E-mail domain", tiers)];
    } else {
      title = `Rule ${no}: not editable here (use the JSON editor)`;
      parts = [];
    }
    return el("div", { class: "tw-rule", "data-rule": i, "data-path": base },
      el("div", { class: "tw-row tw-heading-row" }, el("h3", { text: title }), remove), ...parts, el("div", { class: "tw-error" }));
  });
  const kind = el("select", { id: "tw-new-rule-kind" }, Object.entries(NEW_RULE_LABELS).map(([v, t]) => el("option", { value: v, text: t })));
  const addRule = el("div", { class: "tw-row tw-adder" },
    el("div", { class: "tw-field" }, el("label", { for: "tw-new-rule-kind", text: "New rule" }), kind),
    el("button", { type: "button", text: "Add rule", onclick: () => {
      const mapping = (state.draft.mapping ||= {});
      (mapping.rules ||= []).push(NEW_RULES[kind.value]());
      renderMapping();
      changed();
      $("tw-mapping").querySelector(`[data-rule="${mapping.rules.length - 1}"] select, [data-rule="${mapping.rules.length - 1}"] button`)?.focus();
    } }));
  $("tw-mapping").replaceChildren(...rules, addRule,
    el("div", { class: "tw-row" },
      select("mapping.default_tier", "Default tier", tiers),
      select("mapping.default_severity", "Default severity", sevs)));
}

function renderPhases() {
  const statuses = state.site.statuses;
  const phases = [...new Set([...PHASES.filter((p) => p !== "active"), ...Object.keys(state.draft.phases || {})])];
  $("tw-phases").replaceChildren(...phases.map((phase) => {
    const path = `phases.${phase}.statuses`;
    if (!statuses.length) return input(path, `Statuses meaning ${phase} (comma-separated)`, { parse: listParse, format: listFormat });
    const chosen = new Set((getAt(path) || []).map((s) => s.toLowerCase()));
    const boxes = statuses.map((s) => {
      const id = `f-phase-${phase}-${s.id || s.name}`.replace(/[^A-Za-z0-9_-]/g, "_");
      const box = el("input", { type: "checkbox", id, checked: chosen.has(s.name.toLowerCase()) });
      box.addEventListener("change", () => {
        const now = new Set((getAt(path) || []));
        [...now].filter((n) => n.toLowerCase() === s.name.toLowerCase()).forEach((n) => now.delete(n));
        if (box.checked) now.add(s.name);
        setAt(path, now.size ? [...now] : undefined);
        if (!now.size && !getAt(`phases.${phase}.categories`)) setAt(`phases.${phase}`, undefined);
        changed();
      });
      return el("label", { for: id, class: "tw-check" }, box, ` ${s.name}`);
    });
    return el("fieldset", { "data-path": path }, el("legend", { text: `Statuses meaning ${phase}` }),
      el("div", { class: "tw-row" }, boxes), el("div", { class: "tw-error" }));
  }));
}

function renderActions() {
  const actions = state.draft.actions || [];
  if (!actions.length) {
    $("tw-actions").replaceChildren(el("p", { class: "tw-subtlest", text: "No actions. Add them in the JSON editor (note, transition, set_field, page)." }));
    return;
  }
  $("tw-actions").replaceChildren(...actions.map((a, i) => {
    const base = `actions.${i}`;
    const params = Object.keys(a.params || {}).map((p) => input(`${base}.params.${p}`, `${a.kind} ${p === "name" ? "transition name" : p}`));
    return el("div", { class: "tw-row", "data-action": i }, el("p", { text: `On ${a.on}: ${a.kind}` }), params);
  }));
}

function renderBindings() {
  const bindings = state.settings.field_bindings || {};
  const options = fieldOptions();
  $("tw-bindings").replaceChildren(...state.reference.binding_keys.map((key) => {
    const id = `s-binding-${key}`;
    const current = bindings[key] || "";
    const field = el("select", { id, "data-settings-path": `field_bindings.${key}`, "aria-describedby": `${id}-error` },
      el("option", { value: "", text: "— not written to Jira —" }),
      current && !options.some(([v]) => v === current) ? el("option", { value: current, text: current }) : null,
      options.map(([v, t]) => el("option", { value: v, text: t })));
    field.value = current;
    return el("div", { class: "tw-field" }, el("label", { for: id, text: BINDING_LABELS[key] || key }), field, el("div", { class: "tw-error", id: `${id}-error` }));
  }));
  $("s-oncall").value = state.settings.oncall_webhook_url || "";
}

function renderFormFields() {
  for (const path of ["name", "id"]) $(`f-${path}`).value = getAt(path) ?? "";
  renderSeverities();
  renderTiers();
  renderCalendars();
  renderMapping();
  renderPhases();
  renderActions();
}

function renderForm() {
  renderFormFields();
  syncJson(true);
}

function syncJson(force = false) {
  const area = $("tw-json");
  if (force || document.activeElement !== area) area.value = JSON.stringify(state.draft, null, 2);
}

function setDraft(document) {
  state.draft = document;
  if (state.reference.presets.some((p) => p.id === document.id)) $("tw-preset").value = document.id;
  renderForm();
  schedulePreview(0);
}

// --- validation and preview --------------------------------------------------------------------

function showErrors(errors) {
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

function schedulePreview(delay = 350) {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(runPreview, delay);
}

async function runPreview() {
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

// --- saving, versions ---------------------------------------------------------------------------

async function save() {
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

async function saveSettings() {
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

async function loadActive(replaceDraft = true) {
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

async function loadVersions() {
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

// --- start ----------------------------------------------------------------------------------------

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
    clearTimeout(previewTimer);
    previewTimer = setTimeout(() => {
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
    }, 400);
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
