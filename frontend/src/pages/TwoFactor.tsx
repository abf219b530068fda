// The Settings card for two-factor sign-in: enrol with a QR code, confirm, recovery codes, off.
import { useState, type FormEvent } from "react";
import { errorMessage } from "../api/client";
import { useTotpConfirm, useTotpDisable, useTotpEnrol, useTotpNewCodes, useTotpStatus, type TotpEnrolment } from "../api/totp";
import { QueryState } from "../components/ui";
import { FieldShell } from "../forms/SchemaForm";

function RecoveryList({ codes }: { codes: string[] }) {
  return (
    <div className="stack">
      <p>Store these recovery codes somewhere safe. Each signs you in once if you lose your phone; they are shown only now.</p>
      <ul className="plain-list mono" aria-label="Recovery codes">
        {codes.map((c) => (
          <li key={c}>{c}</li>
        ))}
      </ul>
    </div>
  );
}

function CodeForm({ label, busy, error, onSubmit }: { label: string; busy: boolean; error: string | null; onSubmit: (code: string) => void }) {
  const [code, setCode] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit(code.trim());
  };
  return (
    <form onSubmit={submit} className="stack" noValidate>
      <FieldShell id="totp-code" label="Code from the app" required error={error ?? undefined}>
        <input id="totp-code" name="code" inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} aria-invalid={!!error || undefined} aria-describedby={error ? "totp-code-error" : undefined} />
      </FieldShell>
      <button type="submit" className="btn btn-primary" disabled={busy || code.trim().length < 6}>
        {label}
      </button>
    </form>
  );
}

export function TwoFactorCard() {
  const status = useTotpStatus();
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [password, setPassword] = useState("");
  const onError = (e: Error) => setError(errorMessage(e));
  const done = (r: { codes: string[] }) => {
    setEnrolment(null);
    setError(null);
    setCodes(r.codes);
  };
  const enrol = useTotpEnrol({ onSuccess: (e) => (setEnrolment(e), setCodes(null), setError(null)), onError });
  const confirm = useTotpConfirm({ onSuccess: done, onError });
  const renew = useTotpNewCodes({ onSuccess: done, onError });
  const disable = useTotpDisable({ onSuccess: () => (setPassword(""), setCodes(null), setError(null)), onError });

  return (
    <section className="card">
      <h2>Two-factor sign-in</h2>
      <QueryState query={status} failed="Could not load your two-factor status">
        {(s) => (
          <div className="stack">
            {s.required && !s.enabled ? (
              <p className="form-error" role="alert">
                This server requires two-factor sign-in for admins: turn it on to manage Unity.
              </p>
            ) : null}
            {codes ? <RecoveryList codes={codes} /> : null}
            {!s.enabled && !enrolment ? (
              <>
                <p className="muted">Sign in with your password and a 6-digit code from an authenticator app (Aegis, Google Authenticator, 1Password…).</p>
                <button type="button" className="btn btn-primary" disabled={enrol.isPending} onClick={() => enrol.mutate()}>
                  Turn on two-factor
                </button>
              </>
            ) : null}
            {!s.enabled && enrolment ? (
              <>
                <p>Scan this QR code with your authenticator app, then type the code it shows.</p>
                <img className="qr" src={enrolment.qr_svg} alt="QR code for your authenticator app" width={220} height={220} />
                <p className="muted small">
                  Cannot scan? Type this key: <code data-testid="totp-secret">{enrolment.secret}</code>
                </p>
                <CodeForm label="Confirm and turn on" busy={confirm.isPending} error={error} onSubmit={(c) => confirm.mutate(c)} />
              </>
            ) : null}
            {s.enabled ? (
              <>
                <p>
                  <span className="badge badge-healthy">On</span> {s.recovery_codes_left} recovery codes left.
                </p>
                <CodeForm label="New recovery codes" busy={renew.isPending} error={error} onSubmit={(c) => renew.mutate(c)} />
                <form
                  className="stack"
                  onSubmit={(e) => {
                    e.preventDefault();
                    disable.mutate(password);
                  }}
                >
                  <FieldShell id="totp-off-password" label="Password, to turn two-factor off" required>
                    <input id="totp-off-password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
                  </FieldShell>
                  <button type="submit" className="btn btn-danger" disabled={disable.isPending || !password}>
                    Turn off two-factor
                  </button>
                </form>
              </>
            ) : null}
          </div>
        )}
      </QueryState>
    </section>
  );
}
