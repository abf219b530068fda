// The typed HTTP client: same-origin requests to /api/v1 with the bearer token, and one
// error type that turns the API's `{"error","detail"}` and FastAPI's 422 bodies into sentences.
import createClient from "openapi-fetch";
import type { paths } from "./schema";
import { auth } from "./auth";

export class ApiError extends Error {
  readonly status: number;
  readonly kind: string;
  /** Field path (e.g. "config.url", "name") → message, from a 422 body's `loc`. */
  readonly fieldErrors: Record<string, string>;

  constructor(status: number, kind: string, message: string, fieldErrors: Record<string, string> = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.kind = kind;
    this.fieldErrors = fieldErrors;
  }
}

interface ValidationItem {
  loc?: (string | number)[];
  msg?: string;
  type?: string;
}

/** Maps a 422 `loc` to a form field path: drops the "body"/"query" prefix. */
export function locToField(loc: (string | number)[] | undefined): string {
  if (!loc || loc.length === 0) return "";
  const parts = [...loc];
  if (parts[0] === "body" || parts[0] === "query" || parts[0] === "path") parts.shift();
  return parts.map(String).join(".");
}

function cleanMsg(msg: string): string {
  // Pydantic prefixes custom errors with "Value error, "; the user needs only the sentence.
  return msg.replace(/^Value error, /, "");
}

export function toApiError(status: number, body: unknown, statusText = ""): ApiError {
  if (body && typeof body === "object") {
    const b = body as { error?: unknown; detail?: unknown };
    if (Array.isArray(b.detail)) {
      const fieldErrors: Record<string, string> = {};
      const loose: string[] = [];
      for (const item of b.detail as ValidationItem[]) {
        const field = locToField(item.loc);
        const msg = cleanMsg(String(item.msg ?? "is invalid"));
        if (field) {
          if (!fieldErrors[field]) fieldErrors[field] = msg;
        } else loose.push(msg);
      }
      const message = loose.length
        ? loose.join("; ")
        : "Some fields need attention: fix the highlighted values and try again.";
      return new ApiError(status, typeof b.error === "string" ? b.error : "ValidationError", message, fieldErrors);
    }
    if (typeof b.detail === "string") {
      // The plugins service names bad config fields as "config.url: msg; config.x: msg".
      const parts = b.detail.split("; ");
      const fieldErrors: Record<string, string> = {};
      for (const part of parts) {
        const m = /^((?:body\.)?config(?:\.[\w-]+)+): (.+)$/s.exec(part);
        if (m) fieldErrors[m[1].replace(/^body\./, "")] ??= cleanMsg(m[2]);
      }
      if (Object.keys(fieldErrors).length === parts.length) {
        return new ApiError(
          status,
          typeof b.error === "string" ? b.error : "ValidationError",
          "Some fields need attention: fix the highlighted values and try again.",
          fieldErrors,
        );
      }
      return new ApiError(status, typeof b.error === "string" ? b.error : `HTTP${status}`, b.detail);
    }
  }
  const fallback =
    status >= 500
      ? `The server failed (${status} ${statusText}). Check the backend logs and try again.`
      : `Request failed (${status} ${statusText}).`;
  return new ApiError(status, `HTTP${status}`, fallback.replace(" )", ")"));
}

export const NETWORK_ERROR_MESSAGE =
  "Cannot reach the Unity server. Check that the backend is running, then retry.";

function origin(): string {
  return typeof window !== "undefined" ? window.location.origin : "http://localhost";
}

export const client = createClient<paths>({
  baseUrl: origin(),
  // Looked up per call so tests can stub fetch after import.
  fetch: (req: Request) => globalThis.fetch(req),
});

client.use({
  onRequest({ request }) {
    const token = auth.get();
    if (token && !request.headers.has("Authorization")) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
});

type Result = { data?: unknown; error?: unknown; response: Response };

/** Awaits an openapi-fetch call and returns its data, or throws an ApiError. */
export async function unwrap<T>(call: Promise<Result>): Promise<T> {
  let res: Result;
  try {
    res = await call;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(0, "NetworkError", NETWORK_ERROR_MESSAGE);
  }
  const { response } = res;
  if (!response.ok) {
    if (response.status === 401 && auth.get() && !response.url.endsWith("/auth/login")) {
      // The session expired or the token was revoked: back to the login page.
      auth.set(null);
    }
    throw toApiError(response.status, res.error, response.statusText);
  }
  return res.data as T;
}

/** Lists may come as a bare array or as a page `{items: [...]}`; the UI wants the array. */
export function asList<T>(data: unknown): T[] {
  if (Array.isArray(data)) return data as T[];
  if (data && typeof data === "object" && Array.isArray((data as { items?: unknown }).items)) {
    return (data as { items: T[] }).items;
  }
  return [];
}

export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
