import { describe, expect, it, vi } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { renderApp } from "../test/render";
import { json, mockFetch } from "../test/fakes";
import { LoginPage, SetupPage } from "./AuthPages";
import { auth } from "../api/auth";

describe("SetupPage", () => {
  it("asks a remote browser for the setup code and sends it", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/auth/setup": () => ({ needs_setup: true, needs_code: true }),
      "POST /api/v1/auth/setup": (req) =>
        req.json().then((b: { setup_code?: string }) =>
          b.setup_code === "ABCD-EFGH-JKMN" ? json({ id: 1 }, 201) : json({ error: "Forbidden", detail: "The setup code is wrong: read it in the server log." }, 403),
        ),
      "POST /api/v1/auth/session": () => ({
        csrf_token: "c",
        expires_in: 60,
        user: { id: 1, username: "admin", role: "admin" as const, disabled: false, created_at: "2026-01-01T00:00:00Z", last_login_at: null, totp_enabled: false },
      }),
    });
    const onDone = vi.fn();
    renderApp(<SetupPage onDone={onDone} onLogin={() => {}} />);
    const code = await screen.findByLabelText(/Setup code/);
    expect(screen.getByText(/docker compose logs backend/)).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText(/^Password/), "correct-horse");
    await userEvent.type(screen.getByLabelText(/Confirm password/), "correct-horse");
    await userEvent.click(screen.getByRole("button", { name: /Create account/ }));
    expect(await screen.findByText("Enter the setup code from the server log.")).toBeInTheDocument();
    await userEvent.type(code, "WRONG");
    await userEvent.click(screen.getByRole("button", { name: /Create account/ }));
    expect(await screen.findByText(/The setup code is wrong/)).toBeInTheDocument();
    await userEvent.clear(code);
    await userEvent.type(code, "ABCD-EFGH-JKMN");
    await userEvent.click(screen.getByRole("button", { name: /Create account/ }));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(calls.filter((c) => c.path === "/api/v1/auth/setup" && c.method === "POST")).toHaveLength(2);
  });

  it("does not ask the server's own browser for a code", async () => {
    mockFetch({ "GET /api/v1/auth/setup": () => ({ needs_setup: true, needs_code: false }) });
    renderApp(<SetupPage onDone={() => {}} onLogin={() => {}} />);
    await screen.findByLabelText(/Admin username/);
    await waitFor(() => expect(screen.queryByLabelText(/Setup code/)).not.toBeInTheDocument());
  });
});

describe("LoginPage", () => {
  it("asks for the two-factor code when the account has one, then signs in with it", async () => {
    const sent: string[] = [];
    mockFetch({
      "POST /api/v1/auth/session": (req) =>
        req.text().then((body) => {
          const code = new URLSearchParams(body).get("code");
          sent.push(code ?? "");
          if (!code) return json({ error: "TwoFactorRequired", detail: "This account has two-factor sign-in." }, 401);
          return json({
            csrf_token: "c2",
            expires_in: 60,
            user: { id: 1, username: "admin", role: "admin", disabled: false, created_at: "2026-01-01T00:00:00Z", last_login_at: null, totp_enabled: true },
          });
        }),
    });
    renderApp(<LoginPage setupUnknown={false} onSetup={() => {}} />);
    await userEvent.type(screen.getByLabelText(/Username/), "admin");
    await userEvent.type(screen.getByLabelText(/^Password/), "correct-horse");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    const code = await screen.findByLabelText(/Two-factor code/);
    expect(screen.getByRole("alert")).toHaveTextContent(/6-digit code/);
    await userEvent.type(code, "123456");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(auth.get()).toBe("c2"));
    expect(sent).toEqual(["", "123456"]);
  });
});

describe("LoginPage with single sign-on", () => {
  it("offers the provider's button and hides the password form when told to", async () => {
    mockFetch({ "GET /api/v1/auth/oidc": () => ({ enabled: true, name: "Authentik", hide_password_form: true, forward_auth: false }) });
    renderApp(<LoginPage setupUnknown={false} onSetup={() => {}} />);
    const button = await screen.findByRole("link", { name: "Sign in with Authentik" });
    expect(button).toHaveAttribute("href", "/api/v1/auth/oidc/login");
    expect(screen.queryByRole("button", { name: "Sign in" })).not.toBeInTheDocument();
  });
});

describe("LoginPage behind a forward-auth proxy", () => {
  it("signs in without the form when the proxy vouches for the user", async () => {
    mockFetch({
      "GET /api/v1/auth/oidc": () => ({ enabled: false, name: "SSO", hide_password_form: false, forward_auth: true }),
      "POST /api/v1/auth/forward": () => ({
        csrf_token: "fwd",
        expires_in: 60,
        user: { id: 3, username: "ann", role: "viewer" as const, disabled: false, created_at: "2026-01-01T00:00:00Z", last_login_at: null, totp_enabled: false },
      }),
    });
    renderApp(<LoginPage setupUnknown={false} onSetup={() => {}} />);
    await waitFor(() => expect(auth.get()).toBe("fwd"));
  });
});
