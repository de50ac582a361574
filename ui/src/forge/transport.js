// The Forge door: Custom UI talks to its host through @forge/bridge. Calls go to the remote with
// `invokeRemote` (Forge signs a Forge Invocation Token and appends the path to the remote's baseUrl);
// the user's time zone, locale, theme and the page's issue come from `view.getContext()`.
import { invokeRemote, showFlag, view } from "@forge/bridge";

/** Where Tierwise serves the page APIs to Forge: `/forge/api/<path>` answers what `/api/<path>` does. */
export const FORGE_API_PREFIX = "/forge/api";

let flags = 0;

function lowerCaseHeaders(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers || {})) out[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : String(value);
  return out;
}

export function forgeTransport() {
  let context = null;
  const loadContext = () => (context ||= view.getContext());
  return {
    door: "forge",
    async context() {
      const c = await loadContext();
      const issue = (c.extension && c.extension.issue) || {};
      return { timeZone: c.timezone, locale: c.locale, issueId: issue.id ? String(issue.id) : "", issueKey: issue.key || "" };
    },
    async request(method, path, body) {
      let response;
      try {
        response = await invokeRemote({ path: FORGE_API_PREFIX + path, method, ...(body === undefined ? {} : { body }) });
      } catch (err) {
        // Forge rejects when the remote answers 401 or an invalid response
        return { status: 401, headers: {}, body: { message: (err && err.message) || "Forge refused the call" } };
      }
      return { status: response.status, headers: lowerCaseHeaders(response.headers), body: response.body ?? null };
    },
    resize() {
      // Custom UI frames are resized by the host (iframe-resizer inside @forge/bridge)
    },
    flag(kind, title, text) {
      flags += 1;
      showFlag({ id: `tierwise-${flags}`, title, description: text, type: kind, isAutoDismiss: kind !== "error" });
    },
    // Jira's light/dark theme: the host sets data-color-mode on <html> and keeps it in step.
    theme() {
      view.theme.enable();
    },
  };
}
