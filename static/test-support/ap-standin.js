// A minimal stand-in for Atlassian's all.js, for browser tests only (never served in production pages:
// tests answer the all.js URL with this file). The test sets
// window.__TW_AP = {token, user, timeZone, locale, context, colorMode}.
(function () {
  const config = () => window.__TW_AP || {};
  window.__TW_AP_FLAGS = [];
  window.AP = {
    context: {
      getToken(cb) { setTimeout(() => cb(config().token), 0); },
      getContext(cb) { setTimeout(() => cb(config().context || {}), 0); },
    },
    user: {
      getCurrentUser(cb) { setTimeout(() => cb({ atlassianAccountId: config().user }), 0); },
      // the Jira profile's time zone (an IANA id) and locale (Jira's `en_US` form)
      getTimeZone(cb) { setTimeout(() => cb(config().timeZone), 0); },
      getLocale(cb) { setTimeout(() => cb(config().locale), 0); },
    },
    flag: {
      // like all.js: a Jira flag outside the iframe; recorded for the test
      create(options) {
        window.__TW_AP_FLAGS.push(options);
        return { close() {} };
      },
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
