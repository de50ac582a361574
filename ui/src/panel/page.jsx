// The issue SLA panel: loads what is due from the page API and renders it (panel/view.js) with a clock
// that moves each few seconds; refreshes from the API each minute (states change with time and events).
import { createRoot } from "react-dom/client";
import { el } from "../lib/dom.js";
import { setViewer } from "../lib/time.js";
import { api, pageContext, resize, useTransport } from "../lib/transport.js";
import { PanelBody } from "./view.jsx";

/** Re-render this often (ms): times show minutes, so a few seconds is ample. */
const TICK_MS = 5000;
/** Reload from the API this often (ms). */
const REFRESH_MS = 60000;

let root;
let banner;
let body;
let issueId = "";
let current = null; // { data, loadedAt }

function render() {
  if (!current) return;
  const now = Date.now();
  root.render(<PanelBody data={current.data} now={now} elapsed={Math.max(0, (now - current.loadedAt) / 1000)} />);
}

async function load() {
  try {
    const data = await api("GET", `/panel/${encodeURIComponent(issueId)}`);
    current = { data, loadedAt: Date.now() };
    body.setAttribute("aria-busy", "false");
    render();
    banner.className = "tw-banner";
    banner.textContent = "";
  } catch (err) {
    body.setAttribute("aria-busy", "false");
    banner.className = "tw-banner tw-danger";
    banner.textContent = `Could not load the SLA: ${err.message}`;
  }
  setTimeout(resize, 0); // after React has committed
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
export async function startPanel(transport, host = document.body) {
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
  host.prepend(shell(context.issueKey));
  root = createRoot(body);
  setInterval(render, TICK_MS);
  setInterval(load, REFRESH_MS);
  document.addEventListener("toggle", resize, true);
  await load();
}
