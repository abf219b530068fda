// Test doubles: a scriptable WebSocket and a fetch that answers by method + path.
import { vi } from "vitest";
import type { paths } from "../api/schema";

export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onopen: ((ev: Event) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  constructor(public url: string) {
    FakeWebSocket.instances.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close(code = 1000) {
    this.readyState = 3;
    this.onclose?.({ code } as CloseEvent);
  }
  // test helpers
  open() {
    this.readyState = 1;
    this.onopen?.({} as Event);
  }
  serverClose(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code } as CloseEvent);
  }
  receive(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) } as MessageEvent);
  }
  static last(): FakeWebSocket {
    return FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
  }
  static reset() {
    FakeWebSocket.instances = [];
  }
}

type Handler<T = unknown> = (req: Request, url: URL) => T | Response | Promise<T | Response>;

type Method = "get" | "post" | "put" | "patch" | "delete";
/** "GET /api/v1/plugins" for every operation the schema declares. */
type RouteKey = {
  [P in keyof paths & string]: {
    [M in Method]: [NonNullable<paths[P][M]>] extends [never] ? never : `${Uppercase<M>} ${P}`;
  }[Method];
}[keyof paths & string];
type OkJson<O> = O extends { responses: infer R }
  ? (R extends { 200: infer S } ? S : R extends { 201: infer S } ? S : never) extends { content: { "application/json": infer J } }
    ? J
    : unknown
  : unknown;
type ResponseOf<K> = K extends `${infer M} ${infer P}`
  ? P extends keyof paths
    ? Lowercase<M> extends keyof paths[P]
      ? OkJson<NonNullable<paths[P][Lowercase<M>]>>
      : unknown
    : unknown
  : unknown;
/** A route named exactly as in the schema must answer the schema's success body (or a Response);
 * routes with concrete ids ("GET /api/v1/plugins/5") are not checked. */
export type Routes = { [K in RouteKey]?: Handler<ResponseOf<K>> } & Record<string, Handler>;

export function json(body: unknown, status = 200): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

/** Installs a fetch stub; routes are "GET /api/v1/plugins" → handler returning a body or a Response. */
export function mockFetch(routes: Routes) {
  const calls: { method: string; path: string; search: string; body: string | null }[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(req.url);
    const body = req.method === "GET" ? null : await req.clone().text();
    calls.push({ method: req.method, path: url.pathname, search: url.search, body });
    const key = `${req.method} ${url.pathname}`;
    const handler = routes[key];
    if (!handler) return json({ error: "NotFound", detail: `no mock for ${key}` }, 404);
    const out = await handler(req, url);
    return out instanceof Response ? out : json(out);
  });
  vi.stubGlobal("fetch", fn);
  return { fn, calls };
}
