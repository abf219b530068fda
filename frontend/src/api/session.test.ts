import { afterEach, describe, expect, it } from "vitest";
import { json, mockFetch } from "../test/fakes";
import { auth } from "./auth";
import { client, unwrap } from "./client";
import { login, logout } from "./session";

describe("browser session", () => {
  afterEach(() => auth.set(null));

  it("signs in to a cookie session: no token in JS or storage, the CSRF token on writes only", async () => {
    const { calls, fn } = mockFetch({
      "POST /api/v1/auth/session": () => ({
        csrf_token: "csrf-1",
        expires_in: 60,
        user: { id: 1, username: "admin", role: "admin" as const, disabled: false, created_at: "2026-01-01T00:00:00Z", last_login_at: null, totp_enabled: false },
      }),
      "GET /api/v1/plugins": () => [],
      "POST /api/v1/tokens": () => json({}, 201),
    });
    const t = await login("admin", "pw-123456");
    auth.set(t.csrf_token);
    expect(calls[0].path).toBe("/api/v1/auth/session");
    expect(calls[0].body).toContain("username=admin");
    expect(localStorage.length).toBe(0);

    await unwrap(client.GET("/api/v1/plugins"));
    await unwrap(client.POST("/api/v1/tokens", { body: { name: "x" } }));
    const sent = fn.mock.calls.map(([req]) => req as Request);
    expect(sent[1].headers.get("X-CSRF-Token")).toBeNull();
    expect(sent[2].headers.get("X-CSRF-Token")).toBe("csrf-1");
    expect(sent.every((r) => !r.headers.has("Authorization"))).toBe(true);
  });

  it("signs out server-side, and locally even when the server cannot be reached", async () => {
    const { calls } = mockFetch({ "DELETE /api/v1/auth/session": () => json(null, 204) });
    auth.set("csrf-2");
    await logout();
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(["DELETE /api/v1/auth/session"]);
    expect(auth.get()).toBeNull();

    mockFetch({ "DELETE /api/v1/auth/session": () => Promise.reject(new TypeError("offline")) });
    auth.set("csrf-3");
    await logout();
    expect(auth.get()).toBeNull();
  });

  it("forgets the session when the server says it ended", async () => {
    mockFetch({ "GET /api/v1/auth/me": () => json({ error: "Unauthorized", detail: "This session has ended." }, 401) });
    auth.set("csrf-4");
    await expect(unwrap(client.GET("/api/v1/auth/me"))).rejects.toThrow("This session has ended.");
    expect(auth.get()).toBeNull();
  });
});
