// The policy form: severities, targets per tier, calendars, mapping, phases, actions, field bindings,
// and the JSON editor, all over the one draft (fields.js); every edit re-validates and re-previews.
import { el } from "../lib/dom.js";
import { viewerTimeZone } from "../lib/time.js";
import {
  $, BEST_EFFORT, adder, checkbox, clone, fieldOptions, getAt, hooks, input, listFormat, listParse, removeButton, select,
  setAt, state, targetText,
} from "./fields.js";
import { renderMapping } from "./mapping.js";
import { schedulePreview } from "./preview.js";

const PHASES = ["active", "mitigated", "stabilized", "paused", "closed"];
const TARGET_LABELS = { first_response: "First response", resolution: "Resolution" };
const BINDING_LABELS = {
  first_response_due: "First response due", next_update_due: "Next update due",
  resolution_due: "Resolution due", tier: "Tier", severity: "Severity",
};

export function changed() {
  syncJson();
  schedulePreview();
}


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
      el("div", { class: "tw-scroll-x" }, el("table", {}, el("thead", {}, head), el("tbody", {}, rows))));
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

export function renderBindings() {
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

export function renderFormFields() {
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

export function syncJson(force = false) {
  const area = $("tw-json");
  if (force || document.activeElement !== area) area.value = JSON.stringify(state.draft, null, 2);
}

export function setDraft(document) {
  state.draft = document;
  if (state.reference.presets.some((p) => p.id === document.id)) $("tw-preset").value = document.id;
  renderForm();
  schedulePreview(0);
}


hooks.changed = changed;
hooks.rerender = renderFormFields;
