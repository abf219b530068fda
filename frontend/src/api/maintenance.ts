// Maintenance windows (docs/ALERTS.md): one-off, weekly or cron; they mute notifications and
// are left out of uptime. Query keys, fetchers, hooks and mutations.
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "./client";
import { useCacheMutation, type MutationCallbacks } from "./mutations";
import { uptimeKeys } from "./uptime";
import type { components } from "./schema";

type S = components["schemas"];
export type Maintenance = S["MaintenanceOut"];
export type MaintenanceCreate = S["MaintenanceCreate"];
export type MaintenanceUpdate = S["MaintenanceUpdate"];
export type MaintenanceKind = Maintenance["kind"];

export const maintenanceKeys = {
  all: ["maintenance"] as const,
  list: () => [...maintenanceKeys.all, "list"] as const,
};

const byId = (id: number) => ({ params: { path: { window_id: id } } });
const listWindows = () => unwrap(client.GET("/api/v1/maintenance"));
const createWindow = (body: MaintenanceCreate) => unwrap(client.POST("/api/v1/maintenance", { body }));
const updateWindow = ({ id, body }: { id: number; body: MaintenanceUpdate }) =>
  unwrap(client.PATCH("/api/v1/maintenance/{window_id}", { ...byId(id), body }));
const endWindow = (id: number) => unwrap(client.POST("/api/v1/maintenance/{window_id}/end", byId(id)));
const deleteWindow = (id: number) => unwrap(client.DELETE("/api/v1/maintenance/{window_id}", byId(id)));

/** Polled each minute so "active now" follows the clock. */
export const useMaintenance = () => useQuery({ queryKey: maintenanceKeys.list(), queryFn: listWindows, refetchInterval: 60_000 });

const refresh: Parameters<typeof useCacheMutation>[1] = (qc) => {
  void qc.invalidateQueries({ queryKey: maintenanceKeys.all });
  void qc.invalidateQueries({ queryKey: uptimeKeys.all });
};

export const useCreateMaintenance = (cb?: MutationCallbacks<Maintenance, MaintenanceCreate>) => useCacheMutation(createWindow, refresh, cb);
export const useUpdateMaintenance = (cb?: MutationCallbacks<Maintenance, { id: number; body: MaintenanceUpdate }>) => useCacheMutation(updateWindow, refresh, cb);
export const useEndMaintenance = (cb?: MutationCallbacks<Maintenance, number>) => useCacheMutation(endWindow, refresh, cb);
export const useDeleteMaintenance = (cb?: MutationCallbacks<void, number>) => useCacheMutation(deleteWindow, refresh, cb);
