// First-run setup (create the admin account) and sign-in.
import { useEffect, useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { forwardLogin, login, OIDC_LOGIN_URL, setup, useOidcInfo, useSetupStatus } from "../api/session";
import { ApiError, errorMessage } from "../api/client";
import { formErrors, topLevel } from "../forms/apiErrors";
import { auth } from "../api/auth";
import { Logo, ThemeToggle } from "../components/Layout";
import { FieldShell } from "../forms/Field";

function AuthCard({ title, subtitle, children }: { title: string; subtitle: string; children: React.ReactNode }) {
  return (
    <div className="auth-wrap">
      <div className="auth-theme">
        <ThemeToggle />
      </div>
      <main className="auth-card" id="main">
        <div className="auth-brand">
          <Logo />
          <span>Unity</span>
        </div>
        <h1>{title}</h1>
        <p className="muted">{subtitle}</p>
        {children}
      </main>
    </div>
  );
}

function loginMessage(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.kind === "TwoFactorRequired") return "Enter the 6-digit code from your authenticator app, or a recovery code.";
    if (e.status === 401 && e.message.includes("two-factor")) return e.message;
    if (e.status === 401 || e.status === 400) return "Wrong username or password.";
    if (e.status === 429) return "Too many attempts. Wait a minute, then try again.";
  }
  return errorMessage(e);
}

export function LoginPage({ setupUnknown, onSetup }: { setupUnknown: boolean; onSetup: () => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [needsCode, setNeedsCode] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const qc = useQueryClient();
  const sso = useOidcInfo().data;
  const forwardAuth = sso?.forward_auth ?? false;

  // Behind Authelia/Authentik the proxy already knows who this is: no form to fill in.
  useEffect(() => {
    if (!forwardAuth) return;
    forwardLogin().then(
      (t) => {
        qc.clear();
        auth.set(t.csrf_token);
      },
      () => undefined, // not vouched for: the form stays
    );
  }, [forwardAuth, qc]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!username || !password) {
      setError("Enter your username and password.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const t = await login(username, password, needsCode ? code.trim() : undefined);
      qc.clear();
      auth.set(t.csrf_token);
    } catch (err) {
      if (err instanceof ApiError && err.kind === "TwoFactorRequired") setNeedsCode(true);
      setError(loginMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthCard title="Sign in" subtitle="Monitor your homelab from one place.">
      {sso?.enabled ? (
        <a className="btn btn-block" href={OIDC_LOGIN_URL}>
          Sign in with {sso.name}
        </a>
      ) : null}
      <form onSubmit={submit} className="stack" noValidate hidden={sso?.hide_password_form}>
        <FieldShell id="login-username" label="Username" required>
          {/* eslint-disable-next-line jsx-a11y/no-autofocus -- the page is this one form: start typing at once */}
          <input id="login-username" name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />
        </FieldShell>
        <FieldShell id="login-password" label="Password" required>
          <input id="login-password" name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </FieldShell>
        {needsCode ? (
          <FieldShell id="login-code" label="Two-factor code" required>
            {/* eslint-disable-next-line jsx-a11y/no-autofocus -- asked for right after the password: type it at once */}
            <input id="login-code" name="code" inputMode="numeric" autoComplete="one-time-code" spellCheck={false} value={code} onChange={(e) => setCode(e.target.value)} autoFocus />
          </FieldShell>
        ) : null}
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        {setupUnknown ? (
          <p className="muted small center">
            First time here?{" "}
            <button type="button" className="linklike" onClick={onSetup}>
              Create the admin account
            </button>
          </p>
        ) : null}
      </form>
    </AuthCard>
  );
}

export function SetupPage({ onDone, onLogin }: { onDone: () => void; onLogin: () => void }) {
  const [username, setUsername] = useState("admin");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [code, setCode] = useState("");
  const needsCode = useSetupStatus().data?.needs_code ?? false;
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const qc = useQueryClient();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!username.trim()) errs.username = "Choose a username.";
    if (password.length < 8) errs.password = "Use at least 8 characters.";
    if (confirm !== password) errs.confirm = "The passwords do not match.";
    if (needsCode && !code.trim()) errs.setup_code = "Enter the setup code from the server log.";
    setErrors(errs);
    setFormError(null);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      await setup(username.trim(), password, needsCode ? code.trim() : undefined);
      const t = await login(username.trim(), password);
      qc.clear();
      auth.set(t.csrf_token);
      onDone();
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        setFormError("Setup is already done: an account exists. Sign in instead.");
      } else if (err instanceof ApiError && err.status === 403) {
        setErrors({ setup_code: err.message });
      } else {
        const { fields, banner } = formErrors(err, topLevel("username", "password"));
        setErrors(fields);
        setFormError(banner);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthCard title="Welcome to Unity" subtitle="Create the administrator account to finish setting up.">
      <form onSubmit={submit} className="stack" noValidate>
        <FieldShell id="setup-username" label="Admin username" required error={errors.username}>
          <input id="setup-username" name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} aria-invalid={!!errors.username || undefined} aria-describedby={errors.username ? "setup-username-error" : undefined} />
        </FieldShell>
        <FieldShell id="setup-password" label="Password" required description="At least 8 characters." error={errors.password}>
          {/* eslint-disable-next-line jsx-a11y/no-autofocus -- the page is this one form: start typing at once */}
          <input id="setup-password" name="password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} aria-invalid={!!errors.password || undefined} aria-describedby={errors.password ? "setup-password-help setup-password-error" : "setup-password-help"} autoFocus />
        </FieldShell>
        <FieldShell id="setup-confirm" label="Confirm password" required error={errors.confirm}>
          <input id="setup-confirm" name="confirm" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} aria-invalid={!!errors.confirm || undefined} aria-describedby={errors.confirm ? "setup-confirm-error" : undefined} />
        </FieldShell>
        {needsCode ? (
          <FieldShell id="setup-code" label="Setup code" required description="Printed in the server log at start: run `docker compose logs backend`, or `python -m app setup-code` on the server." error={errors.setup_code}>
            <input id="setup-code" name="setup_code" autoComplete="one-time-code" spellCheck={false} value={code} onChange={(e) => setCode(e.target.value)} aria-invalid={!!errors.setup_code || undefined} aria-describedby={errors.setup_code ? "setup-code-help setup-code-error" : "setup-code-help"} />
          </FieldShell>
        ) : null}
        {formError ? (
          <p className="form-error" role="alert">
            {formError}{" "}
            {formError.includes("Sign in") ? (
              <button type="button" className="linklike" onClick={onLogin}>
                Go to sign in
              </button>
            ) : null}
          </p>
        ) : null}
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? "Creating…" : "Create account and sign in"}
        </button>
        <p className="muted small center">
          Already set up?{" "}
          <button type="button" className="linklike" onClick={onLogin}>
            Sign in
          </button>
        </p>
      </form>
    </AuthCard>
  );
}
