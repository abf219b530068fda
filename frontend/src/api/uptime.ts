// Uptime roll-ups (docs/RUN4_API_LAYER.md): per-plugin windows and the 90-day series, and the
// whole fleet over one window for the plugin list.
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "./client";
import type { components } from "./schema";

type S = components["schemas"];
export type PluginUptime = S["PluginUptime"];
export type UptimeFigures = S["UptimeFigures"];
export type UptimeDay = S["UptimeDay"];
export type UptimeWindow = S["UptimeWindow"];

export const UPTIME_WINDOWS: { key: UptimeWindow; label: string }[] = [
  { key: "24h", label: "24 h" },
  { key: "7d", label: "7 d" },
  { key: "30d", label: "30 d" },
  { key: "90d", label: "90 d" },
  { key: "365d", label: "365 d" },
];

export const uptimeKeys = {
  all: ["uptime"] as const,
  plugin: (id: number) => [...uptimeKeys.all, "plugin", id] as const,
  list: (window: UptimeWindow) => [...uptimeKeys.all, "list", window] as const,
};

const getPluginUptime = (id: number) =>
  unwrap(client.GET("/api/v1/plugins/{plugin_id}/uptime", { params: { path: { plugin_id: id } } }));
const listUptime = (window: UptimeWindow) => unwrap(client.GET("/api/v1/uptime", { params: { query: { window, days: 0 } } }));

/** Roll-ups change by the minute at most: a minute's staleness is honest enough. */
export const usePluginUptime = (id: number) =>
  useQuery({ queryKey: uptimeKeys.plugin(id), queryFn: () => getPluginUptime(id), staleTime: 60_000, refetchInterval: 5 * 60_000 });
export const useUptimeList = (window: UptimeWindow) =>
  useQuery({ queryKey: uptimeKeys.list(window), queryFn: () => listUptime(window), staleTime: 60_000 });
