// A stand-in for what Forge's hosting puts in a Custom UI page before the app's own scripts:
// `window.__bridge`, the object `@forge/bridge` calls (`callBridge(name, payload)`). Browser tests only:
// the page under test is the production bundle with the real `@forge/bridge`; each call goes to the
// test's host (`standin/forge_ui.py`, exposed to the page as `window.__twForgeHost`) and its answer comes
// back as the bridge's promise. `enableTheming` puts the user's colour mode on <html> as the host does.
(function () {
  window.__TW_FORGE_CALLS = [];
  // what the page's content security policy blocked (the tests serve Forge's strict default)
  window.__TW_CSP_VIOLATIONS = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    window.__TW_CSP_VIOLATIONS.push(`${e.violatedDirective} ${e.blockedURI || "inline"}`);
  });
  async function host(name, payload) {
    const answer = await window.__twForgeHost(name, payload === undefined ? null : payload);
    if (!answer || !answer.ok) throw new Error((answer && answer.message) || `bridge call ${name} failed`);
    return answer.value;
  }
  window.__bridge = {
    async callBridge(name, payload) {
      window.__TW_FORGE_CALLS.push(name);
      const value = await host(name, payload);
      if (name === "enableTheming") {
        const context = await host("getContext");
        const mode = (context.theme && context.theme.colorMode) || "light";
        document.documentElement.dataset.colorMode = mode;
        document.documentElement.dataset.theme = `dark:dark light:light colorMode:${mode}`;
      }
      return value;
    },
  };
})();
