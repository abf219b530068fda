// Plugin instances, their types, runs and health: query keys, fetchers, hooks and mutations.
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "./client";
import { metricKeys } from "./metrics";
import { useCacheMutation, type MutationCallbacks } from "./mutations";
import type { components } from "./schema";

type S = components["schemas"];
export type Plugin = S["PluginOut"];
export type PluginCreate = S["PluginCreate"];
export type PluginUpdate = S["PluginUpdate"];
export type PluginType = S["PluginTypeOut"];
export type PluginRun = S["RunOut"];
export type PluginHealth = S["HealthOut"];
export type HealthStatus = PluginHealth["status"];
export type DependencyProposal = S["DependencyProposal"];

/** True when an enabled plugin has finished a run but never succeeded: its only samples are
 * failure values (up = 0, …), so pages say "the first run failed" instead of showing zeros.
 * `run` is the newest run seen live, if any; one still running does not count yet. */
export function firstRunFailed(
  enabled: boolean,
  health: Pick<PluginHealth, "last_run_at" | "last_success_at"> | null | undefined,
  run: Pick<PluginRun, "status"> | undefined,
): boolean {
  const everSucceeded = Boolean(health?.last_success_at) || run?.status === "success";
  const hasRun = Boolean(health?.last_run_at) || (run !== undefined && run.status !== "running");
  return enabled && hasRun && !everSucceeded;
}

export const pluginKeys = {
  all: ["plugins"] as const,
  list: () => [...pluginKeys.all, "list"] as const,
  types: () => [...pluginKeys.all, "types"] as const,
  detail: (id: number) => [...pluginKeys.all, "detail", id] as const,
  health: (id: number) => [...pluginKeys.detail(id), "health"] as const,
  runs: (id: number) => [...pluginKeys.detail(id), "runs"] as const,
  runPage: (id: number, page: { limit: number; offset: number }) => [...pluginKeys.runs(id), page] as const,
  proposals: () => [...pluginKeys.all, "proposals"] as const,
};

const byId = (id: number) => ({ params: { path: { plugin_id: id } } });

export const listPlugins = () => unwrap(client.GET("/api/v1/plugins"));
export const listPluginTypes = () => unwrap(client.GET("/api/v1/plugin-types"));
export const getPlugin = (id: number) => unwrap(client.GET("/api/v1/plugins/{plugin_id}", byId(id)));
export const getHealth = (id: number) => unwrap(client.GET("/api/v1/plugins/{plugin_id}/health", byId(id)));
export const listRuns = (id: number, limit: number, offset: number) =>
  unwrap(client.GET("/api/v1/plugins/{plugin_id}/runs", { params: { path: { plugin_id: id }, query: { limit, offset } } }));
export const listProposals = () => unwrap(client.GET("/api/v1/plugins/dependency-proposals"));
const createPlugin = (body: PluginCreate) => unwrap(client.POST("/api/v1/plugins", { body }));
const updatePlugin = (id: number, body: PluginUpdate) =>
  unwrap(client.PATCH("/api/v1/plugins/{plugin_id}", { ...byId(id), body }));
const deletePlugin = (id: number) => unwrap(client.DELETE("/api/v1/plugins/{plugin_id}", byId(id)));
const runPlugin = (id: number) => unwrap(client.POST("/api/v1/plugins/{plugin_id}/run", byId(id)));

export const pluginListQuery = { queryKey: pluginKeys.list(), queryFn: listPlugins };
export const pluginTypesQuery = { queryKey: pluginKeys.types(), queryFn: listPluginTypes, staleTime: 5 * 60_000 };
export const pluginHealthQuery = (id: number) => ({ queryKey: pluginKeys.health(id), queryFn: () => getHealth(id), staleTime: 30_000 });

export const usePlugins = () => useQuery(pluginListQuery);
/** The list for pickers: refetched on mount, so a plugin added a moment ago is offered. */
export const useFreshPlugins = () => useQuery({ ...pluginListQuery, staleTime: 0 });
export const usePluginTypes = () => useQuery(pluginTypesQuery);
export const usePlugin = (id: number, enabled = true) =>
  useQuery({ queryKey: pluginKeys.detail(id), queryFn: () => getPlugin(id), enabled });
export const usePluginHealth = (id: number) => useQuery(pluginHealthQuery(id));
/** Parents Unity suggests (a host's ping, the docker plugin of a container's check). */
export const useDependencyProposals = () => useQuery({ queryKey: pluginKeys.proposals(), queryFn: listProposals, staleTime: 0 });
export const useRuns = (id: number, limit: number, offset: number) =>
  useQuery({ queryKey: pluginKeys.runPage(id, { limit, offset }), queryFn: () => listRuns(id, limit, offset) });

function cacheSaved(qc: Parameters<Parameters<typeof useCacheMutation>[1]>[0], saved: Plugin) {
  void qc.invalidateQueries({ queryKey: pluginKeys.list() });
  void qc.invalidateQueries({ queryKey: pluginKeys.proposals() });
  qc.setQueryData(pluginKeys.detail(saved.id), saved);
  void qc.invalidateQueries({ queryKey: pluginKeys.health(saved.id) });
}

/** Creates a plugin, or updates `id` when given; an update leaves the type out, as it cannot change. */
export const useSavePlugin = (id: number | undefined, cb?: MutationCallbacks<Plugin, PluginCreate>) =>
  useCacheMutation(
    (body: PluginCreate) => {
      if (id === undefined) return createPlugin(body);
      const { type: _fixed, ...changes } = body;
      return updatePlugin(id, changes);
    },
    cacheSaved,
    cb,
  );

export const useSetPluginEnabled = (id: number, cb?: MutationCallbacks<Plugin, boolean>) =>
  useCacheMutation((enabled: boolean) => updatePlugin(id, { enabled }), cacheSaved, cb);

export const useDeletePlugin = (id: number, cb?: MutationCallbacks<void, void>) =>
  useCacheMutation(
    () => deletePlugin(id),
    (qc) => {
      qc.removeQueries({ queryKey: pluginKeys.detail(id) });
      void qc.invalidateQueries({ queryKey: pluginKeys.list() });
      void qc.invalidateQueries({ queryKey: metricKeys.latest() });
    },
    cb,
  );

export const useRunPlugin = (id: number, cb?: MutationCallbacks<PluginRun, void>) =>
  useCacheMutation(
    () => runPlugin(id),
    (qc) => {
      void qc.invalidateQueries({ queryKey: pluginKeys.runs(id) });
      void qc.invalidateQueries({ queryKey: pluginKeys.health(id) });
      void qc.invalidateQueries({ queryKey: metricKeys.series(id) });
    },
    cb,
  );
