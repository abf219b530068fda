// Status pages (docs/RUN4_API_LAYER.md): admins choose what each public page shows; anyone
// reads a published one at /status/<slug>. Query keys, fetchers, hooks and mutations.
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "./client";
import { useCacheMutation, type MutationCallbacks } from "./mutations";
import type { components } from "./schema";

type S = components["schemas"];
export type StatusPage = S["StatusPageOut"];
export type StatusPageCreate = S["StatusPageCreate"];
export type StatusGroup = S["StatusGroup"];
export type StatusItem = S["StatusItem"];
export type Announcement = S["Announcement"];
export type PublicStatusPage = S["PublicStatusPage"];
export type PublicMonitor = S["PublicMonitor"];
export type PublicState = PublicMonitor["status"];

export const statusPageKeys = {
  all: ["status-pages"] as const,
  list: () => [...statusPageKeys.all, "list"] as const,
  public: (slug: string) => [...statusPageKeys.all, "public", slug] as const,
};

const byId = (id: number) => ({ params: { path: { page_id: id } } });
const listPages = () => unwrap(client.GET("/api/v1/status-pages"));
const createPage = (body: StatusPageCreate) => unwrap(client.POST("/api/v1/status-pages", { body }));
const updatePage = ({ id, body }: { id: number; body: StatusPageCreate }) =>
  unwrap(client.PATCH("/api/v1/status-pages/{page_id}", { ...byId(id), body }));
const deletePage = (id: number) => unwrap(client.DELETE("/api/v1/status-pages/{page_id}", byId(id)));
const unlockPage = ({ slug, password }: { slug: string; password: string }) =>
  unwrap(client.POST("/api/v1/public/status/{slug}/unlock", { params: { path: { slug } }, body: { password } }));
const uploadLogo = ({ id, file }: { id: number; file: File }) =>
  unwrap(
    client.PUT("/api/v1/status-pages/{page_id}/logo", {
      ...byId(id),
      // The body is the file itself, sent as it is (the server checks its bytes).
      body: file as never,
      bodySerializer: (b: unknown) => b as Blob,
      headers: { "Content-Type": file.type || "application/octet-stream" },
    }),
  );
const removeLogo = (id: number) => unwrap(client.DELETE("/api/v1/status-pages/{page_id}/logo", byId(id)));
const getPublic = (slug: string) => unwrap(client.GET("/api/v1/public/status/{slug}", { params: { path: { slug } } }));

export const useStatusPages = () => useQuery({ queryKey: statusPageKeys.list(), queryFn: listPages });
/** The public view: refreshed each minute, as the server lets caches keep it for 30 s. */
export const usePublicStatus = (slug: string) =>
  useQuery({ queryKey: statusPageKeys.public(slug), queryFn: () => getPublic(slug), refetchInterval: 60_000, retry: false });

const refresh: Parameters<typeof useCacheMutation>[1] = (qc) => void qc.invalidateQueries({ queryKey: statusPageKeys.all });

export const useCreateStatusPage = (cb?: MutationCallbacks<StatusPage, StatusPageCreate>) => useCacheMutation(createPage, refresh, cb);
export const useUpdateStatusPage = (cb?: MutationCallbacks<StatusPage, { id: number; body: StatusPageCreate }>) => useCacheMutation(updatePage, refresh, cb);
export const useUploadLogo = (cb?: MutationCallbacks<StatusPage, { id: number; file: File }>) => useCacheMutation(uploadLogo, refresh, cb);
export const useRemoveLogo = (cb?: MutationCallbacks<StatusPage, number>) => useCacheMutation(removeLogo, refresh, cb);
/** A visitor enters a protected page's password; the server answers a cookie for that page. */
export const useUnlockStatusPage = (cb?: MutationCallbacks<unknown, { slug: string; password: string }>) => useCacheMutation(unlockPage, refresh, cb);
export const useDeleteStatusPage = (cb?: MutationCallbacks<void, number>) => useCacheMutation(deletePage, refresh, cb);

/** Where a page's badges live, for a README or a wiki. */
export function badgeUrls(origin: string, slug: string, item: { key: string; show_response_time?: boolean }): { label: string; url: string }[] {
  const base = `${origin}/api/v1/public/badge/${slug}/${item.key}`;
  const out = [
    { label: "Status badge", url: `${base}/status` },
    { label: "Uptime badge (30 days)", url: `${base}/uptime?window=30d` },
  ];
  if (item.show_response_time) out.push({ label: "Response time badge", url: `${base}/response` });
  return out;
}
