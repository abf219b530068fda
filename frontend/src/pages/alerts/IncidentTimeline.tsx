// The incident page's dependency and history parts: the dependents it suppressed, and its
// timeline (opened, suppressed, dependents affected, notified, acknowledged, resolved).
import type { IncidentDetail } from "../../api/alerts";
import { Link } from "../../router";
import { formatDateTime } from "../../format";
import { Pill } from "./common";

export function AffectedSection({ incident }: { incident: IncidentDetail }) {
  if (incident.affected.length === 0) return null;
  return (
    <section className="card" aria-labelledby="affected-title">
      <h2 id="affected-title">
        {incident.plugin_name ?? "This plugin"} down: {incident.affected.length} {incident.affected.length === 1 ? "check" : "checks"} affected
      </h2>
      <p className="muted small">Dependents that went down meanwhile. Their alerts were recorded, not sent: this incident's notice covers them.</p>
      <ul className="plain-list">
        {incident.affected.map((a) => (
          <li key={a.id}>
            <Link to={`/alerts/incidents/${a.id}`}>{a.plugin_name ?? `#${a.plugin_id}`}</Link> <Pill kind={a.status} />{" "}
            <span className="muted small">{a.summary}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function TimelineSection({ incident }: { incident: IncidentDetail }) {
  return (
    <section className="card" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      {incident.timeline.length === 0 ? (
        <p className="muted">Nothing recorded (incidents from before timelines existed have none).</p>
      ) : (
        <ol className="plain-list timeline">
          {incident.timeline.map((e, n) => (
            <li key={n}>
              <time dateTime={e.at} className="muted small">
                {formatDateTime(e.at)}
              </time>{" "}
              <Pill kind={e.kind} /> {e.detail}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
