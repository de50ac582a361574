// Times as the Jira user reads them: in the time zone and locale of their Jira profile (handed over by the
// door: Connect `AP.user`, Forge `view.getContext()`), never the browser's guess.
const viewer = { timeZone: undefined, locale: undefined };

// Jira says `en_US` (Connect) or `en-US` (Forge); Intl wants a BCP 47 tag.
function languageTag(locale) {
  if (!locale) return undefined;
  const tag = String(locale).replace(/_/g, "-");
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

function validZone(zone) {
  if (!zone) return undefined;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return zone;
  } catch {
    return undefined;
  }
}

/** Use the Jira user's zone and locale from now on (an unknown value falls back to the browser's). */
export function setViewer({ timeZone, locale } = {}) {
  viewer.timeZone = validZone(timeZone);
  viewer.locale = languageTag(locale);
}

export function viewerTimeZone() {
  return viewer.timeZone || Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function viewerLocale() {
  return viewer.locale || Intl.DateTimeFormat().resolvedOptions().locale;
}

export function formatInstant(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(viewer.locale, {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
    timeZone: viewerTimeZone(),
  }).format(new Date(iso));
}
