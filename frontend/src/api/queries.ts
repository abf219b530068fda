// TanStack Query keys and hooks: one place that says what is cached and under which key.
import { useQuery } from "@tanstack/react-query";
import * as api from "./endpoints";

export const qk = {
  me: ["me"] as const,
  setup: ["setup"] as const,
  plugins: ["plugins"] as const,
  plugin: (id: number) => ["plugins", id] as const,
  types: ["plugin-types"] as const,
  health: (id: number) => ["health", id] as const,
  runsPrefix: (id: number) => ["runs", id] as const,
  runs: (id: number, limit: number, offset: number) => ["runs", id, limit, offset] as const,
  series: (id: number) => ["metrics", "series", id] as const,
  latestAll: ["metrics", "latest"] as const,
  query: (ids: number[], range: string, points: number) => ["metrics", "query", ids.join(","), range, points] as const,
  users: ["users"] as const,
  tokens: ["tokens"] as const,
  systemHealth: ["system-health"] as const,
  scheduler: ["scheduler"] as const,
  firingCount: ["alerts", "firing-count"] as const,
};

export const useMe = (enabled = true) => useQuery({ queryKey: qk.me, queryFn: api.me, enabled, staleTime: 60_000 });
export const usePlugins = () => useQuery({ queryKey: qk.plugins, queryFn: api.listPlugins });
export const usePlugin = (id: number, enabled = true) =>
  useQuery({ queryKey: qk.plugin(id), queryFn: () => api.getPlugin(id), enabled });
export const usePluginTypes = () =>
  useQuery({ queryKey: qk.types, queryFn: api.listPluginTypes, staleTime: 5 * 60_000 });
export const usePluginHealth = (id: number, enabled = true) =>
  useQuery({ queryKey: qk.health(id), queryFn: () => api.getHealth(id), enabled, staleTime: 30_000 });
export const useRuns = (id: number, limit: number, offset: number) =>
  useQuery({ queryKey: qk.runs(id, limit, offset), queryFn: () => api.listRuns(id, limit, offset) });
export const useSeries = (id: number) =>
  useQuery({ queryKey: qk.series(id), queryFn: () => api.listSeries(id), staleTime: 60_000 });
export const useLatestAll = () =>
  useQuery({ queryKey: qk.latestAll, queryFn: () => api.latest(), staleTime: 30_000 });
/** The header badge: polled every 30 s (and refreshed on health changes by LiveProvider). */
export const useFiringCount = () =>
  useQuery({ queryKey: qk.firingCount, queryFn: api.firingCount, refetchInterval: 30_000, staleTime: 10_000, retry: false });
