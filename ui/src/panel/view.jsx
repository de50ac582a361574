// The SLA panel's view (React + Atlaskit): the top line first, then one row per target with a deadline,
// the rest collapsed into a line, then why and the recent actions. Pure: data + the current time in.
import Lozenge from "@atlaskit/lozenge";
import SectionMessage from "@atlaskit/section-message";
import { CalendarIcon, CheckCircleIcon, ClockIcon, StatusErrorIcon, StatusWarningIcon, VideoPauseIcon } from "./icons.js";
import { formatInstant, viewerTimeZone } from "../lib/time.js";
import { clockTime, duration, when } from "./format.js";

/** What a row looks like per shown state: Atlaskit lozenge appearance, icon, words. */
const LOOKS = {
  on_track: { appearance: "success", Icon: ClockIcon, word: "On track" },
  due_soon: { appearance: "warning", Icon: StatusWarningIcon, word: "Due soon" },
  urgent: { appearance: "danger", Icon: StatusWarningIcon, word: "Almost due", bold: true },
  breached: { appearance: "danger", Icon: StatusErrorIcon, word: "Breached", bold: true },
  late: { appearance: "danger", Icon: StatusErrorIcon, word: "Met late" },
  met: { appearance: "success", Icon: CheckCircleIcon, word: "Met" },
  paused: { appearance: "discovery", Icon: VideoPauseIcon, word: "Paused" },
  at_closure: { appearance: "neutral", Icon: CalendarIcon, word: "At closure" },
};
/** How a target is met, for "Answered 21:05". */
const MET_VERB = { first_response: "Answered", next_update: "Updated", resolution: "Resolved" };

/** Business time left on a running target now (it runs only while the desk is open). */
function businessLeft(t, elapsedSeconds) {
  if (t.remaining_seconds == null) return null;
  return t.open_now === false ? t.remaining_seconds : Math.max(0, t.remaining_seconds - elapsedSeconds);
}

/** The look of target `t`: one of LOOKS' keys. */
export function lookOf(t) {
  if (t.state === "breached") return t.met_at ? "late" : "breached";
  if (t.state === "on_track" || t.state === "due_soon") {
    if (t.warning === "red") return "urgent";
    if (t.warning === "amber" || t.state === "due_soon") return "due_soon";
    return "on_track";
  }
  return LOOKS[t.state] ? t.state : null; // "none": no deadline, collapsed
}

function StateLozenge({ t, look, countdown }) {
  const { appearance, Icon, word, bold } = LOOKS[look];
  return (
    <span className="tw-state" data-state={look === "urgent" || look === "due_soon" ? "due_soon" : t.state} data-look={look} data-warning={t.warning || undefined}>
      <Lozenge appearance={appearance} isBold={!!bold} maxWidth={320}>
        <span className="tw-lozenge-content">
          <span aria-hidden="true" className="tw-state-icon"><Icon label="" size="small" color="currentColor" /></span>
          {word}
          {countdown ? <>{" · "}<span className="tw-countdown" data-countdown={t.id} role="timer" aria-live="off">{countdown}</span></> : null}
        </span>
      </Lozenge>
    </span>
  );
}

function Due({ iso }) {
  return <time dateTime={iso}>{formatInstant(iso)}</time>;
}

function TargetRow({ t, now, elapsed }) {
  const look = lookOf(t);
  let countdown = null;
  let line;
  if (look === "met" || look === "late") {
    const verb = MET_VERB[t.id] || "Met";
    line = look === "late"
      ? <>{verb} <time dateTime={t.met_at} title={formatInstant(t.met_at)}>{clockTime(t.met_at)}</time> · {duration(t.late_seconds)} late (was due <Due iso={t.due} />)</>
      : <>{verb} <Due iso={t.met_at} /></>;
  } else if (look === "paused") {
    countdown = t.remaining_seconds != null ? `${duration(t.remaining_seconds)} left` : null;
    line = t.remaining_seconds != null ? `Clock stopped with ${duration(t.remaining_seconds)} of business time left` : "Clock stopped";
  } else if (look === "breached") {
    countdown = `${duration((now - Date.parse(t.due)) / 1000)} overdue`;
    line = <>Was due <Due iso={t.due} /></>;
  } else if (look === "at_closure") {
    line = "Due when the ticket is closed";
  } else {
    countdown = `${duration(businessLeft(t, elapsed))} left`;
    line = <>Due <Due iso={t.due} /> · in {duration((Date.parse(t.due) - now) / 1000)}{t.open_now === false ? " · outside business hours now" : ""}</>;
  }
  return (
    <div className="tw-target" data-target={t.id} role="group" aria-label={t.label}>
      <span className="tw-target-name">{t.label}</span>
      <StateLozenge t={t} look={look} countdown={countdown} />
      <span className="tw-due">{line}</span>
    </div>
  );
}

/** "First response due tomorrow 10:00 · in 12h 28m · 1h business time left · outside business hours now" */
export function topLine(targets, now, elapsed) {
  const running = targets.filter((t) => t.due && !t.met_at && (t.state === "on_track" || t.state === "due_soon" || t.state === "breached"))
    .sort((a, b) => Date.parse(a.due) - Date.parse(b.due));
  const next = running[0];
  if (!next) {
    const paused = targets.find((t) => t.state === "paused");
    if (paused) return `Clock stopped: ${paused.label.toLowerCase()} has ${duration(paused.remaining_seconds || 0)} of business time left`;
    const all = targets.filter((t) => lookOf(t));
    if (all.length && all.every((t) => t.state === "met")) return "Every target met";
    return null;
  }
  const wall = (Date.parse(next.due) - now) / 1000;
  if (next.state === "breached") return `${next.label} overdue since ${when(next.due, now)} · ${duration(-wall)}`;
  const parts = [`${next.label} due ${when(next.due, now)}`, `in ${duration(wall)}`];
  const left = businessLeft(next, elapsed);
  if (left != null && Math.abs(wall - left) >= 60) parts.push(`${duration(left)} business time left`);
  if (next.open_now === false) parts.push("outside business hours now");
  return parts.join(" · ");
}

/** A mapping rule's text with its result named ("… → sev1" reads "… → Critical"). */
function named(rule, { id, name }) {
  if (!rule || !id || !name) return rule;
  return rule.endsWith(`→ ${id}`) ? `${rule.slice(0, -id.length)}${name}` : rule;
}

function Why({ data }) {
  const w = data.why;
  const items = [
    <li key="tier">Tier: {w.tier_rule || "default"}</li>,
    <li key="severity">Severity: {named(w.severity_rule, data.severity) || "default"}</li>,
    <li key="policy">Policy: {w.policy.name} ({w.policy.is_default ? "built-in default" : `version ${w.policy.version}`})</li>,
  ];
  for (const c of w.calendars) {
    const hol = c.holidays ? ` · holidays ${c.holidays.country}${c.holidays.subdivision ? "/" + c.holidays.subdivision : ""}${c.holidays.closes_desk ? "" : " (desk stays open)"}` : "";
    const hours = c.hours === "24x7" ? "around the clock" : typeof c.hours === "string" ? c.hours : Object.entries(c.hours).map(([k, v]) => `${k} ${v}`).join(", ");
    items.push(<li key={`cal-${c.id}`}>Business hours ({c.id}): {hours}, {c.timezone}{hol}</li>);
    for (const h of c.upcoming_holidays) items.push(<li key={`hol-${c.id}-${h.date}`} className="tw-subtlest">Closed {h.date}: {h.name}</li>);
  }
  w.pauses.forEach((p, i) => items.push(
    <li key={`pause-${i}`}>{p.end ? `Paused ${formatInstant(p.start)} – ${formatInstant(p.end)}` : `Paused since ${formatInstant(p.start)}`}</li>));
  return <details id="tw-why"><summary>Why these targets</summary><ul className="tw-list">{items}</ul></details>;
}

function Audit({ entries }) {
  if (!entries.length) return <p className="tw-subtlest">No actions yet.</p>;
  return (
    <ol className="tw-list" id="tw-audit" reversed>
      {entries.map((e, i) => (
        <li key={i} title={e.summary || undefined}><time dateTime={e.at}>{formatInstant(e.at)}</time> {e.sentence || e.action.replaceAll("_", " ")}</li>
      ))}
    </ol>
  );
}

function Untracked({ data }) {
  if (data.reason === "classification_failed") {
    return (
      <div id="tw-unclassified">
        <SectionMessage appearance="error" title="Classification failed">
          <p>{data.message}</p>
          <p>{data.help}</p>
        </SectionMessage>
      </div>
    );
  }
  return <p className="tw-subtle">{data.message}</p>;
}

const PHASE_WORDS = { paused: "Waiting: the clock is stopped", closed: "Closed: nothing more is due", mitigated: "Mitigated" };

/** The panel body for the API's `data`, at `now` (ms), `elapsed` seconds after it was loaded. */
export function PanelBody({ data, now, elapsed }) {
  if (!data.tracked) return <Untracked data={data} />;
  const shown = data.targets.filter((t) => lookOf(t));
  const collapsed = data.targets.filter((t) => !lookOf(t));
  const top = topLine(data.targets, now, elapsed);
  return (
    <>
      {top ? <p id="tw-next" className="tw-next">{top}</p> : null}
      <div className="tw-meta">
        <span id="tw-tier">Tier: {data.tier.name}</span>
        <span id="tw-severity" title={data.severity.definition || undefined}>Severity: {data.severity.name}</span>
        {PHASE_WORDS[data.phase] ? <span id="tw-phase">{PHASE_WORDS[data.phase]}</span> : null}
      </div>
      {shown.length ? (
        <div id="tw-targets">{shown.map((t) => <TargetRow key={t.id} t={t} now={now} elapsed={elapsed} />)}</div>
      ) : (
        <p id="tw-best-effort" className="tw-subtle">{data.tier.name}: no SLA targets</p>
      )}
      {shown.length && collapsed.length ? (
        <p id="tw-no-deadline" className="tw-subtlest">
          No deadline: {collapsed.map((t) => t.id === "next_update" && data.phase !== "closed" ? `${t.label} (starts with the first reply)` : t.label).join(" · ")}
        </p>
      ) : null}
      <p className="tw-subtlest">Times in your time zone ({viewerTimeZone()}). “Left” counts business time; “in” and “overdue” count clock time.</p>
      <Why data={data} />
      <h3>Recent actions</h3>
      <Audit entries={data.audit} />
    </>
  );
}
