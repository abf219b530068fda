// Notification channels and their delivery log: query keys, fetchers, hooks and mutations.
import { useQuery } from "@tanstack/react-query";
import { alertKeys } from "./alerts";
import { client, unwrap } from "./client";
import { useCacheMutation, type MutationCallbacks } from "./mutations";
import type { components } from "./schema";

type S = components["schemas"];
export type Channel = S["ChannelOut"];
export type ChannelCreate = S["ChannelCreate"];
export type ChannelTest = S["ChannelTestOut"];

export const channelKeys = {
  all: ["channels"] as const,
  list: () => [...channelKeys.all, "list"] as const,
  deliveries: (id: number) => [...channelKeys.all, "deliveries", id] as const,
  deliveryPage: (id: number, page: { limit: number; offset: number }) => [...channelKeys.deliveries(id), page] as const,
};

const byId = (id: number) => ({ params: { path: { channel_id: id } } });

const listChannels = () => unwrap(client.GET("/api/v1/channels"));
const createChannel = (body: ChannelCreate) => unwrap(client.POST("/api/v1/channels", { body }));
const updateChannel = (id: number, body: ChannelCreate) => unwrap(client.PATCH("/api/v1/channels/{channel_id}", { ...byId(id), body }));
const deleteChannel = (id: number) => unwrap(client.DELETE("/api/v1/channels/{channel_id}", byId(id)));
const testChannel = (id: number) => unwrap(client.POST("/api/v1/channels/{channel_id}/test", byId(id)));
const listDeliveries = (id: number, limit: number, offset: number) =>
  unwrap(client.GET("/api/v1/channels/{channel_id}/deliveries", { params: { path: { channel_id: id }, query: { limit, offset } } }));

export const useChannels = () => useQuery({ queryKey: channelKeys.list(), queryFn: listChannels });
export const useDeliveries = (id: number, limit: number, offset: number) =>
  useQuery({
    queryKey: channelKeys.deliveryPage(id, { limit, offset }),
    queryFn: () => listDeliveries(id, limit, offset),
    refetchInterval: 30_000,
  });

/** Creates a channel, or updates `id` when given. */
export const useSaveChannel = (id: number | undefined, cb?: MutationCallbacks<Channel, ChannelCreate>) =>
  useCacheMutation(
    (body: ChannelCreate) => (id === undefined ? createChannel(body) : updateChannel(id, body)),
    (qc) => void qc.invalidateQueries({ queryKey: channelKeys.list() }),
    cb,
  );

// Rules name their channels: a deleted channel leaves them.
export const useDeleteChannel = (cb?: MutationCallbacks<void, number>) =>
  useCacheMutation(
    deleteChannel,
    (qc) => {
      void qc.invalidateQueries({ queryKey: channelKeys.list() });
      void qc.invalidateQueries({ queryKey: alertKeys.rules() });
    },
    cb,
  );

export const useTestChannel = (cb?: MutationCallbacks<ChannelTest, number>) =>
  useCacheMutation(testChannel, (qc, _r, id) => void qc.invalidateQueries({ queryKey: channelKeys.deliveries(id) }), cb);
