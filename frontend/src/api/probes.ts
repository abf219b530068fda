// Remote probes: each location's check-ins, and a plugin's latest result per location.
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "./client";
import type { components } from "./schema";

export type ProbeInfo = components["schemas"]["ProbeOut"];
export type PluginLocations = components["schemas"]["PluginLocations"];
export type LocationResult = components["schemas"]["LocationOut"];

export const probeKeys = {
  all: ["probes"] as const,
  list: () => [...probeKeys.all, "list"] as const,
  plugin: (pluginId: number) => [...probeKeys.all, "plugin", pluginId] as const,
};

const listProbes = () => unwrap(client.GET("/api/v1/probes"));
const pluginLocations = (id: number) =>
  unwrap(client.GET("/api/v1/plugins/{plugin_id}/locations", { params: { path: { plugin_id: id } } }));

/** Polled: a probe going silent is news nobody pushes over the WebSocket. */
export const useProbes = () => useQuery({ queryKey: probeKeys.list(), queryFn: listProbes, refetchInterval: 10_000 });
export const usePluginLocations = (pluginId: number, enabled = true) =>
  useQuery({ queryKey: probeKeys.plugin(pluginId), queryFn: () => pluginLocations(pluginId), enabled, refetchInterval: 10_000 });
