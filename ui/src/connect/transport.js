// The Connect door: Atlassian's all.js (`AP`) in the page; a fresh context token per request to `/api/...`.
const AP_MISSING = "This page must be opened inside Jira (Atlassian's AP API is missing).";

function ap() {
  if (!window.AP || !window.AP.context || !window.AP.context.getToken) throw new Error(AP_MISSING);
  return window.AP;
}

function token() {
  return new Promise((resolve, reject) => {
    try {
      ap().context.getToken((jwt) => (jwt ? resolve(jwt) : reject(new Error("Jira gave no token"))));
    } catch (err) {
      reject(err);
    }
  });
}

// AP.user.getTimeZone / getLocale: the Jira profile's settings (callbacks; absent in old hosts).
function ask(fn) {
  return new Promise((resolve) => {
    if (typeof fn !== "function") return resolve(undefined);
    fn((value) => resolve(value || undefined));
  });
}

async function readBody(response) {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return { message: text };
  }
}

const FLAG_TYPES = { success: "success", info: "info", warning: "warning", error: "error" };

/** The transport of a Connect page; `root` is the app's base path (the page's `data-api-root`). */
export function connectTransport(root = document.body.dataset.apiRoot || "") {
  return {
    door: "connect",
    async context() {
      const user = window.AP && window.AP.user;
      const [timeZone, locale] = await Promise.all([
        ask(user && user.getTimeZone && user.getTimeZone.bind(user)),
        ask(user && user.getLocale && user.getLocale.bind(user)),
      ]);
      const data = document.body.dataset;
      return { timeZone, locale, issueId: data.issueId || "", issueKey: data.issueKey || "" };
    },
    async request(method, path, body) {
      const headers = { Authorization: `JWT ${await token()}`, Accept: "application/json" };
      const init = { method, headers };
      if (body !== undefined) {
        headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      const response = await fetch(`${root}/api${path}`, init);
      const out = {};
      response.headers.forEach((value, name) => { out[name.toLowerCase()] = value; });
      return { status: response.status, headers: out, body: await readBody(response) };
    },
    resize() {
      if (window.AP && window.AP.resize) window.AP.resize();
    },
    flag(kind, title, text) {
      if (window.AP && window.AP.flag && window.AP.flag.create) {
        window.AP.flag.create({ title, body: text, type: FLAG_TYPES[kind] || "info", close: "auto" });
      }
    },
    // Follow the Jira user's theme (light, dark, match browser): all.js sets data-color-mode /
    // data-theme on <html> and keeps them in step with Jira.
    theme() {
      if (window.AP && window.AP.theming && window.AP.theming.initializeTheming) window.AP.theming.initializeTheming();
    },
  };
}
