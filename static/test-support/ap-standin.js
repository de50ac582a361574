// A minimal stand-in for Atlassian's all.js, for browser tests only (never served in production pages:
// tests answer the all.js URL with this file). The test sets window.__TW_AP = {token, user, context}.
(function () {
  const config = () => window.__TW_AP || {};
  window.AP = {
    context: {
      getToken(cb) { setTimeout(() => cb(config().token), 0); },
      getContext(cb) { setTimeout(() => cb(config().context || {}), 0); },
    },
    user: {
      getCurrentUser(cb) { setTimeout(() => cb({ atlassianAccountId: config().user }), 0); },
    },
    theming: {
      // like all.js: the host's colour mode lands on <html> (only when the test gives one)
      initializeTheming() {
        window.__TW_AP_THEMING = true;
        const mode = config().colorMode;
        if (mode) {
          document.documentElement.dataset.colorMode = mode;
          document.documentElement.dataset.theme = `${mode}:${mode}`;
        }
      },
    },
    resize() { window.__TW_AP_RESIZES = (window.__TW_AP_RESIZES || 0) + 1; },
    sizeToParent() {},
  };
})();
