// The incident page's acknowledgement, dependency and history parts: acknowledge it, the
// dependents it suppressed, and its timeline (opened, suppressed, affected, notified, acknowledged, resolved).
import { useState, type FormEvent } from "react";
import { useAckIncident, type IncidentDetail } from "../../api/alerts";
import { useToast } from "../../components/ui";
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

/** Who acknowledged it and when, or (firing, for admins) a comment box and the button. */
export function AckSection({ incident, canAck }: { incident: IncidentDetail; canAck: boolean }) {
  const [comment, setComment] = useState("");
  const [error, setError] = useState<string | null>(null);
  const toast = useToast();
  const ack = useAckIncident({
    onSuccess: () => toast("Incident acknowledged: repeated notices stop."),
    onError: (e) => setError(e.message),
  });
  if (incident.acknowledged_at) {
    return (
      <section className="card" aria-label="Acknowledgement">
        <p>
          <Pill kind="acknowledged" /> by <strong>{incident.acknowledged_by}</strong> at {formatDateTime(incident.acknowledged_at)}
          {incident.ack_comment ? <>: “{incident.ack_comment}”</> : null}
        </p>
      </section>
    );
  }
  if (incident.status !== "firing" || !canAck) return null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    ack.mutate({ id: incident.id, comment: comment.trim() });
  };
  return (
    <form className="card" aria-label="Acknowledge" onSubmit={submit}>
      <div className="field">
        <label htmlFor="ack-comment" className="field-label">
          Comment (optional)
        </label>
        <input id="ack-comment" value={comment} maxLength={2000} onChange={(e) => setComment(e.target.value)} placeholder="On it: rebooting the router" />
        <p className="field-help">Acknowledging records who is on it and stops repeated notices; the resolution is still sent.</p>
      </div>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" className="btn btn-primary" disabled={ack.isPending}>
        Acknowledge
      </button>
    </form>
  );
}
