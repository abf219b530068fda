// A plugin's newest value per series: the REST snapshot (/metrics/latest), overtaken by live
// samples. Shared by the dashboard cards and the host page so the merge happens one way.
import { useMemo } from "react";
import { useLatestAll, type LatestValue } from "../api/metrics";
import { useLive, usePluginLiveVersion } from "./LiveProvider";
import { toUnixSeconds, type LivePoint } from "./store";

export interface CurrentValue {
  seriesId: number;
  name: string;
  unit: string;
  labels: Record<string, string>;
  /** Unix seconds. */
  ts: number;
  value: number;
}

/** One value per series: the REST row, replaced by a live point that is at least as new. */
export function mergeLatest(rest: readonly LatestValue[], live: readonly LivePoint[]): CurrentValue[] {
  const m = new Map<number, CurrentValue>();
  for (const r of rest) {
    m.set(r.series_id, { seriesId: r.series_id, name: r.name, unit: r.unit, labels: r.labels ?? {}, ts: toUnixSeconds(r.ts), value: r.value });
  }
  for (const p of live) {
    const prev = m.get(p.seriesId);
    if (!prev || prev.ts <= p.ts) m.set(p.seriesId, { seriesId: p.seriesId, name: p.name, unit: p.unit, labels: p.labels, ts: p.ts, value: p.value });
  }
  return [...m.values()];
}

/** The plugin's current values; recomputed only when the REST snapshot or the plugin's live
 * version changes (store.latestForPlugin returns a fresh array on every call). */
export function usePluginLatest(pluginId: number): CurrentValue[] {
  const version = usePluginLiveVersion(pluginId);
  const { store } = useLive();
  const rest = useLatestAll().data;
  return useMemo(
    () => mergeLatest((rest ?? []).filter((r) => r.plugin_id === pluginId), store.latestForPlugin(pluginId)),
    // `version` is the only signal that the store's values for this plugin changed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [rest, store, pluginId, version],
  );
}
