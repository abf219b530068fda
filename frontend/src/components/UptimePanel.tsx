// A plugin's availability: the 24 h … 365 d percentages and a 90-day bar, one slim bar per UTC
// day. Hovering or focusing a day (arrow keys move between days) shows its up, down,
// maintenance and no-data time; every bar also carries the same text as its accessible name.
import { useRef, useState, type KeyboardEvent } from "react";
import { UPTIME_WINDOWS, usePluginUptime, type UptimeDay } from "../api/uptime";
import { QueryState } from "./ui";
import { formatPercent, uptimeLevel, uptimeParts, uptimeSummary } from "./uptimeFormat";
import { humanSeconds } from "../format";
import "./uptime.css";

function dayLabel(d: UptimeDay): string {
  const when = new Date(`${d.date}T00:00:00Z`).toLocaleDateString(undefined, { timeZone: "UTC", day: "numeric", month: "short", year: "numeric" });
  const pct = d.percent === null ? "no checks observed" : `${formatPercent(d.percent)} up`;
  return `${when}: ${pct}; ${uptimeSummary(d)}`;
}

export function UptimeBar({ days }: { days: UptimeDay[] }) {
  const [shown, setShown] = useState<number | null>(null);
  const [focusAt, setFocusAt] = useState(days.length - 1);
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const move = (e: KeyboardEvent, i: number) => {
    const to = { ArrowLeft: i - 1, ArrowRight: i + 1, Home: 0, End: days.length - 1 }[e.key];
    if (to === undefined || to < 0 || to >= days.length) return;
    e.preventDefault();
    setFocusAt(to);
    refs.current[to]?.focus();
  };
  const day = shown === null ? null : days[shown];
  return (
    <div className="uptime-bar-wrap">
      <div className="uptime-bar" role="group" aria-label={`Daily uptime, last ${days.length} days (arrow keys move between days)`} onMouseLeave={() => setShown(null)}>
        {days.map((d, i) => (
          <button
            type="button"
            key={d.date}
            ref={(el) => {
              refs.current[i] = el;
            }}
            className={`uptime-day uptime-${uptimeLevel(d)}`}
            data-date={d.date}
            aria-label={dayLabel(d)}
            tabIndex={i === focusAt ? 0 : -1}
            onMouseEnter={() => setShown(i)}
            onFocus={() => {
              setShown(i);
              setFocusAt(i);
            }}
            onBlur={() => setShown(null)}
            onKeyDown={(e) => move(e, i)}
          />
        ))}
      </div>
      <div className="uptime-axis muted small" aria-hidden="true">
        <span>{days.length} days ago</span>
        <span>Today (UTC)</span>
      </div>
      <div className="uptime-tip small" aria-hidden="true" data-testid="uptime-tip">
        {day ? (
          <>
            <strong>{day.date}</strong> · {day.percent === null ? "no checks observed" : `${formatPercent(day.percent)} up`}
            <span className="uptime-tip-parts">
              {uptimeParts(day).map((p) => (
                <span key={p.label}>
                  <span className={`uptime-key uptime-key-${p.label.replace(" ", "").toLowerCase()}`} /> {p.label} {humanSeconds(p.seconds)}
                </span>
              ))}
            </span>
          </>
        ) : (
          <span className="muted">Hover or focus a day for its details.</span>
        )}
      </div>
    </div>
  );
}

export function UptimePanel({ pluginId }: { pluginId: number }) {
  const uptime = usePluginUptime(pluginId);
  return (
    <section className="card uptime-panel" aria-label="Uptime">
      <QueryState query={uptime} loading="Loading uptime…" failed="Could not load uptime">
        {(u) => (
          <>
            <dl className="stats uptime-windows">
              {UPTIME_WINDOWS.map(({ key, label }) => {
                const f = u.windows[key];
                return (
                  <div key={key} data-window={key} title={f ? uptimeSummary(f) : undefined}>
                    <dt>{label}</dt>
                    <dd className={f ? `uptime-text-${uptimeLevel(f)}` : undefined}>{formatPercent(f?.percent)}</dd>
                  </div>
                );
              })}
            </dl>
            {u.days.length ? <UptimeBar days={u.days} /> : null}
            <p className="muted small">
              Time in maintenance and unknown time count neither as up nor as down. Unknown: no data (Unity was not running), or Unity’s own network
              was down (the connectivity canary).
            </p>
          </>
        )}
      </QueryState>
    </section>
  );
}
