// One plugin: health, charts over a chosen time range (live while the range ends now),
// run history with errors, and the admin actions run-now / edit / enable-disable / delete.
import { useMemo, useState } from "react";
import { useRangeQuery, useSeries, type QuerySeries } from "../api/metrics";
import {
  firstRunFailed,
  useDeletePlugin,
  usePlugin,
  usePluginHealth,
  usePluginTypes,
  useRunPlugin,
  useRuns,
  useSetPluginEnabled,
  type Plugin,
  type PluginRun,
} from "../api/plugins";
import type { User } from "../api/session";
import { managedBy, useManaged } from "../api/config";
import { ApiError, errorMessage } from "../api/client";
import { Link, navigate } from "../router";
import { useLive, usePluginLiveVersion } from "../live/LiveProvider";
import { ConfirmDialog, EmptyState, ErrorState, HealthBadge, Pager, Spinner, Table, useToast } from "../components/ui";
import { TimeChart } from "../components/TimeChart";
import { HostProcesses } from "./HostProcesses";
import { HostOverview } from "../components/HostOverview";
import { usePluginLatest } from "../live/latestValues";
import { keyMetricsFirst } from "./keyMetrics";
import { UptimePanel } from "../components/UptimePanel";
import { LocationsPanel } from "../components/LocationsPanel";
import { PushUrlPanel } from "../components/PushUrlPanel";
import { formatDateTime, formatDuration, formatInterval, labelText, metricTitle, timeAgo } from "../format";

export const RANGES = [
  { key: "1h", label: "1 h", seconds: 3600 },
  { key: "24h", label: "24 h", seconds: 86400 },
  { key: "7d", label: "7 d", seconds: 7 * 86400 },
  { key: "30d", label: "30 d", seconds: 30 * 86400 },
] as const;

/** Plugin types that describe a whole host: their page opens with an overview. */
const HOST_TYPES = new Set(["system", "ssh"]);

type RangeState = { key: string; start?: string; end?: string };

function toLocalInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function RangePicker({ value, onChange }: { value: RangeState; onChange: (r: RangeState) => void }) {
  const [custom, setCustom] = useState(() => ({
    start: value.start ?? toLocalInput(new Date(Date.now() - 6 * 3600_000)),
    end: value.end ?? toLocalInput(new Date()),
  }));
  const [err, setErr] = useState<string | null>(null);
  return (
    <div className="range-picker">
      <div className="segmented" role="group" aria-label="Time range">
        {RANGES.map((r) => (
          <button key={r.key} type="button" className={value.key === r.key ? "active" : undefined} aria-pressed={value.key === r.key} onClick={() => onChange({ key: r.key })}>
            {r.label}
          </button>
        ))}
        <button type="button" className={value.key === "custom" ? "active" : undefined} aria-pressed={value.key === "custom"} onClick={() => onChange({ key: "custom", ...custom })}>
          Custom
        </button>
      </div>
      {value.key === "custom" ? (
        <form
          className="custom-range"
          onSubmit={(e) => {
            e.preventDefault();
            if (!custom.start || !custom.end || new Date(custom.start) >= new Date(custom.end)) {
              setErr("The start must be before the end.");
              return;
            }
            setErr(null);
            onChange({ key: "custom", ...custom });
          }}
        >
          <label>
            From
            <input type="datetime-local" value={custom.start} onChange={(e) => setCustom({ ...custom, start: e.target.value })} />
          </label>
          <label>
            To
            <input type="datetime-local" value={custom.end} onChange={(e) => setCustom({ ...custom, end: e.target.value })} />
          </label>
          <button type="submit" className="btn btn-sm">
            Apply
          </button>
          {err ? (
            <span className="field-error" role="alert">
              {err}
            </span>
          ) : null}
        </form>
      ) : null}
    </div>
  );
}

/** A host's totals never change: the overview says them, and a chart of one is a flat line. */
const CONSTANTS = new Set(["memory_total", "swap_total", "disk_total"]);
/** A host's charts under collapsible headings, in the order people look: CPU, memory, disks, network. */
const HOST_GROUPS: [string, RegExp][] = [
  ["CPU and sensors", /^(cpu|load|temperature|fan)_/],
  ["Memory", /^(memory|swap)_/],
  ["Disks", /^disk_/],
  ["Network", /^network_/],
  ["Processes", /^process_/],
];

function hostGroup(name: string): string {
  return HOST_GROUPS.find(([, re]) => re.test(name))?.[0] ?? "Other";
}

function Charts({ plugin, range }: { plugin: Plugin; range: RangeState }) {
  const series = useSeries(plugin.id);
  const preset = RANGES.find((r) => r.key === range.key);
  const ids = useMemo(
    () =>
      (series.data ?? [])
        .filter((s) => !CONSTANTS.has(s.name))
        .map((s) => s.id)
        .sort((a, b) => a - b),
    [series.data],
  );
  const rangeKey = preset ? preset.key : `${range.start}|${range.end}`;
  const data = useRangeQuery(
    ids,
    rangeKey,
    () => {
      const end = preset ? new Date() : new Date(range.end!);
      return [preset ? new Date(end.getTime() - preset.seconds * 1000) : new Date(range.start!), end];
    },
    !preset,
  );
  const type = plugin.type;
  const groups = useMemo(() => {
    const byName = new Map<string, { unit: string; series: QuerySeries[] }>();
    for (const s of data.data?.series ?? []) {
      const g = byName.get(s.name) ?? { unit: s.unit, series: [] };
      g.series.push(s);
      byName.set(s.name, g);
    }
    return [...byName.entries()].sort(([a], [b]) => keyMetricsFirst(type, a, b));
  }, [data.data, type]);

  if (series.isPending) return <Spinner label="Loading metrics…" />;
  if (series.isError) return <ErrorState title="Could not load the metric list" error={series.error} onRetry={() => series.refetch()} />;
  if (ids.length === 0)
    return (
      <EmptyState title="No metrics yet">
        {plugin.enabled ? "Charts appear after the first successful run. Use “Run now” to collect immediately." : "This plugin is disabled. Enable it to collect metrics."}
      </EmptyState>
    );
  if (data.isPending) return <Spinner label="Loading chart data…" />;
  if (data.isError) return <ErrorState title="Could not load chart data" error={data.error} onRetry={() => data.refetch()} />;
  const card = ([name, g]: (typeof groups)[number]) => (
    <section key={name} className="card chart-card" aria-label={metricTitle(name)}>
      <h3>
        {metricTitle(name)} {g.unit ? <span className="muted small">({g.unit})</span> : null}
      </h3>
      {g.series.every((s) => s.points.length === 0) && !preset ? (
        <p className="muted small">No data in this range.</p>
      ) : (
        <TimeChart series={g.series} unit={g.unit} liveWindowSec={preset ? preset.seconds : null} title={metricTitle(name)} window={data.data?.window} />
      )}
      {g.series.length === 1 && labelText(g.series[0].labels) ? <p className="muted small">{labelText(g.series[0].labels)}</p> : null}
    </section>
  );
  const resolution = data.data?.resolution ? <p className="muted small">Resolution: {String(data.data.resolution)}</p> : null;
  if (!HOST_TYPES.has(plugin.type))
    return (
      <div className="chart-grid">
        {groups.map(card)}
        {resolution}
      </div>
    );
  const sections = [...HOST_GROUPS.map(([title]) => title), "Other"]
    .map((title) => [title, groups.filter(([name]) => hostGroup(name) === title)] as const)
    .filter(([, members]) => members.length > 0);
  return (
    <div className="stack-lg">
      {sections.map(([title, members]) => (
        <details key={title} className="chart-group" open>
          <summary>
            {title} <span className="muted small">({members.length})</span>
          </summary>
          <div className="chart-grid">{members.map(card)}</div>
        </details>
      ))}
      {resolution}
    </div>
  );
}

function RunStatus({ status }: { status: string }) {
  const cls = status === "success" ? "healthy" : status === "running" ? "unknown" : status === "timeout" ? "degraded" : "down";
  return <span className={`badge badge-${cls}`}>{status}</span>;
}

function RunHistory({ pluginId }: { pluginId: number }) {
  const [page, setPage] = useState(0);
  const limit = 20;
  const runs = useRuns(pluginId, limit, page * limit);
  if (runs.isPending) return <Spinner label="Loading run history…" />;
  if (runs.isError) return <ErrorState title="Could not load run history" error={runs.error} onRetry={() => runs.refetch()} />;
  const { items, total } = runs.data;
  if (items.length === 0 && page === 0) return <EmptyState title="No runs yet">The scheduler runs this plugin on its interval; “Run now” starts one immediately.</EmptyState>;
  const pages = Math.max(1, Math.ceil(total / limit));
  return (
    <>
      <HealthTimeline runs={items} />
      <Table caption="Run history" columns={["Status", "Started", "Duration", "Samples", "Error"]}>
        {items.map((r) => (
          <tr key={r.id} className={r.status !== "success" ? "row-error" : undefined}>
            <td>
              <RunStatus status={r.status} />
            </td>
            <td title={formatDateTime(r.started_at)}>{timeAgo(r.started_at)}</td>
            <td>{formatDuration(r.duration_ms)}</td>
            <td>{r.sample_count ?? "—"}</td>
            <td className="error-cell">{r.error ?? ""}</td>
          </tr>
        ))}
      </Table>
      {pages > 1 ? <Pager page={page} pages={pages} onPage={setPage} /> : null}
    </>
  );
}

/** The recent runs as a strip of coloured ticks, oldest left: a quick read of health over time. */
function HealthTimeline({ runs }: { runs: PluginRun[] }) {
  const ordered = [...runs].reverse();
  return (
    <div className="timeline" role="img" aria-label={`Last ${runs.length} runs: ${runs.filter((r) => r.status === "success").length} succeeded`}>
      {ordered.map((r) => (
        <span key={r.id} className={`tick tick-${r.status}`} title={`${r.status} · ${formatDateTime(r.started_at)}${r.error ? ` · ${r.error}` : ""}`} />
      ))}
    </div>
  );
}

/** A host's overview, processes and sensors, from one merge of its latest values. */
function HostSection({ pluginId }: { pluginId: number }) {
  const values = usePluginLatest(pluginId);
  return (
    <>
      <HostOverview values={values} />
      <HostProcesses values={values} />
    </>
  );
}

export function PluginDetail({ id, user }: { id: number; user: User }) {
  const plugin = usePlugin(id);
  const healthQ = usePluginHealth(id);
  const types = usePluginTypes();
  const toast = useToast();
  const { store } = useLive();
  usePluginLiveVersion(id);
  const [range, setRange] = useState<RangeState>({ key: "1h" });
  const [confirm, setConfirm] = useState<null | "delete" | "disable">(null);
  const isAdmin = user.role === "admin";
  const managed = useManaged();

  const runNow = useRunPlugin(id, {
    onSuccess: (run) => {
      toast(run.status === "success" ? `Run finished: ${run.sample_count} samples.` : `Run ${run.status}${run.error ? `: ${run.error}` : ""}`, run.status === "success" ? "ok" : "error");
    },
    onError: (e) => toast(errorMessage(e), "error"),
  });
  const toggle = useSetPluginEnabled(id, {
    onSuccess: (p) => {
      setConfirm(null);
      toast(p.enabled ? "Plugin enabled." : "Plugin disabled.");
    },
  });
  const del = useDeletePlugin(id, {
    onSuccess: () => {
      store.forget(id);
      toast("Plugin deleted.");
      navigate("/", { replace: true });
    },
  });

  if (plugin.isPending) return <Spinner label="Loading plugin…" />;
  if (plugin.isError) {
    if (plugin.error instanceof ApiError && plugin.error.status === 404)
      return (
        <EmptyState title="Plugin not found" action={<Link to="/" className="btn">Back to dashboard</Link>}>
          It may have been deleted.
        </EmptyState>
      );
    return <ErrorState title="Could not load the plugin" error={plugin.error} onRetry={() => plugin.refetch()} />;
  }
  const p = plugin.data;
  const baseHealth = store.health.get(id) ?? healthQ.data ?? p.health ?? undefined;
  // Health events arrive only when the status changes; run events keep the times current.
  const liveRun = store.runs.get(id);
  const runAt = liveRun?.finished_at ?? liveRun?.started_at ?? null;
  const newer = (a?: string | null, b?: string | null) => ((a ? Date.parse(a) : 0) >= (b ? Date.parse(b) : 0) ? a : b);
  const health = baseHealth && {
    ...baseHealth,
    last_run_at: newer(baseHealth.last_run_at, runAt),
    last_success_at: liveRun?.status === "success" ? newer(baseHealth.last_success_at, runAt) : baseHealth.last_success_at,
  };
  const type = types.data?.find((t) => t.type === p.type);
  const fileName = managedBy(managed.data, "plugins", p.name);

  return (
    <div className="page" data-testid="plugin-detail">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/">Dashboard</Link> <span aria-hidden="true">/</span> <span aria-current="page">{p.name}</span>
      </nav>
      <div className="page-head">
        <div>
          <h1 className="with-badge">
            {p.name} <HealthBadge status={health?.status} disabled={!p.enabled} />
          </h1>
          <p className="muted">
            {type?.name ?? p.type} · {formatInterval(p.interval_seconds)}
            {` · timeout ${typeof p.config.timeout_seconds === "number" ? p.config.timeout_seconds : p.timeout_seconds}s`}
          </p>
          {fileName ? (
            <p className="muted" data-testid="managed-by">
              <span className="badge">Managed by {fileName}</span> Change it in that file; the server applies it within seconds.
            </p>
          ) : null}
        </div>
        {isAdmin ? (
          <div className="actions">
            <button type="button" className="btn btn-primary" onClick={() => runNow.mutate()} disabled={runNow.isPending || !p.enabled} title={p.enabled ? "Collect now" : "Enable the plugin to run it"}>
              {runNow.isPending ? "Running…" : "Run now"}
            </button>
            {fileName ? null : (
              <Link to={`/plugins/${id}/edit`} className="btn">
                Edit
              </Link>
            )}
            {fileName ? null : p.enabled ? (
              <button type="button" className="btn" onClick={() => setConfirm("disable")}>
                Disable
              </button>
            ) : (
              <button type="button" className="btn" onClick={() => toggle.mutate(true)} disabled={toggle.isPending}>
                Enable
              </button>
            )}
            {fileName ? null : (
              <button type="button" className="btn btn-danger-ghost" onClick={() => setConfirm("delete")}>
                Delete
              </button>
            )}
          </div>
        ) : null}
      </div>
      {toggle.isError && !confirm ? <p className="form-error" role="alert">{errorMessage(toggle.error)}</p> : null}

      <section className="card health-panel" aria-label="Health">
        <dl className="stats">
          <div>
            <dt>Status</dt>
            <dd className="capitalize">{p.enabled ? (health?.status ?? "unknown") : "disabled"}</dd>
          </div>
          <div>
            <dt>Last run</dt>
            <dd title={formatDateTime(health?.last_run_at)}>{timeAgo(health?.last_run_at)}</dd>
          </div>
          <div>
            <dt>Last success</dt>
            <dd title={formatDateTime(health?.last_success_at)}>{timeAgo(health?.last_success_at)}</dd>
          </div>
          <div>
            <dt>Consecutive failures</dt>
            <dd>{health?.consecutive_failures ?? 0}</dd>
          </div>
        </dl>
        {/* The error belongs to the latest run only while it is failing; older ones are in the run history. */}
        {health?.last_error && firstRunFailed(p.enabled, baseHealth, liveRun) ? (
          <p className="last-error" role="status">
            <strong>No data yet: the first run failed.</strong> {health.last_error}
          </p>
        ) : health?.last_error && health.consecutive_failures > 0 && health.status !== "healthy" ? (
          <p className="last-error">
            <strong>Last error:</strong> {health.last_error}
          </p>
        ) : null}
      </section>

      {p.discovered ? (
        <p className="card discovered-note">
          Created from the labels of container <strong>{p.discovered.container}</strong>:{" "}
          {Object.entries(p.discovered.labels)
            .map(([field, label]) => `${field} (${label})`)
            .join(", ")}
          . Edit those labels to change these fields.
        </p>
      ) : null}

      {HOST_TYPES.has(p.type) ? (
        <HostSection pluginId={id} />
      ) : null}

      {(p.locations ?? []).some((loc) => loc !== "hub") ? (
        <>
          <div className="section-head">
            <h2>Locations</h2>
          </div>
          <LocationsPanel pluginId={id} />
        </>
      ) : null}

      <div className="section-head">
        <h2>Uptime</h2>
      </div>
      <UptimePanel pluginId={id} />

      {p.type === "push" && isAdmin ? (
        <>
          <div className="section-head">
            <h2>Push URL</h2>
          </div>
          <PushUrlPanel pluginId={id} pluginName={p.name} />
        </>
      ) : null}

      <div className="section-head">
        <h2>Metrics</h2>
        <RangePicker value={range} onChange={setRange} />
      </div>
      <Charts plugin={p} range={range} />

      <div className="section-head">
        <h2>Run history</h2>
      </div>
      <section className="card">
        <RunHistory pluginId={id} />
      </section>

      {confirm === "delete" ? (
        <ConfirmDialog
          title={`Delete “${p.name}”?`}
          message="Its schedule, run history and collected metrics are removed. This cannot be undone."
          confirmLabel="Delete plugin"
          danger
          busy={del.isPending}
          error={del.error}
          onConfirm={() => del.mutate()}
          onCancel={() => setConfirm(null)}
        />
      ) : null}
      {confirm === "disable" ? (
        <ConfirmDialog
          title={`Disable “${p.name}”?`}
          message="It stops running until you enable it again. Collected data is kept."
          confirmLabel="Disable"
          busy={toggle.isPending}
          error={toggle.error}
          onConfirm={() => toggle.mutate(false)}
          onCancel={() => setConfirm(null)}
        />
      ) : null}
    </div>
  );
}
