// Series, latest values and range queries: query keys, fetchers and hooks.
import { useMemo } from "react";
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "./client";
import type { components } from "./schema";

type S = components["schemas"];
export type Series = S["SeriesOut"];
export type LatestValue = S["LatestOut"];
export type QuerySeries = S["QuerySeries"];
export type QueryResult = S["QueryResult"];

export const metricKeys = {
  all: ["metrics"] as const,
  /** Series of one plugin, or of every plugin when `pluginId` is undefined. */
  series: (pluginId?: number) => [...metricKeys.all, "series", pluginId ?? "all"] as const,
  latest: () => [...metricKeys.all, "latest"] as const,
  query: (q: { ids: number[]; range: string; points: number }) => [...metricKeys.all, "query", q] as const,
  spark: (seriesId: number | undefined) => [...metricKeys.all, "spark", seriesId] as const,
};

export async function listSeries(pluginId?: number): Promise<Series[]> {
  const query = pluginId === undefined ? { limit: 1000 } : { plugin_id: pluginId };
  return (await unwrap(client.GET("/api/v1/metrics/series", { params: { query } }))).items;
}

export async function latest(): Promise<LatestValue[]> {
  return (await unwrap(client.GET("/api/v1/metrics/latest"))).items;
}

/** The API takes at most this many series per query; larger sets are fetched in parallel chunks. */
const QUERY_CHUNK = 50;

export async function queryMetrics(
  seriesIds: number[],
  start: Date,
  end: Date,
  points: number,
): Promise<{ series: QuerySeries[]; resolution: QueryResult["resolution"] | null }> {
  const chunks: number[][] = [];
  for (let i = 0; i < seriesIds.length; i += QUERY_CHUNK) chunks.push(seriesIds.slice(i, i + QUERY_CHUNK));
  const results = await Promise.all(
    chunks.map((ids) =>
      unwrap(
        client.GET("/api/v1/metrics/query", {
          params: { query: { series_id: ids, start: start.toISOString(), end: end.toISOString(), points } },
        }),
      ),
    ),
  );
  // openapi-fetch widens the schema's `[ts, value]` tuples to plain arrays; the schema is the contract.
  const series = results.flatMap((r) => r.series as QuerySeries[]);
  return { series, resolution: results[0]?.resolution ?? null };
}

export const latestQuery = { queryKey: metricKeys.latest(), queryFn: latest, staleTime: 30_000 };

export const useSeries = (pluginId?: number, enabled = true) =>
  useQuery({ queryKey: metricKeys.series(pluginId), queryFn: () => listSeries(pluginId), enabled, staleTime: 60_000 });
export const useLatestAll = () => useQuery(latestQuery);

/** Metric name → unit, for showing a rule's threshold in its metric's unit. */
export function useMetricUnits(): Map<string, string> {
  const all = useSeries();
  return useMemo(() => new Map((all.data ?? []).map((s) => [s.name, s.unit])), [all.data]);
}

/** Series id → unit for every series, for showing values that arrive without their unit. */
export function useSeriesUnits(): Map<number, string> {
  const all = useSeries();
  return useMemo(() => new Map((all.data ?? []).map((s) => [s.id, s.unit])), [all.data]);
}

/** The last hour of one series at 60 points, for a dashboard sparkline; live samples extend it. */
export const useSparkData = (seriesId: number | undefined, enabled: boolean) =>
  useQuery({
    queryKey: metricKeys.spark(seriesId),
    enabled: seriesId !== undefined && enabled,
    staleTime: Infinity,
    queryFn: async (): Promise<QuerySeries["points"]> => {
      const end = new Date();
      const r = await queryMetrics([seriesId!], new Date(end.getTime() - 3600_000), end, 60);
      return r.series[0]?.points ?? [];
    },
  });

/** Every series of a plugin over a window: `range` names a preset ("1h") or an exact window. */
export const useRangeQuery = (ids: number[], range: string, window: () => [Date, Date], fixed: boolean) =>
  useQuery({
    queryKey: metricKeys.query({ ids, range, points: 300 }),
    enabled: ids.length > 0,
    staleTime: fixed ? 60_000 : Infinity,
    queryFn: async () => {
      const [start, end] = window();
      const r = await queryMetrics(ids, start, end, 300);
      return { ...r, window: [start.getTime() / 1000, end.getTime() / 1000] as [number, number] };
    },
  });
