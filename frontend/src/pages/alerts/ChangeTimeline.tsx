// "What changed": the events plugins saw and the configuration changes within ±15 minutes of an
// incident's start, as markers on one time axis (aligned with the metric chart above it) and a list.
import type { AuditEntry, TimelineEvent } from "../../api/audit";
import { formatDateTime } from "../../format";
import { auditSentence, changeLines } from "./changeText";

export interface TimelineItem {
  key: string;
  at: string;
  kind: string;
  title: string;
  lines: string[];
  /** The incident's own plugin: drawn stronger than the rest. */
  own: boolean;
}

export function timelineItems(events: TimelineEvent[], audit: AuditEntry[], pluginId: number | null): TimelineItem[] {
  // A plugin's config change is both an event and an audit entry: the entry, with its diff, stands for both.
  const audited = new Set(audit.map((a) => a.id));
  const items: TimelineItem[] = [
    ...events
      .filter((e) => e.audit_id === null || !audited.has(e.audit_id))
      .map((e) => ({
        key: `e${e.id}`,
        at: e.at,
        kind: e.kind,
        title: e.plugin_name ? `${e.plugin_name}: ${e.summary}` : e.summary,
        lines: [],
        own: pluginId !== null && e.plugin_id === pluginId,
      })),
    ...audit.map((a) => ({
      key: `a${a.id}`,
      at: a.at,
      kind: `audit_${a.action}`,
      title: auditSentence(a),
      lines: changeLines(a.changes),
      own: pluginId !== null && a.object_type === "plugin" && a.object_id === String(pluginId),
    })),
  ];
  return items.sort((x, y) => Date.parse(x.at) - Date.parse(y.at));
}

/** Where `at` falls between `start` and `end`, in percent (clamped). */
export function position(at: string, start: string, end: string): number {
  const s = Date.parse(start);
  const span = Date.parse(end) - s;
  if (span <= 0) return 0;
  return Math.min(100, Math.max(0, ((Date.parse(at) - s) / span) * 100));
}

export function ChangeTimeline({ start, end, startedAt, items }: { start: string; end: string; startedAt: string; items: TimelineItem[] }) {
  return (
    <div className="change-timeline">
      <div className="change-axis" role="img" aria-label={`${items.length} changes between ${formatDateTime(start)} and ${formatDateTime(end)}`}>
        <span className="change-start" style={{ left: `${position(startedAt, start, end)}%` }} title={`Incident started ${formatDateTime(startedAt)}`} />
        {items.map((i) => (
          <span
            key={i.key}
            data-testid="change-marker"
            className={`change-marker change-${i.kind}${i.own ? " change-own" : ""}`}
            style={{ left: `${position(i.at, start, end)}%` }}
            title={`${formatDateTime(i.at)} — ${i.title}`}
          />
        ))}
      </div>
      <div className="change-scale muted small" aria-hidden="true">
        <span>−15 min</span>
        <span>start</span>
        <span>+15 min</span>
      </div>
      {items.length === 0 ? (
        <p className="muted">Nothing changed and no events were recorded within 15 minutes of the start.</p>
      ) : (
        <ol className="plain-list change-list" aria-label="Changes and events">
          {items.map((i) => (
            <li key={i.key} className={i.own ? "change-own" : undefined}>
              <time dateTime={i.at} className="muted small">
                {formatDateTime(i.at)}
              </time>{" "}
              <span className={`badge badge-st-${i.kind}`}>{i.kind.replace(/_/g, " ")}</span> {i.title}
              {i.lines.length ? (
                <ul className="change-diff small">
                  {i.lines.map((l) => (
                    <li key={l}>
                      <code>{l}</code>
                    </li>
                  ))}
                </ul>
              ) : null}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
