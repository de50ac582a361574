// The one way the pages reach Tierwise's backend and their host (Jira through Connect, or Forge): a
// transport set once by the entry point. Paths are the page API's, relative to `/api` (e.g. `/panel/1`).

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

/**
 * What a door provides:
 * - `context()`: `{timeZone, locale, issueId, issueKey}` of the Jira user and the page's issue
 * - `request(method, path, body)`: `{status, body, headers}` (headers lower-cased, values strings)
 * - `resize()`, `flag(kind, title, text)`: the host's frame size and its notifications
 */
let current = null;

export function useTransport(transport) {
  current = transport;
}

function transport() {
  if (!current) throw new Error("no transport: the page was started without its door (Connect or Forge)");
  return current;
}

export function pageContext() {
  return transport().context();
}

export async function api(method, path, body) {
  const response = await transport().request(method, path, body);
  if (response.status < 200 || response.status >= 300) throw new ApiError(response.status, response.body);
  return response.body;
}

export async function download(path, fallbackName) {
  const response = await transport().request("GET", path);
  if (response.status < 200 || response.status >= 300) throw new ApiError(response.status, response.body);
  const disposition = response.headers["content-disposition"] || "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] || fallbackName;
  const text = typeof response.body === "string" ? response.body : `${JSON.stringify(response.body, null, 2)}\n`;
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function resize() {
  transport().resize();
}

/** A host notification (Jira flag): `kind` is success, info, warning or error. */
export function flag(kind, title, text) {
  try {
    transport().flag(kind, title, text);
  } catch {
    // a flag is a courtesy: the page shows the same message itself
  }
}
