// The signed-in user and signing in: first-run setup, login and /auth/me.
import { useQuery } from "@tanstack/react-query";
import { auth } from "./auth";
import { ApiError, client, unwrap } from "./client";
import type { components } from "./schema";

export type User = components["schemas"]["UserOut"];
export type Role = User["role"];
export type SessionCreated = components["schemas"]["SessionCreated"];

export const sessionKeys = {
  all: ["session"] as const,
  me: () => [...sessionKeys.all, "me"] as const,
  setup: () => [...sessionKeys.all, "setup"] as const,
  oidc: () => [...sessionKeys.all, "oidc"] as const,
};

type SetupStatus = components["schemas"]["SetupStatus"];

/** Whether first-run setup is open and whether it needs the setup code; null when the server
 * answered but could not tell. */
export async function getSetupStatus(): Promise<SetupStatus | null> {
  try {
    return await unwrap(client.GET("/api/v1/auth/setup"));
  } catch (e) {
    if (e instanceof ApiError && e.status === 0) throw e;
    return null;
  }
}

/** Setup from another machine needs the one-time code from the server log. */
export async function setup(username: string, password: string, setupCode?: string): Promise<void> {
  const body = setupCode ? { username, password, setup_code: setupCode } : { username, password };
  await unwrap(client.POST("/api/v1/auth/setup", { body }));
}

/** Signs this browser in: the server sets the HttpOnly session cookie; we keep its CSRF token.
 * `code` is the two-factor code, asked for after a 401 TwoFactorRequired. */
export const login = (username: string, password: string, code?: string): Promise<SessionCreated> =>
  unwrap(
    client.POST("/api/v1/auth/session", {
      body: { username, password, grant_type: "password", scope: "", ...(code ? { code } : {}) },
      bodySerializer: (b) => new URLSearchParams(Object.entries(b).filter((e): e is [string, string] => typeof e[1] === "string")).toString(),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    }),
  );

/** Ends the session server-side; signed out locally whatever the server says. `beforeSignedOut`
 * runs just before the app switches to the signed-out pages (e.g. to empty the query cache
 * without cancelling the sign-in page's own queries). */
export async function logout(beforeSignedOut?: () => void): Promise<void> {
  try {
    await unwrap(client.DELETE("/api/v1/auth/session"));
  } catch {
    /* already ended or offline: the cookie is useless either way */
  } finally {
    beforeSignedOut?.();
    auth.set(null);
  }
}

export const me = () => unwrap(client.GET("/api/v1/auth/me"));

export const useMe = () => useQuery({ queryKey: sessionKeys.me(), queryFn: me, staleTime: 60_000 });
export const useSetupStatus = () =>
  useQuery({ queryKey: sessionKeys.setup(), queryFn: getSetupStatus, retry: 1, staleTime: 0 });

/** Whether the sign-in page offers "Sign in with <name>" (single sign-on), and hides the form. */
export const useOidcInfo = () =>
  useQuery({ queryKey: sessionKeys.oidc(), queryFn: () => unwrap(client.GET("/api/v1/auth/oidc")), staleTime: 300_000 });

/** Where the browser goes to start single sign-on; the server redirects it to the provider. */
export const OIDC_LOGIN_URL = "/api/v1/auth/oidc/login";

/** Forward auth: the proxy in front vouches for the user; opens a cookie session like login. */
export const forwardLogin = (): Promise<SessionCreated> => unwrap(client.POST("/api/v1/auth/forward"));
