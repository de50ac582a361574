// The mapping rules of the form: field rules with the values Jira offers, impact × urgency grids,
// organization and e-mail-domain tables.
import { el } from "../lib/dom.js";
import { $, fieldName, fieldOptions, hooks, optionLists, optionValues, optionsHint, optionsList, removeButton, select, state } from "./fields.js";

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
    hooks.changed();
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
        hooks.changed();
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
      hooks.rerender();
      hooks.changed();
      $(id)?.focus();
    };
    field.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); go(); } });
    return el("div", { class: "tw-row tw-adder" },
      el("div", { class: "tw-field" }, el("label", { for: id, text: `New ${kind} value (${fieldName(fieldId)})` }), field, error),
      el("button", { type: "button", text: `Add ${kind} value`, "aria-label": `Add ${kind} value to rule ${ruleNo}`, onclick: go }));
  };
  return el("div", {},
    el("div", { class: "tw-scroll-x" }, el("table", { class: "tw-matrix" }, el("thead", {}, head), el("tbody", {}, rows))),
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

export function renderMapping() {
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
      hooks.changed();
      $("tw-mapping").querySelector(`[data-rule="${mapping.rules.length - 1}"] select, [data-rule="${mapping.rules.length - 1}"] button`)?.focus();
    } }));
  $("tw-mapping").replaceChildren(...rules, addRule,
    el("div", { class: "tw-row" },
      select("mapping.default_tier", "Default tier", tiers),
      select("mapping.default_severity", "Default severity", sevs)));
}
