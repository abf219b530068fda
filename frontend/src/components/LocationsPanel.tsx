// A plugin's latest result at each of its locations, side by side, and remote probes' state.
import { usePluginLocations, useProbes, type LocationResult } from "../api/probes";
import { formatDateTime, formatValue, timeAgo } from "../format";
import { HealthBadge } from "./ui";

function LocationCard({ loc }: { loc: LocationResult }) {
  const values = loc.latest.filter((v) => v.value !== null);
  return (
    <section className="card location-card" aria-label={`Location ${loc.location}`}>
      <h3>
        {loc.location} <HealthBadge status={loc.status} />
      </h3>
      <dl className="props">
        <dt>Probe</dt>
        <dd className={loc.probe_status === "down" ? "warn-text" : undefined}>
          {loc.probe_status === "hub" ? "this server" : loc.probe_status === "never" ? "not checked in yet" : loc.probe_status}
        </dd>
        <dt>Last run</dt>
        <dd title={formatDateTime(loc.last_run_at)}>{timeAgo(loc.last_run_at)}</dd>
      </dl>
      {loc.last_error && loc.status !== "healthy" ? <p className="small warn-text">{loc.last_error}</p> : null}
      {values.length ? (
        <ul className="location-values small">
          {values.slice(0, 6).map((v) => (
            <li key={`${v.name}${JSON.stringify(v.labels)}`}>
              <span className="muted">{v.name}</span> {formatValue(v.value, v.unit)}
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

/** Shown for a plugin with remote locations. */
export function LocationsPanel({ pluginId }: { pluginId: number }) {
  const q = usePluginLocations(pluginId);
  if (!q.data) return null;
  return (
    <>
      <p className="muted small">
        Down when at least {q.data.down_quorum} of {q.data.locations.length} locations see it down.
      </p>
      <div className="location-grid">
        {q.data.locations.map((loc) => (
          <LocationCard key={loc.location} loc={loc} />
        ))}
      </div>
    </>
  );
}

/** Every remote probe: up, down (silent for 3 heartbeats) or never seen; spool and drops. */
export function ProbesPanel() {
  const q = useProbes();
  if (!q.data) return null;
  if (!q.data.length)
    return <p className="muted small">No remote probes. Assign a plugin to a location and run `python -m app probe` there (see DEPLOYMENT.md).</p>;
  return (
    <table className="table">
      <thead>
        <tr>
          <th>Location</th>
          <th>Status</th>
          <th>Last seen</th>
          <th>Plugins</th>
          <th>Waiting</th>
          <th>Dropped</th>
        </tr>
      </thead>
      <tbody>
        {q.data.map((p) => (
          <tr key={p.location}>
            <td>{p.location}</td>
            <td>
              <HealthBadge status={p.status === "up" ? "healthy" : p.status === "down" ? "down" : "unknown"} />
            </td>
            <td title={formatDateTime(p.last_seen_at)}>{timeAgo(p.last_seen_at)}</td>
            <td>{p.plugins}</td>
            <td>{p.spooled}</td>
            <td>{p.dropped_total}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
