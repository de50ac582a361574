// The issue SLA panel: what is due, a live countdown, the state in words and colour, and why.
import { el } from "../lib/dom.js";
import { formatInstant, setViewer, viewerTimeZone } from "../lib/time.js";
import { api, pageContext, resize, useTransport } from "../lib/transport.js";

const STATES = {
  on_track: { icon: "✓", text: "On track" },
  due_soon: { icon: "⏰", text: "Due soon" },
  breached: { icon: "✖", text: "Breached" },
  met: { icon: "✔", text: "Met" },
  paused: { icon: "⏸", text: "Paused" },
  none: { icon: "–", text: "No target" },
  at_closure: { icon: "⏹", text: "At closure" },
};
let body;
let banner;
let issueId = "";
let countdowns = [];

function lozenge(t, phase) {
  const state = t.state;
  const s = STATES[state] || { icon: "?", text: state };
  let text = s.text;
  if (state === "none") {
    // "none" means different things: say which
    if (phase === "closed") text = "Not due";
    else if (t.id === "next_update") text = "Not started";
    else text = "Best effort";
  }
  return el("span", { class: `tw-lozenge tw-state-${state}`, "data-state": state },
    el("span", { "aria-hidden": "true", text: s.icon }), text);
}

function duration(seconds) {
  const sign = seconds < 0 ? "-" : "";
  let s = Math.abs(Math.round(seconds));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  const parts = d ? [`${d}d`, `${h}h`, `${m}m`] : h ? [`${h}h`, `${m}m`, `${s}s`] : [`${m}m`, `${s}s`];
  return sign + parts.join(" ");
}

function tick() {
  const now = Date.now();
  for (const { node, due } of countdowns) {
    const left = (due - now) / 1000;
    node.textContent = left >= 0 ? `${duration(left)} left` : `${duration(-left)} overdue`;
  }
}

function targetRow(t, phase) {
  const row = el("div", { class: "tw-target", "data-target": t.id, role: "group", "aria-label": t.label });
  row.append(el("span", { class: "tw-target-name", text: t.label }), lozenge(t, phase));
  let line;
  if (t.state === "met") {
    line = `Met ${formatInstant(t.met_at)}`;
  } else if (t.state === "paused") {
    line = t.remaining_seconds != null ? `Clock stopped with ${duration(t.remaining_seconds)} of business time left` : "Clock stopped";
  } else if (t.due) {
    const countdown = el("span", { class: "tw-countdown", "data-countdown": t.id, role: "timer", "aria-live": "off" });
    countdowns.push({ node: countdown, due: Date.parse(t.due) });
    row.append(el("span", { class: "tw-due" }, "Due ", el("time", { datetime: t.due, text: formatInstant(t.due) }), " · ", countdown));
    return row;
  } else if (t.state === "at_closure") {
    line = "Due when the ticket is closed";
  } else if (t.id === "next_update") {
    line = "Starts with the first reply";
  } else {
    line = t.note || "No timed target (best effort)";
  }
  row.append(el("span", { class: "tw-due", text: line }));
  return row;
}

function why(data) {
  const w = data.why;
  const items = [
    el("li", { text: `Tier: ${w.tier_rule || "default"}` }),
    el("li", { text: `Severity: ${w.severity_rule || "default"}` }),
    el("li", { text: `Policy: ${w.policy.name} (${w.policy.is_default ? "built-in default" : `version ${w.policy.version}`})` }),
  ];
  for (const c of w.calendars) {
    const hol = c.holidays ? ` · holidays ${c.holidays.country}${c.holidays.subdivision ? "/" + c.holidays.subdivision : ""}${c.holidays.closes_desk ? "" : " (desk stays open)"}` : "";
    const hours = typeof c.hours === "string" ? c.hours : Object.entries(c.hours).map(([k, v]) => `${k} ${v}`).join(", ");
    items.push(el("li", { text: `Calendar ${c.id}: ${c.timezone}, ${hours}${hol}` }));
    for (const h of c.upcoming_holidays) items.push(el("li", { class: "tw-subtlest", text: `Closed ${h.date}: ${h.name}` }));
  }
  for (const p of w.pauses) {
    items.push(el("li", { text: p.end ? `Paused ${formatInstant(p.start)} – ${formatInstant(p.end)}` : `Paused since ${formatInstant(p.start)}` }));
  }
  return el("details", { id: "tw-why" }, el("summary", { text: "Why these targets" }), el("ul", { class: "tw-list" }, items));
}

function audit(entries) {
  if (!entries.length) return el("p", { class: "tw-subtlest", text: "No actions yet." });
  return el("ol", { class: "tw-list", id: "tw-audit", reversed: true },
    entries.map((e) => el("li", {}, el("time", { datetime: e.at, text: formatInstant(e.at) }), ` ${e.action.replaceAll("_", " ")}`,
      e.summary ? el("span", { class: "tw-subtlest", text: ` — ${e.summary}` }) : null)));
}

function render(data) {
  countdowns = [];
  body.replaceChildren();
  body.setAttribute("aria-busy", "false");
  if (!data.tracked) {
    body.append(el("p", { class: "tw-subtle", text: data.message }));
    return;
  }
  body.append(el("div", { class: "tw-chips" },
    el("span", { class: "tw-chip", id: "tw-tier", text: `Tier: ${data.tier.name}` }),
    el("span", { class: "tw-chip", id: "tw-severity", title: data.severity.definition, text: `Severity: ${data.severity.name}` }),
    el("span", { class: "tw-chip", text: `Phase: ${data.phase}` })));
  body.append(el("div", { id: "tw-targets" }, data.targets.map((t) => targetRow(t, data.phase))));
  body.append(el("p", { class: "tw-subtlest", text: `Times in your time zone (${viewerTimeZone()}).` }));
  body.append(why(data));
  body.append(el("h3", { text: "Recent actions" }), audit(data.audit));
  tick();
  resize();
}

async function load() {
  try {
    render(await api("GET", `/panel/${encodeURIComponent(issueId)}`));
    banner.className = "tw-banner";
    banner.textContent = "";
  } catch (err) {
    body.setAttribute("aria-busy", "false");
    banner.className = "tw-banner tw-danger";
    banner.textContent = `Could not load the SLA: ${err.message}`;
    resize();
  }
}

function shell(issueKey) {
  const main = el("main", { id: "tw-panel", "aria-label": `SLA of ${issueKey || "this issue"}` },
    el("div", { id: "tw-banner", class: "tw-banner", role: "status", "aria-live": "polite" }),
    el("div", { id: "tw-panel-body", "aria-busy": "true" }, el("p", { class: "tw-subtle", text: "Loading SLA…" })));
  banner = main.querySelector("#tw-banner");
  body = main.querySelector("#tw-panel-body");
  return main;
}

/** Start the panel in `transport`'s door for the issue the door names (Connect URL, Forge extension context). */
export async function startPanel(transport, root = document.body) {
  useTransport(transport);
  transport.theme();
  let context = {};
  try {
    context = await pageContext();
  } catch {
    // no zone, locale or issue from the host: say so below
  }
  setViewer(context);
  issueId = context.issueId || "";
  root.prepend(shell(context.issueKey));
  setInterval(tick, 1000);
  setInterval(load, 60000); // states change with time and events: refresh a minute at a time
  document.addEventListener("toggle", resize, true);
  await load();
}
