// One function per API operation the UI uses (DESIGN.md §3); pages call these through TanStack Query.
import { ApiError, asList, client, unwrap } from "./client";
import type {
  ApiToken,
  ApiTokenCreated,
  LatestValue,
  Page,
  Plugin,
  PluginHealth,
  PluginRun,
  PluginType,
  QueryResult,
  Role,
  Series,
  SystemHealth,
  User,
} from "./types";

const V1 = "/api/v1";

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
}

/** true/false when the backend says whether first-run setup is open; null when it cannot tell. */
export async function getSetupStatus(): Promise<boolean | null> {
  try {
    const data = await unwrap<Record<string, unknown>>(client.GET(`${V1}/auth/setup`));
    for (const key of ["needs_setup", "setup_required", "required", "needed", "open"]) {
      if (typeof data?.[key] === "boolean") return data[key] as boolean;
    }
    if (typeof data?.["has_users"] === "boolean") return !data["has_users"];
    if (typeof data?.["user_count"] === "number") return data["user_count"] === 0;
    return null;
  } catch (e) {
    if (e instanceof ApiError && e.status === 0) throw e;
    return null;
  }
}

export async function setup(username: string, password: string): Promise<void> {
  await unwrap(client.POST(`${V1}/auth/setup`, { body: { username, password } }));
}

export async function login(username: string, password: string): Promise<TokenResponse> {
  return unwrap<TokenResponse>(
    client.POST(`${V1}/auth/login`, {
      body: { username, password, grant_type: "password", scope: "" },
      bodySerializer: (b) => new URLSearchParams(b as Record<string, string>).toString(),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    }),
  );
}

export const me = () => unwrap<User>(client.GET(`${V1}/auth/me`));

export async function listPlugins(): Promise<Plugin[]> {
  return asList<Plugin>(await unwrap(client.GET(`${V1}/plugins`)));
}
export const getPlugin = (id: number) =>
  unwrap<Plugin>(client.GET(`${V1}/plugins/{plugin_id}`, { params: { path: { plugin_id: id } } }));

export interface PluginInput {
  name?: string;
  type?: string;
  config?: Record<string, unknown>;
  interval_seconds?: number;
  timeout_seconds?: number;
  enabled?: boolean;
}
export const createPlugin = (body: PluginInput) =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  unwrap<Plugin>(client.POST(`${V1}/plugins`, { body: body as any }));
export const updatePlugin = (id: number, body: PluginInput) =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  unwrap<Plugin>(client.PATCH(`${V1}/plugins/{plugin_id}`, { params: { path: { plugin_id: id } }, body: body as any }));
export const deletePlugin = (id: number) =>
  unwrap<void>(client.DELETE(`${V1}/plugins/{plugin_id}`, { params: { path: { plugin_id: id } } }));
export const runPlugin = (id: number) =>
  unwrap<PluginRun>(client.POST(`${V1}/plugins/{plugin_id}/run`, { params: { path: { plugin_id: id } } }));

export async function listRuns(id: number, limit: number, offset: number): Promise<Page<PluginRun>> {
  const data = await unwrap<unknown>(
    client.GET(`${V1}/plugins/{plugin_id}/runs`, { params: { path: { plugin_id: id }, query: { limit, offset } } }),
  );
  const items = asList<PluginRun>(data);
  const d = (data ?? {}) as Partial<Page<PluginRun>>;
  return { items, total: d.total ?? items.length, limit: d.limit ?? limit, offset: d.offset ?? offset };
}

export const getHealth = (id: number) =>
  unwrap<PluginHealth>(client.GET(`${V1}/plugins/{plugin_id}/health`, { params: { path: { plugin_id: id } } }));

export async function listPluginTypes(): Promise<PluginType[]> {
  return asList<PluginType>(await unwrap(client.GET(`${V1}/plugin-types`)));
}

export async function listSeries(pluginId?: number): Promise<Series[]> {
  const query = pluginId === undefined ? { limit: 1000 } : { plugin_id: pluginId };
  return asList<Series>(await unwrap(client.GET(`${V1}/metrics/series`, { params: { query } })));
}

/** How many alerts are firing right now: the header badge polls this. */
export async function firingCount(): Promise<number> {
  return asList(await unwrap(client.GET(`${V1}/alerts/states`, { params: { query: { state: "firing" } } }))).length;
}

export async function latest(pluginId?: number): Promise<LatestValue[]> {
  const query = pluginId === undefined ? {} : { plugin_id: pluginId };
  return asList<LatestValue>(await unwrap(client.GET(`${V1}/metrics/latest`, { params: { query } })));
}

/** The API takes at most this many series per query; larger sets are fetched in parallel chunks. */
export const QUERY_CHUNK = 50;

export async function queryMetrics(seriesIds: number[], start: Date, end: Date, points: number): Promise<QueryResult> {
  const chunks: number[][] = [];
  for (let i = 0; i < seriesIds.length; i += QUERY_CHUNK) chunks.push(seriesIds.slice(i, i + QUERY_CHUNK));
  const results = await Promise.all(
    chunks.map((ids) =>
      unwrap<QueryResult>(
        client.GET(`${V1}/metrics/query`, {
          params: { query: { series_id: ids, start: start.toISOString(), end: end.toISOString(), points } },
        }),
      ),
    ),
  );
  return { series: results.flatMap((r) => r?.series ?? []), resolution: results[0]?.resolution ?? null };
}

export async function listUsers(): Promise<User[]> {
  return asList<User>(await unwrap(client.GET(`${V1}/users`)));
}
export const createUser = (body: { username: string; password: string; role: Role }) =>
  unwrap<User>(client.POST(`${V1}/users`, { body }));
export const updateUser = (id: number, body: { role?: Role; disabled?: boolean; password?: string }) =>
  unwrap<User>(client.PATCH(`${V1}/users/{user_id}`, { params: { path: { user_id: id } }, body }));

export async function listTokens(): Promise<ApiToken[]> {
  return asList<ApiToken>(await unwrap(client.GET(`${V1}/tokens`)));
}
export const createToken = (name: string) => unwrap<ApiTokenCreated>(client.POST(`${V1}/tokens`, { body: { name } }));
export const deleteToken = (id: number) =>
  unwrap<void>(client.DELETE(`${V1}/tokens/{token_id}`, { params: { path: { token_id: id } } }));

/** /health answers 503 with a body when degraded; both are worth showing. */
export async function systemHealth(): Promise<SystemHealth & { httpStatus: number }> {
  let res: Response;
  try {
    res = await globalThis.fetch(`${window.location.origin}/health`, { headers: { Accept: "application/json" } });
  } catch {
    throw new ApiError(0, "NetworkError", "Cannot reach the Unity server. Check that the backend is running, then retry.");
  }
  let body: SystemHealth = { status: res.ok ? "healthy" : "unhealthy" };
  try {
    body = (await res.json()) as SystemHealth;
  } catch {
    /* not JSON: keep the fallback */
  }
  return { ...body, httpStatus: res.status };
}

export const schedulerStatus = () => unwrap<Record<string, unknown>>(client.GET(`${V1}/scheduler`));
