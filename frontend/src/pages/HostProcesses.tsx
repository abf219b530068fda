// A host's busiest processes and its temperatures and fans, from its latest run: the stored
// latest values first, then live samples as they arrive. Shown only where the host reports them.
import { Table } from "../components/ui";
import type { CurrentValue } from "../live/latestValues";
import { formatValue } from "../format";

const PROCESS_METRICS = ["process_cpu_percent", "process_memory_bytes"];
const SENSOR_METRICS = ["temperature_celsius", "fan_rpm"];

/** The values of `names` from the newest run only: a process that has since quit keeps an old
 * latest value, and must not linger in the table. */
export function newestRound(values: CurrentValue[], names: string[]): CurrentValue[] {
  const wanted = values.filter((v) => names.includes(v.name));
  const newest = Math.max(...wanted.map((v) => v.ts));
  return wanted.filter((v) => v.ts >= newest - 1);
}

export interface ProcessRow {
  process: string;
  cpu?: number;
  memory?: number;
}

export function processRows(values: CurrentValue[]): ProcessRow[] {
  const rows = new Map<string, ProcessRow>();
  for (const v of newestRound(values, PROCESS_METRICS)) {
    const process = v.labels.process ?? "?";
    const row = rows.get(process) ?? { process };
    if (v.name === "process_cpu_percent") row.cpu = v.value;
    else row.memory = v.value;
    rows.set(process, row);
  }
  return [...rows.values()].sort((a, b) => (b.cpu ?? 0) - (a.cpu ?? 0) || (b.memory ?? 0) - (a.memory ?? 0));
}

export function HostProcesses({ values }: { values: CurrentValue[] }) {
  const processes = processRows(values);
  const sensors = newestRound(values, SENSOR_METRICS).sort(
    (a, b) => a.name.localeCompare(b.name) || (a.labels.chip ?? "").localeCompare(b.labels.chip ?? "") || a.seriesId - b.seriesId,
  );
  if (processes.length === 0 && sensors.length === 0) return null;
  return (
    <div className="host-panels">
      {processes.length > 0 ? (
        <section className="card" aria-label="Top processes">
          <h2>Top processes</h2>
          <Table caption="Top processes by CPU and memory" columns={["Process", "CPU", "Memory"]}>
            {processes.map((r) => (
              <tr key={r.process}>
                <td className="process-name" title={r.process}>
                  {r.process}
                </td>
                <td>{formatValue(r.cpu, "percent")}</td>
                <td>{formatValue(r.memory, "bytes")}</td>
              </tr>
            ))}
          </Table>
          <p className="muted small">CPU: 100% is one full core, as in top.</p>
        </section>
      ) : null}
      {sensors.length > 0 ? (
        <section className="card" aria-label="Temperatures and fans">
          <h2>Temperatures and fans</h2>
          <Table caption="Temperatures and fan speeds" columns={["Chip", "Sensor", "Value"]}>
            {sensors.map((s) => (
              <tr key={s.seriesId}>
                <td>{s.labels.chip ?? ""}</td>
                <td>{s.labels.sensor ?? s.labels.fan ?? ""}</td>
                <td>{formatValue(s.value, s.unit)}</td>
              </tr>
            ))}
          </Table>
        </section>
      ) : null}
    </div>
  );
}
