// A host at a glance (system and SSH host plugins): CPU, memory, swap, load, uptime, disks per
// mount and network rates from the latest values, before the detailed charts.
import type { CurrentValue } from "../live/latestValues";
import { formatValue } from "../format";

const unlabelled = (vs: CurrentValue[], name: string) => vs.find((v) => v.name === name && Object.keys(v.labels).length === 0);
const byLabel = (vs: CurrentValue[], name: string, label: string) =>
  new Map(vs.filter((v) => v.name === name && v.labels[label] !== undefined).map((v) => [v.labels[label], v]));

function Bar({ percent, label }: { percent: number; label: string }) {
  const p = Math.max(0, Math.min(100, percent));
  const level = p >= 90 ? "bad" : p >= 75 ? "warn" : "ok";
  return (
    <div className={`meter meter-${level}`} role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(p)} aria-label={label}>
      <span style={{ width: `${p}%` }} />
    </div>
  );
}

function Tile({ title, value, detail, percent }: { title: string; value: string; detail?: string; percent?: number }) {
  return (
    <div className="host-tile">
      <dt>{title}</dt>
      <dd>
        <span className="host-value">{value}</span>
        {percent !== undefined ? <Bar percent={percent} label={`${title} ${formatValue(percent, "percent")}`} /> : null}
        {detail ? <span className="muted small">{detail}</span> : null}
      </dd>
    </div>
  );
}

/** True when a plugin's values look like a host's (CPU or memory figures). */
function isHostLike(values: { name: string }[]): boolean {
  return values.some((v) => v.name === "cpu_percent" || v.name === "memory_percent");
}

/** The overview panel; temperatures and fans are in HostProcesses' sensor table. */
export function HostOverview({ values }: { values: CurrentValue[] }) {
  if (!isHostLike(values)) return null;
  const cpu = unlabelled(values, "cpu_percent");
  const mem = unlabelled(values, "memory_percent");
  const memUsed = unlabelled(values, "memory_used");
  const memTotal = unlabelled(values, "memory_total");
  const swap = unlabelled(values, "swap_percent");
  const swapUsed = unlabelled(values, "swap_used");
  const swapTotal = unlabelled(values, "swap_total");
  const uptime = unlabelled(values, "uptime");
  const procs = unlabelled(values, "process_count");
  const load = byLabel(values, "load_average", "period");
  const diskPct = byLabel(values, "disk_percent", "mount");
  const diskUsed = byLabel(values, "disk_used", "mount");
  const diskFree = byLabel(values, "disk_free", "mount");
  const diskTotal = byLabel(values, "disk_total", "mount");
  const rx = byLabel(values, "network_receive_rate", "interface");
  const tx = byLabel(values, "network_transmit_rate", "interface");
  const ifaces = [...new Set([...rx.keys(), ...tx.keys()])].sort();
  const loadText = ["1m", "5m", "15m"].map((p) => load.get(p)).filter(Boolean).map((v) => formatValue(v!.value));

  return (
    <section className="card host-overview" aria-labelledby="host-overview-title">
      <h2 id="host-overview-title">Overview</h2>
      <dl className="host-tiles">
        {cpu ? <Tile title="CPU" value={formatValue(cpu.value, "percent")} percent={cpu.value} /> : null}
        {mem ? (
          <Tile
            title="Memory"
            value={formatValue(mem.value, "percent")}
            percent={mem.value}
            detail={memUsed && memTotal ? `${formatValue(memUsed.value, "bytes")} of ${formatValue(memTotal.value, "bytes")}` : undefined}
          />
        ) : null}
        {swap && swapTotal?.value ? (
          <Tile
            title="Swap"
            value={formatValue(swap.value, "percent")}
            percent={swap.value}
            detail={swapUsed ? `${formatValue(swapUsed.value, "bytes")} of ${formatValue(swapTotal.value, "bytes")}` : undefined}
          />
        ) : null}
        {loadText.length ? <Tile title="Load" value={loadText[0]} detail={loadText.length > 1 ? `1, 5, 15 min: ${loadText.join(" · ")}` : undefined} /> : null}
        {uptime ? <Tile title="Uptime" value={formatValue(uptime.value, "seconds")} /> : null}
        {procs ? <Tile title="Processes" value={formatValue(procs.value, "count")} /> : null}
      </dl>
      {diskPct.size ? (
        <div className="host-group">
          <h3>Disks</h3>
          <ul className="host-list">
            {[...diskPct.entries()]
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([mount, pct]) => (
                <li key={mount}>
                  <span className="host-name mono" title={mount}>
                    {mount}
                  </span>
                  <Bar percent={pct.value} label={`Disk ${mount} ${formatValue(pct.value, "percent")} used`} />
                  <span className="small">
                    {formatValue(pct.value, "percent")} used
                    {diskUsed.get(mount) && diskTotal.get(mount) ? ` · ${formatValue(diskUsed.get(mount)!.value, "bytes")} of ${formatValue(diskTotal.get(mount)!.value, "bytes")}` : ""}
                    {diskFree.get(mount) ? ` · ${formatValue(diskFree.get(mount)!.value, "bytes")} free` : ""}
                  </span>
                </li>
              ))}
          </ul>
        </div>
      ) : null}
      {ifaces.length ? (
        <div className="host-group">
          <h3>Network</h3>
          <ul className="host-list">
            {ifaces.map((name) => (
              <li key={name}>
                <span className="host-name mono">{name}</span>
                <span className="small">
                  ↓ {formatValue(rx.get(name)?.value, "bytes/s")} · ↑ {formatValue(tx.get(name)?.value, "bytes/s")}
                </span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}
