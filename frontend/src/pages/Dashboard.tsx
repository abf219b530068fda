// The dashboard: one card per plugin instance with health, last run, key values and a live sparkline.
import { lazy, memo, Suspense, useEffect, useMemo, useRef, useState } from "react";
import { useQueries } from "@tanstack/react-query";
import { useLatestAll, useSparkData, type LatestValue } from "../api/metrics";
import {
  firstRunFailed,
  pluginHealthQuery,
  usePlugins,
  usePluginTypes,
  type HealthStatus,
  type Plugin,
  type PluginHealth,
  type PluginType,
} from "../api/plugins";
import type { User } from "../api/session";
import { useLive, usePluginLiveVersion } from "../live/LiveProvider";
import { toUnixSeconds } from "../live/store";
import { mergeLatest, type CurrentValue } from "../live/latestValues";
import { Link } from "../router";
import { EmptyState, ErrorState, HealthBadge, Spinner } from "../components/ui";
import { UptimeFigure } from "../components/UptimeFigure";
import { useUptimeList, type UptimeFigures } from "../api/uptime";
import { formatInterval, formatValue, labelText, shortMetricName, timeAgo } from "../format";
import { KEY_METRICS } from "./keyMetrics";

// uPlot and the sparkline come in their own chunk, fetched when the first card with a line is near
// the viewport: the first paint and the cards' values need none of it.
const Sparkline = lazy(() => import("../components/Sparkline").then((m) => ({ default: m.Sparkline })));
const SPARK_PLACEHOLDER = <div className="sparkline sparkline-empty" aria-hidden="true" />;

const PRIMARY_HINTS = [
  // A device's verdict first: a disk's or pool's health, a UPS on battery, a hypervisor node up.
  /_healthy$|^ups_on_battery$|_node_online$/i,
  /ups_battery_charge|ups_battery_runtime|_connect_seconds$/i,
  /response_time|latency|rtt_avg|connect_time|duration/i,
  /(^|_node_)cpu_percent$/i,
  /(^|_node_)memory_percent$/i,
  /^disk_percent$/i,
  /status_code|packet_loss|running|answer_count/i,
  /load/i,
  /percent|usage|util|temp/i,
  /^up$/i,
];

/** Orders a plugin's latest values so the most telling metric comes first (it gets the sparkline):
 * the type's key metrics, then known "headline" metrics, aggregate (unlabelled) series before
 * per-device ones. */
export function rankValues(values: CurrentValue[], type?: string): CurrentValue[] {
  const keys = (type && KEY_METRICS[type]) || [];
  // Each value's rank is worked out once (a host has a hundred-odd series: testing the hints
  // inside the sort's comparator cost 60 ms of the dashboard's first render under a 4x slowdown).
  const rank = new Map<string, number>();
  const keyed = values.map((v) => {
    let score = rank.get(v.name);
    if (score === undefined) {
      const k = keys.indexOf(v.name);
      const i = k >= 0 ? -1 : PRIMARY_HINTS.findIndex((re) => re.test(v.name));
      score = k >= 0 ? k - keys.length : i < 0 ? PRIMARY_HINTS.length - 0.5 : i;
      rank.set(v.name, score);
    }
    return { v, score, labelled: Object.keys(v.labels).length ? 1 : 0 };
  });
  keyed.sort(
    (a, b) =>
      a.score - b.score ||
      a.labelled - b.labelled ||
      (a.v.name < b.v.name ? -1 : a.v.name > b.v.name ? 1 : 0) || // metric names: ASCII snake_case
      a.v.seriesId - b.v.seriesId,
  );
  return keyed.map((k) => k.v);
}

/** The values a card shows: the best few, one per metric name. */
export function headlineValues(ranked: CurrentValue[], n = 3): CurrentValue[] {
  const seen = new Set<string>();
  const out: CurrentValue[] = [];
  for (const v of ranked) {
    if (seen.has(v.name)) continue;
    seen.add(v.name);
    out.push(v);
    if (out.length === n) break;
  }
  return out;
}

/** True once the element has come near the viewport: off-screen cards skip chart work at load. */
function useNearViewport<T extends Element>(): [React.RefObject<T | null>, boolean] {
  const ref = useRef<T>(null);
  const [seen, setSeen] = useState(typeof IntersectionObserver === "undefined");
  useEffect(() => {
    if (seen || !ref.current) return;
    const io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setSeen(true), { rootMargin: "200px" });
    io.observe(ref.current);
    return () => io.disconnect();
  }, [seen]);
  return [ref, seen];
}

/** The sparkline's first hour, as the uPlot columns it draws; live samples extend it. */
function useSparkColumns(seriesId: number | undefined, enabled: boolean): [number[], (number | null)[]] | null {
  const pts = useSparkData(seriesId, enabled).data;
  return useMemo(() => (pts ? [pts.map((p) => toUnixSeconds(p[0])), pts.map((p) => p[1])] : null), [pts]);
}

const PluginCard = memo(function PluginCard({
  plugin,
  rest,
  type,
  health,
  uptime,
}: {
  plugin: Plugin;
  rest: LatestValue[];
  type: PluginType | undefined;
  health: PluginHealth | undefined;
  uptime?: UptimeFigures;
}) {
  const version = usePluginLiveVersion(plugin.id);
  const { store } = useLive();
  const run = store.runs.get(plugin.id);
  // eslint-disable-next-line react-hooks/exhaustive-deps -- `version` says the store's values changed
  const values = useMemo(() => rankValues(mergeLatest(rest, store.latestForPlugin(plugin.id)), plugin.type), [rest, store, plugin.id, plugin.type, version]);
  const primary = values[0];
  const [cardRef, near] = useNearViewport<HTMLElement>();
  const spark = useSparkColumns(plugin.enabled ? primary?.seriesId : undefined, near);
  const lastRun = run?.finished_at ?? run?.started_at ?? health?.last_run_at ?? null;
  const status: HealthStatus = health?.status ?? "unknown";
  const failedFirst = firstRunFailed(plugin.enabled, health, run);
  const shown = failedFirst ? [] : headlineValues(values);

  return (
    <article ref={cardRef} className={`card plugin-card status-${plugin.enabled ? status : "disabled"}`} data-plugin-id={plugin.id} data-health={plugin.enabled ? status : "disabled"}>
      <header className="card-head">
        <div className="card-title">
          <h2>
            <Link to={`/plugins/${plugin.id}`} className="stretched">
              {plugin.name}
            </Link>
          </h2>
          <span className="muted small">
            {type?.name ?? plugin.type} · {formatInterval(plugin.interval_seconds)}
          </span>
        </div>
        <HealthBadge status={status} disabled={!plugin.enabled} />
      </header>
      {shown.length ? (
        <dl className="kv-values">
          {shown.map((v) => (
            <div key={v.seriesId} className="kv-value">
              <dt title={`${v.name}${labelText(v.labels) ? ` (${labelText(v.labels)})` : ""}`}>
                {shortMetricName(v.name, plugin.type)}
                {labelText(v.labels) ? <span className="muted"> {Object.values(v.labels).join("/")}</span> : null}
              </dt>
              <dd data-series={v.seriesId}>{formatValue(v.value, v.unit)}</dd>
            </div>
          ))}
        </dl>
      ) : (
        <p className="muted small card-placeholder">
          {!plugin.enabled ? "Disabled: no data is being collected." : failedFirst ? "No data yet: the first run failed." : "Waiting for the first run to report data…"}
        </p>
      )}
      {primary && plugin.enabled && near && !failedFirst ? (
        <Suspense fallback={SPARK_PLACEHOLDER}>
          <Sparkline seriesId={primary.seriesId} initial={spark} label={shortMetricName(primary.name, plugin.type)} />
        </Suspense>
      ) : (
        SPARK_PLACEHOLDER
      )}
      <footer className="card-foot small">
        <span className="muted">Last run {timeAgo(lastRun)}</span>
        <UptimeFigure figures={uptime} label="30 d" />
        {health?.last_error && status !== "healthy" ? (
          <span className="card-error" title={health.last_error}>
            {health.last_error}
          </span>
        ) : null}
      </footer>
    </article>
  );
});

const FILTERS: { value: string; label: string }[] = [
  { value: "all", label: "All" },
  { value: "healthy", label: "Healthy" },
  { value: "degraded", label: "Degraded" },
  { value: "down", label: "Down" },
  { value: "unknown", label: "Unknown" },
  { value: "disabled", label: "Disabled" },
];

export function Dashboard({ user }: { user: User }) {
  const plugins = usePlugins();
  const latestQ = useLatestAll();
  const types = usePluginTypes();
  const uptimeQ = useUptimeList("30d");
  const [q, setQ] = useState("");
  const [filter, setFilter] = useState("all");
  const isAdmin = user.role === "admin";

  const byPlugin = useMemo(() => {
    const m = new Map<number, LatestValue[]>();
    for (const v of latestQ.data ?? []) {
      const list = m.get(v.plugin_id) ?? [];
      list.push(v);
      m.set(v.plugin_id, list);
    }
    return m;
  }, [latestQ.data]);
  const uptimeById = useMemo(() => new Map((uptimeQ.data?.items ?? []).map((u) => [u.plugin_id, u])), [uptimeQ.data]);
  const typeMap = useMemo(() => new Map((types.data ?? []).map((t) => [t.type, t])), [types.data]);
  const all = plugins.data ?? EMPTY_PLUGINS;
  // Live "health" events write into these cache entries, so counts and badges follow them.
  const healthQs = useQueries({
    queries: all.map((p) => ({
      ...pluginHealthQuery(p.id),
      enabled: !p.health,
    })),
  });
  const healthOf = (i: number): PluginHealth | undefined => healthQs[i]?.data ?? all[i].health ?? undefined;

  if (plugins.isPending) return <Spinner label="Loading plugins…" />;
  if (plugins.isError) return <ErrorState title="Could not load plugins" error={plugins.error} onRetry={() => plugins.refetch()} />;

  const list = plugins.data;
  const healthById = new Map(list.map((p, i) => [p.id, healthOf(i)]));
  const statusOf = (p: Plugin): string => (p.enabled ? (healthById.get(p.id)?.status ?? "unknown") : "disabled");
  const counts = list.reduce<Record<string, number>>((acc, p) => {
    const s = statusOf(p);
    acc[s] = (acc[s] ?? 0) + 1;
    return acc;
  }, {});
  const needle = q.trim().toLowerCase();
  const visible = list
    .filter((p) => !needle || p.name.toLowerCase().includes(needle) || p.type.toLowerCase().includes(needle))
    .filter((p) => filter === "all" || statusOf(p) === filter)
    .sort((a, b) => a.name.localeCompare(b.name));

  return (
    <div className="page" data-testid="dashboard" data-ready={plugins.isSuccess ? "true" : "false"}>
      <div className="page-head">
        <div>
          <h1>Dashboard</h1>
          <p className="muted">
            {list.length} plugin{list.length === 1 ? "" : "s"}
            {list.length ? (
              <>
                {" · "}
                <span className="count-healthy">{counts.healthy ?? 0} healthy</span>
                {counts.degraded ? <span className="count-degraded"> · {counts.degraded} degraded</span> : null}
                {counts.down ? <span className="count-down"> · {counts.down} down</span> : null}
              </>
            ) : null}
          </p>
        </div>
        {isAdmin ? (
          <Link to="/plugins/new" className="btn btn-primary">
            + Add plugin
          </Link>
        ) : null}
      </div>

      {list.length === 0 ? (
        <EmptyState
          title="No plugins yet"
          action={
            isAdmin ? (
              <Link to="/plugins/new" className="btn btn-primary">
                Add your first plugin
              </Link>
            ) : null
          }
        >
          {isAdmin
            ? "Plugins collect metrics from hosts, containers and services. Add one to start monitoring."
            : "Ask an administrator to add plugins; you can view them here once they exist."}
        </EmptyState>
      ) : (
        <>
          <div className="toolbar" role="search">
            <label className="sr-only" htmlFor="dash-search">
              Search plugins
            </label>
            <input id="dash-search" type="search" placeholder="Search by name or type…" value={q} onChange={(e) => setQ(e.target.value)} />
            <div className="segmented" role="group" aria-label="Filter by status">
              {FILTERS.filter((f) => f.value === "all" || counts[f.value]).map((f) => (
                <button
                  key={f.value}
                  type="button"
                  className={filter === f.value ? "active" : undefined}
                  aria-pressed={filter === f.value}
                  onClick={() => setFilter(f.value)}
                >
                  {f.label}
                  {f.value !== "all" ? <span className="seg-count">{counts[f.value]}</span> : null}
                </button>
              ))}
            </div>
          </div>
          {latestQ.isError ? (
            <p className="banner banner-warn" role="status">
              Latest values could not be loaded ({latestQ.error.message}); cards fill in as live data arrives.
            </p>
          ) : null}
          {visible.length === 0 ? (
            <EmptyState title="No plugin matches">Clear the search or pick another status filter.</EmptyState>
          ) : (
            <div className="card-grid">
              {visible.map((p) => (
                <PluginCard key={p.id} plugin={p} rest={byPlugin.get(p.id) ?? EMPTY} type={typeMap.get(p.type)} health={healthById.get(p.id)} uptime={uptimeById.get(p.id)} />
              ))}
            </div>
          )}
        </>
      )}
    </div>
  );
}

const EMPTY: LatestValue[] = [];
const EMPTY_PLUGINS: Plugin[] = [];
