// Push (heartbeat) monitors: the admin-only secret URL of a push plugin, and its rotation.
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "./client";
import { useCacheMutation, type MutationCallbacks } from "./mutations";
import type { components } from "./schema";

export type PushToken = components["schemas"]["PushTokenOut"];

export const pushKeys = {
  all: ["push"] as const,
  token: (pluginId: number) => [...pushKeys.all, "token", pluginId] as const,
};

const byId = (id: number) => ({ params: { path: { plugin_id: id } } });
const showToken = (id: number) => unwrap(client.GET("/api/v1/plugins/{plugin_id}/push-token", byId(id)));
const rotateToken = (id: number) => unwrap(client.POST("/api/v1/plugins/{plugin_id}/push-token", byId(id)));

/** Fetched only when asked for (`enabled`): the URL is a secret, so it is not put on screen unasked. */
export const usePushToken = (pluginId: number, enabled: boolean) =>
  useQuery({ queryKey: pushKeys.token(pluginId), queryFn: () => showToken(pluginId), enabled, staleTime: Infinity });

export const useRotatePushToken = (pluginId: number, cb?: MutationCallbacks<PushToken, void>) =>
  useCacheMutation(() => rotateToken(pluginId), (qc, token) => qc.setQueryData(pushKeys.token(pluginId), token), cb);
