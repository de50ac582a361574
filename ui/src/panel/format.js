// What the panel says about time: durations in at most two units and no seconds (as JSM's own SLA
// panel), deadlines as "today 10:00" / "tomorrow 10:00" / "Tue 3 Dec 10:00" in the Jira user's zone.
import { viewerLocale, viewerTimeZone } from "../lib/time.js";

/** "2d 4h", "3h 10m", "12m", "< 1m": at most two units, never seconds. */
export function duration(seconds) {
  const total = Math.floor(Math.abs(seconds) / 60);
  if (total < 1) return "< 1m";
  const d = Math.floor(total / 1440);
  const h = Math.floor((total % 1440) / 60);
  const m = total % 60;
  if (d) return h ? `${d}d ${h}h` : `${d}d`;
  if (h) return m ? `${h}h ${m}m` : `${h}h`;
  return `${m}m`;
}

function dayNumber(date) {
  // the calendar day of `date` in the viewer's zone, as a number comparable across days
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: viewerTimeZone(), year: "numeric", month: "2-digit", day: "2-digit" })
    .format(date);
  return Math.round(Date.parse(`${parts}T00:00:00Z`) / 86400000);
}

/** The clock time of `iso` in the viewer's zone ("10:00"). */
export function clockTime(iso) {
  return new Intl.DateTimeFormat(viewerLocale(), { hour: "2-digit", minute: "2-digit", timeZone: viewerTimeZone() })
    .format(new Date(iso));
}

/** "today 10:00", "tomorrow 10:00", "yesterday 21:05", else "Tue, 3 Dec, 10:00" (viewer's zone and locale). */
export function when(iso, now = Date.now()) {
  const days = dayNumber(new Date(iso)) - dayNumber(new Date(now));
  if (Math.abs(days) <= 1) {
    const word = new Intl.RelativeTimeFormat(viewerLocale(), { numeric: "auto" }).format(days, "day");
    return `${word} ${clockTime(iso)}`;
  }
  return new Intl.DateTimeFormat(viewerLocale(), {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZone: viewerTimeZone(),
  }).format(new Date(iso));
}
