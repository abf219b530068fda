// The incident and delivery tables the alerts pages share; values carry their series' unit.
import type { Delivery, Incident } from "../../api/alerts";
import { useSeriesUnits } from "../../api/metrics";
import { Link } from "../../router";
import { Table } from "../../components/ui";
import { formatDateTime, formatValue, labelText, timeAgo } from "../../format";
import { Pill, SeverityBadge } from "./common";

// TODO(backend): the incident's rule snapshot is an untyped object in the API schema; once it
// carries the unit, prefer it to the series' current unit.
export function IncidentValues({ i, unit }: { i: Incident; unit: string }) {
  if (i.kind === "health") return <span className="muted">{i.status === "firing" ? "down" : "was down"}</span>;
  return (
    <span className="values">
      <span title="Value when it fired">{formatValue(i.value, unit)}</span>
      {i.status === "firing" && i.last_value !== null && i.last_value !== i.value ? (
        <span className="muted small" title="Latest value"> now {formatValue(i.last_value, unit)}</span>
      ) : null}
      {i.status === "resolved" && i.resolved_value !== null ? (
        <span className="muted small" title="Value when it resolved"> → {formatValue(i.resolved_value, unit)}</span>
      ) : null}
    </span>
  );
}

function Times({ i }: { i: Incident }) {
  return (
    <dl className="times">
      <div>
        <dt>Started</dt>
        <dd title={formatDateTime(i.started_at)}>{timeAgo(i.started_at)}</dd>
      </div>
      <div>
        <dt>Fired</dt>
        <dd title={formatDateTime(i.fired_at)}>{timeAgo(i.fired_at)}</dd>
      </div>
      <div>
        <dt>Resolved</dt>
        <dd title={formatDateTime(i.resolved_at)}>{i.resolved_at ? timeAgo(i.resolved_at) : "—"}</dd>
      </div>
    </dl>
  );
}

export function IncidentTable({ items, caption }: { items: Incident[]; caption: string }) {
  const units = useSeriesUnits();
  return (
    <Table caption={caption} columns={["Severity", "Alert", "Value", "When", "Notes"]} className="incident-table">
      {items.map((i) => (
        <tr key={i.id} data-incident={i.id} data-status={i.status} className={i.status === "firing" ? "row-firing" : undefined}>
          <td>
            <SeverityBadge severity={i.severity} />
          </td>
          <td className="incident-main">
            <Link to={`/alerts/incidents/${i.id}`} className="strong-link">
              {i.rule_name}
            </Link>
            <span className="muted small">
              {" · "}
              {i.plugin_name ?? (i.plugin_id ? `plugin #${i.plugin_id}` : "no plugin")}
              {i.metric ? ` · ${i.metric}` : ""}
              {Object.keys(i.labels ?? {}).length ? ` {${labelText(i.labels)}}` : ""}
            </span>
            {i.summary ? <div className="small incident-summary">{i.summary}</div> : null}
          </td>
          <td>
            <IncidentValues i={i} unit={i.series_id === null ? "" : (units.get(i.series_id) ?? "")} />
          </td>
          <td>
            <Times i={i} />
          </td>
          <td>
            <div className="pills">
              <Pill kind={i.status} />
              {i.silenced ? <Pill kind="silenced" title="Fired during a silence: notifications were held back" /> : null}
              {i.suppressed_by ? <Pill kind="suppressed" title={`${i.suppressed_by}, which this depends on, was down: nothing was sent`} /> : null}
              {i.network_down ? <Pill kind="suppressed" title="Fired while Unity’s own network was down (the connectivity canary): its state is unknown">unknown</Pill> : null}
              {i.acknowledged_at ? <Pill kind="acknowledged" title={`By ${i.acknowledged_by ?? "?"} at ${formatDateTime(i.acknowledged_at)}`} /> : null}
              {i.notified ? <Pill kind="notified" title="A notification went out" /> : null}
            </div>
          </td>
        </tr>
      ))}
    </Table>
  );
}

export function DeliveryTable({ items, channelNames }: { items: Delivery[]; channelNames?: Map<number, string> }) {
  return (
    <Table caption="Deliveries" columns={["Kind", "Status", "Title", channelNames && "Channel", "Attempts", "Created", "Error"]}>
      {items.map((d) => (
        <tr key={d.id} data-delivery={d.id}>
          <td className="capitalize">{d.kind}</td>
          <td>
            <Pill kind={d.status} title={d.sent_at ? `Sent ${formatDateTime(d.sent_at)}` : d.next_attempt_at ? `Next attempt ${formatDateTime(d.next_attempt_at)}` : undefined} />
            {d.status === "pending" && d.held && d.next_attempt_at ? (
              <div className="muted small">
                {d.held === "quiet" ? "quiet hours" : "group window"} until {formatDateTime(d.next_attempt_at)}
              </div>
            ) : null}
          </td>
          <td>{d.title}</td>
          {channelNames ? <td>{channelNames.get(d.channel_id) ?? `#${d.channel_id}`}</td> : null}
          <td>{d.attempts}</td>
          <td title={formatDateTime(d.created_at)}>{timeAgo(d.created_at)}</td>
          <td className="error-cell">{d.last_error ?? ""}</td>
        </tr>
      ))}
    </Table>
  );
}
