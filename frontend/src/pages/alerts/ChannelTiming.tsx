// A channel's timing: its group window (many alerts, one message) and its quiet hours.
import type { Channel } from "../../api/channels";
import "./channels.css";
import { FieldShell, fieldAria } from "../../forms/SchemaForm";

export type Timing = {
  group: string; // seconds as typed; "" = the server default (NOTIFY_GROUP_SECONDS)
  quiet: boolean;
  quietStart: string;
  quietEnd: string;
  quietTz: string;
  exceptCritical: boolean;
};

function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export function timingOf(channel?: Channel): Timing {
  return {
    group: channel?.group_seconds === null || channel?.group_seconds === undefined ? "" : String(channel.group_seconds),
    quiet: Boolean(channel?.quiet_start && channel?.quiet_end),
    quietStart: channel?.quiet_start ?? "23:00",
    quietEnd: channel?.quiet_end ?? "07:00",
    quietTz: channel?.quiet_start ? channel.quiet_timezone : browserZone(),
    exceptCritical: channel?.quiet_except_critical ?? true,
  };
}

/** The API fields, or an error per field the form can show. */
export function timingBody(t: Timing): {
  body: { group_seconds: number | null; quiet_start: string | null; quiet_end: string | null; quiet_timezone: string; quiet_except_critical: boolean };
  errors: Record<string, string>;
} {
  const errors: Record<string, string> = {};
  const g = t.group.trim();
  let group: number | null = null;
  if (g !== "") {
    const n = Number(g);
    if (!Number.isInteger(n) || n < 0 || n > 3600) errors.group_seconds = "Seconds from 0 to 3600, or empty for the server default (30 s).";
    else group = n;
  }
  if (t.quiet) {
    if (!/^\d\d:\d\d$/.test(t.quietStart)) errors.quiet_start = "A time of day, e.g. 23:00.";
    if (!/^\d\d:\d\d$/.test(t.quietEnd)) errors.quiet_end = "A time of day, e.g. 07:00.";
    else if (t.quietEnd === t.quietStart) errors.quiet_end = "Quiet hours end at a different time than they start.";
    if (!t.quietTz.trim()) errors.quiet_timezone = "A time zone name, e.g. Europe/Berlin or UTC.";
  }
  return {
    body: {
      group_seconds: group,
      quiet_start: t.quiet ? t.quietStart : null,
      quiet_end: t.quiet ? t.quietEnd : null,
      quiet_timezone: t.quietTz.trim() || "UTC",
      quiet_except_critical: t.exceptCritical,
    },
    errors,
  };
}

/** "groups 30 s · quiet 23:00–07:00 Europe/Berlin (critical passes)" for the channel list. */
export function timingText(c: Channel): string {
  const group = c.group_seconds === null ? "groups 30 s (default)" : c.group_seconds === 0 ? "sends at once" : `groups ${c.group_seconds} s`;
  if (!c.quiet_start || !c.quiet_end) return group;
  const quiet = `quiet ${c.quiet_start}–${c.quiet_end} ${c.quiet_timezone}${c.quiet_except_critical ? " (critical passes)" : ""}`;
  return `${group} · ${quiet}`;
}

export function TimingFields({ t, errors, onChange }: { t: Timing; errors: Record<string, string>; onChange: (t: Timing) => void }) {
  return (
    <fieldset className="stack channel-timing">
      <legend>Timing</legend>
      <FieldShell
        id="ch-group"
        label="Group window (seconds)"
        description="Alerts within this window go out as one message (“5 checks down: …”). Empty: the server default, 30 s; 0: each at once."
        error={errors.group_seconds}
      >
        <input
          id="ch-group"
          inputMode="numeric"
          placeholder="30"
          value={t.group}
          onChange={(e) => onChange({ ...t, group: e.target.value })}
          {...fieldAria("ch-group", errors.group_seconds, true)}
        />
      </FieldShell>
      <label className="check">
        <input type="checkbox" checked={t.quiet} onChange={(e) => onChange({ ...t, quiet: e.target.checked })} />
        <span>Quiet hours: hold notices and send them as one message when they end</span>
      </label>
      {t.quiet ? (
        <>
          <div className="form-grid tight-grid">
            <FieldShell id="ch-quiet-start" label="From" error={errors.quiet_start}>
              <input id="ch-quiet-start" type="time" value={t.quietStart} onChange={(e) => onChange({ ...t, quietStart: e.target.value })} {...fieldAria("ch-quiet-start", errors.quiet_start)} />
            </FieldShell>
            <FieldShell id="ch-quiet-end" label="Until" error={errors.quiet_end}>
              <input id="ch-quiet-end" type="time" value={t.quietEnd} onChange={(e) => onChange({ ...t, quietEnd: e.target.value })} {...fieldAria("ch-quiet-end", errors.quiet_end)} />
            </FieldShell>
          </div>
          <FieldShell id="ch-quiet-tz" label="Time zone" description="An IANA name, e.g. Europe/Berlin." error={errors.quiet_timezone}>
            <input
              id="ch-quiet-tz"
              value={t.quietTz}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => onChange({ ...t, quietTz: e.target.value })}
              {...fieldAria("ch-quiet-tz", errors.quiet_timezone, true)}
            />
          </FieldShell>
          <label className="check">
            <input type="checkbox" checked={t.exceptCritical} onChange={(e) => onChange({ ...t, exceptCritical: e.target.checked })} />
            <span>Critical alerts come through all the same</span>
          </label>
        </>
      ) : null}
    </fieldset>
  );
}
