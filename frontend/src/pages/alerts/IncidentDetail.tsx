// One incident: what fired, its values with units, the rule as it was when it fired, and the
// notifications it sent, its acknowledgement, the dependents it suppressed and its timeline.
import { useIncident } from "../../api/alerts";
import { ApiError } from "../../api/client";
import { useSeriesUnits } from "../../api/metrics";
import { Link } from "../../router";
import { EmptyState, ErrorState, Spinner } from "../../components/ui";
import { formatDateTime, formatValue, humanSeconds, labelText } from "../../format";
import { Pill, SeverityBadge } from "./common";
import { DeliveryTable } from "./IncidentTable";
import { AckSection, AffectedSection, TimelineSection } from "./IncidentTimeline";
import { WhatChangedSection } from "./WhatChanged";

// TODO(backend): `rule` is typed as an open object in the API schema; a typed snapshot (with the
// unit) would let this page drop the lookups by key below.
export function IncidentDetailPage({ id, canAck }: { id: number; canAck: boolean }) {
  const q = useIncident(id);
  const units = useSeriesUnits();
  if (q.isPending) return <Spinner label="Loading incident…" />;
  if (q.isError) {
    if (q.error instanceof ApiError && q.error.status === 404)
      return (
        <EmptyState title="Incident not found" action={<Link to="/alerts" className="btn">All incidents</Link>}>
          Resolved incidents are deleted after the history period.
        </EmptyState>
      );
    return <ErrorState title="Could not load the incident" error={q.error} onRetry={() => q.refetch()} />;
  }
  const i = q.data;
  const r = i.rule;
  const unit = i.series_id === null ? "" : (units.get(i.series_id) ?? "");
  const firedFor = (Date.parse(i.resolved_at ?? new Date().toISOString()) - Date.parse(i.fired_at)) / 1000;
  return (
    <div className="stack" data-testid="incident-detail">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/alerts">Incidents</Link> <span aria-hidden="true">/</span> <span aria-current="page">#{i.id}</span>
      </nav>
      <div className="page-head">
        <div>
          <h2 className="with-badge incident-title">
            {i.rule_name} <SeverityBadge severity={i.severity} /> <Pill kind={i.status} />
          </h2>
          <p className="muted">{i.summary}</p>
        </div>
        {i.rule_id ? (
          <Link to={`/alerts/rules/${i.rule_id}/edit`} className="btn">
            Open rule
          </Link>
        ) : null}
      </div>
      <section className="card" aria-label="Incident">
        <dl className="props">
          <div>
            <dt>Plugin</dt>
            <dd>{i.plugin_id ? <Link to={`/plugins/${i.plugin_id}`}>{i.plugin_name ?? `#${i.plugin_id}`}</Link> : (i.plugin_name ?? "—")}</dd>
          </div>
          {i.metric ? (
            <div>
              <dt>Metric</dt>
              <dd>
                <code>{i.metric}</code> {Object.keys(i.labels).length ? <span className="muted">{`{${labelText(i.labels)}}`}</span> : null}
              </dd>
            </div>
          ) : null}
          <div>
            <dt>Values</dt>
            <dd>
              {i.kind === "health" ? "Plugin down" : (
                <>
                  at firing {formatValue(i.value, unit)} · latest {formatValue(i.last_value, unit)}
                  {i.resolved_at ? ` · at resolution ${formatValue(i.resolved_value, unit)}` : ""}
                </>
              )}
            </dd>
          </div>
          <div>
            <dt>Condition became true</dt>
            <dd>{formatDateTime(i.started_at)}</dd>
          </div>
          <div>
            <dt>Fired</dt>
            <dd>{formatDateTime(i.fired_at)}</dd>
          </div>
          <div>
            <dt>Resolved</dt>
            <dd>{i.resolved_at ? `${formatDateTime(i.resolved_at)}${i.resolved_reason ? ` — ${i.resolved_reason}` : ""}` : "still firing"}</dd>
          </div>
          <div>
            <dt>{i.resolved_at ? "Fired for" : "Firing for"}</dt>
            <dd>{humanSeconds(firedFor)}</dd>
          </div>
          <div>
            <dt>Notifications</dt>
            <dd className="pills">
              {i.silenced ? <Pill kind="silenced">silenced{i.silence_id ? ` (silence #${i.silence_id})` : ""}</Pill> : null}
              {i.suppressed_by ? (
                <Pill kind="suppressed">
                  suppressed: <Link to={`/plugins/${i.suppressed_by_id}`}>{i.suppressed_by}</Link> was down
                </Pill>
              ) : null}
              {i.network_down ? <Pill kind="suppressed">unknown — Unity’s own network is down</Pill> : null}
              {i.notified ? <Pill kind="notified" /> : <span className="muted">none sent</span>}
            </dd>
          </div>
        </dl>
      </section>
      <AckSection incident={i} canAck={canAck} />
      <AffectedSection incident={i} />
      <TimelineSection incident={i} />
      <WhatChangedSection incident={i} unit={unit} />
      <section className="card" aria-labelledby="snapshot-title">
        <h2 id="snapshot-title">Rule when it fired</h2>
        <dl className="props">
          <div>
            <dt>Kind</dt>
            <dd className="capitalize">{String(r["kind"] ?? i.kind)}</dd>
          </div>
          <div>
            <dt>Condition</dt>
            <dd>
              {(r["kind"] ?? i.kind) === "health"
                ? `plugin down for ${humanSeconds(Number(r["for_seconds"] ?? 0))}`
                : `${String(r["metric"] ?? i.metric ?? "?")} ${String(r["op"] ?? "")} ${typeof r["threshold"] === "number" ? formatValue(r["threshold"], unit) : ""} for ${humanSeconds(Number(r["for_seconds"] ?? 0))}`}
            </dd>
          </div>
          <div>
            <dt>Keep firing</dt>
            <dd>{humanSeconds(Number(r["keep_firing_seconds"] ?? 0))}</dd>
          </div>
        </dl>
        <details className="raw">
          <summary>Full snapshot (JSON)</summary>
          <pre>{JSON.stringify(r, null, 2)}</pre>
        </details>
      </section>
      <section className="card" aria-labelledby="deliveries-title">
        <h2 id="deliveries-title">Notifications</h2>
        {i.deliveries.length === 0 ? (
          <p className="muted">
            {i.suppressed_by ? `None: ${i.suppressed_by}, which this depends on, was down.` : i.network_down ? "None yet: held while Unity’s own network was down; sent with the “network back” notice if still firing." : i.silenced ? "None: it fired during a silence." : "None: the rule has no channels, or they are disabled. Add channels to the rule to be notified."}
          </p>
        ) : (
          <DeliveryTable items={i.deliveries} />
        )}
      </section>
    </div>
  );
}
