// The typed HTTP client: same-origin requests with the session cookie (and its CSRF token on
// writes), and one error type that
// reads the API's one error shape `{"error", "detail", "fields"?}`.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";
import { auth } from "./auth";

/** The API's error body. `fields` maps a field path ("name", "timeout_seconds", "config.port")
 * to a sentence. */
export type ErrorBody = components["schemas"]["ErrorBody"];

export class ApiError extends Error {
  readonly status: number;
  readonly kind: string;
  /** Field path → sentence, straight from the body's `fields`. */
  readonly fields: Record<string, string>;

  constructor(status: number, kind: string, message: string, fields: Record<string, string> = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.kind = kind;
    this.fields = fields;
  }
}

export const FIX_FIELDS_MESSAGE = "Some fields need attention: fix the highlighted values and try again.";

function stringMap(v: unknown): Record<string, string> {
  if (!v || typeof v !== "object" || Array.isArray(v)) return {};
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === "string"));
}

export function toApiError(status: number, body: unknown, statusText = ""): ApiError {
  if (body && typeof body === "object") {
    const b = body as Partial<Record<keyof ErrorBody, unknown>>;
    const kind = typeof b.error === "string" ? b.error : `HTTP${status}`;
    const fields = stringMap(b.fields);
    if (typeof b.detail === "string") return new ApiError(status, kind, b.detail, fields);
    if (Object.keys(fields).length) return new ApiError(status, kind, FIX_FIELDS_MESSAGE, fields);
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

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

client.use({
  onRequest({ request }) {
    // The browser sends the HttpOnly session cookie itself (same origin); writes prove they
    // come from this page by echoing the CSRF token, which another site cannot read.
    const csrf = auth.get();
    if (csrf && !SAFE_METHODS.has(request.method)) request.headers.set("X-CSRF-Token", csrf);
    return request;
  },
});

/** Awaits an openapi-fetch call and returns its typed data, or throws an ApiError. */
export async function unwrap<D>(call: Promise<{ data?: D; error?: unknown; response: Response }>): Promise<D> {
  let res: Awaited<typeof call>;
  try {
    res = await call;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(0, "NetworkError", NETWORK_ERROR_MESSAGE);
  }
  const { response } = res;
  if (!response.ok) {
    // A protected status page's 401 (/api/v1/public/) asks for its password, not a new session.
    const publicRead = response.url.includes("/api/v1/public/");
    if (response.status === 401 && auth.get() && !publicRead && !response.url.endsWith("/auth/session")) {
      // The session expired or the token was revoked: back to the login page.
      auth.set(null);
    }
    throw toApiError(response.status, res.error, response.statusText);
  }
  return res.data as D;
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
