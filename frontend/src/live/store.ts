// In-memory live data: the newest value per series and listeners per series/plugin, so a
// WebSocket sample reaches exactly the charts and cards showing it without a React re-render cascade.
import type { HealthEvent, LiveSample, RunEvent } from "./events";

export interface LivePoint {
  seriesId: number;
  pluginId: number;
  name: string;
  unit: string;
  labels: Record<string, string>;
  /** Unix seconds. */
  ts: number;
  value: number;
}

type Fn<T> = (v: T) => void;

function add<K, T>(map: Map<K, Set<Fn<T>>>, key: K, fn: Fn<T>): () => void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(fn);
  return () => {
    set!.delete(fn);
    if (set!.size === 0) map.delete(key);
  };
}

export function toUnixSeconds(ts: string | number | undefined): number {
  if (typeof ts === "number") return ts > 1e12 ? ts / 1000 : ts;
  if (!ts) return Date.now() / 1000;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? Date.now() / 1000 : ms / 1000;
}

export class LiveStore {
  private latest = new Map<number, LivePoint>();
  private byPlugin = new Map<number, Set<number>>();
  private seriesListeners = new Map<number, Set<Fn<LivePoint>>>();
  private pluginListeners = new Map<number, Set<Fn<number>>>();
  private anyListeners = new Set<Fn<number>>();
  private versions = new Map<number, number>();
  readonly runs = new Map<number, RunEvent["run"]>();
  readonly health = new Map<number, HealthEvent["health"]>();

  ingestMetrics(pluginId: number, ts: string | number, samples: LiveSample[]): LivePoint[] {
    const t = toUnixSeconds(ts);
    const points: LivePoint[] = [];
    for (const s of samples) {
      if (typeof s.series_id !== "number" || typeof s.value !== "number") continue;
      const p: LivePoint = {
        seriesId: s.series_id,
        pluginId,
        name: s.name,
        unit: s.unit,
        labels: s.labels,
        ts: t,
        value: s.value,
      };
      const prev = this.latest.get(p.seriesId);
      if (!prev || prev.ts <= p.ts) this.latest.set(p.seriesId, p);
      let ids = this.byPlugin.get(pluginId);
      if (!ids) this.byPlugin.set(pluginId, (ids = new Set()));
      ids.add(p.seriesId);
      points.push(p);
    }
    for (const p of points) this.seriesListeners.get(p.seriesId)?.forEach((fn) => fn(p));
    if (points.length) this.bump(pluginId);
    return points;
  }

  ingestRun(pluginId: number, run: RunEvent["run"]): void {
    this.runs.set(pluginId, run);
    this.bump(pluginId);
  }

  ingestHealth(pluginId: number, health: HealthEvent["health"]): void {
    this.health.set(pluginId, health);
    this.bump(pluginId);
  }

  latestForPlugin(pluginId: number): LivePoint[] {
    const ids = this.byPlugin.get(pluginId);
    if (!ids) return [];
    return [...ids].map((id) => this.latest.get(id)!).filter(Boolean);
  }

  latestForSeries(seriesId: number): LivePoint | undefined {
    return this.latest.get(seriesId);
  }

  /** Changes whenever anything about the plugin changes; for useSyncExternalStore. */
  version(pluginId: number): number {
    return this.versions.get(pluginId) ?? 0;
  }

  onSeries(seriesId: number, fn: Fn<LivePoint>): () => void {
    return add(this.seriesListeners, seriesId, fn);
  }

  onPlugin(pluginId: number, fn: Fn<number>): () => void {
    return add(this.pluginListeners, pluginId, fn);
  }

  onAny(fn: Fn<number>): () => void {
    this.anyListeners.add(fn);
    return () => this.anyListeners.delete(fn);
  }

  forget(pluginId: number): void {
    for (const id of this.byPlugin.get(pluginId) ?? []) this.latest.delete(id);
    this.byPlugin.delete(pluginId);
    this.runs.delete(pluginId);
    this.health.delete(pluginId);
    this.bump(pluginId);
  }

  clear(): void {
    this.latest.clear();
    this.byPlugin.clear();
    this.runs.clear();
    this.health.clear();
  }

  private bump(pluginId: number): void {
    this.versions.set(pluginId, (this.versions.get(pluginId) ?? 0) + 1);
    this.pluginListeners.get(pluginId)?.forEach((fn) => fn(pluginId));
    this.anyListeners.forEach((fn) => fn(pluginId));
  }
}
