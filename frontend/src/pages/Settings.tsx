// Settings and about: theme choice, versions, server health and the signed-in account.
import type { User } from "../api/session";
import { useSystemHealth } from "../api/system";
import { setChoice, useTheme, type ThemeChoice } from "../theme";
import { QueryState } from "../components/ui";
import { useLive } from "../live/LiveProvider";
import { useBrowserSessions, useRevokeSession } from "../api/users";
import { timeAgo } from "../format";
import { Link } from "../router";
import { TwoFactorCard } from "./TwoFactor";
import { ProbesPanel } from "../components/LocationsPanel";

const APP_VERSION = import.meta.env.VITE_APP_VERSION ?? __APP_VERSION__;

function renderValue(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Where this account is signed in; any other browser can be signed out from here. */
function BrowserSessions() {
  const sessions = useBrowserSessions();
  const revoke = useRevokeSession();
  return (
    <section className="card">
      <h2>Signed-in browsers</h2>
      <QueryState query={sessions} failed="Could not load your signed-in browsers">
        {(items) => (
          <ul className="plain-list" aria-label="Signed-in browsers">
            {items.map((s) => (
              <li key={s.id}>
                <strong>{s.device}</strong>
                <span className="muted">
                  {" "}
                  from {s.address || "an unknown address"}, active {timeAgo(s.last_seen_at)}
                </span>{" "}
                {s.current ? (
                  <span className="badge">This browser</span>
                ) : (
                  <button type="button" className="btn btn-ghost btn-sm" disabled={revoke.isPending} onClick={() => revoke.mutate(s.id)}>
                    Sign out
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </QueryState>
    </section>
  );
}

export function SettingsPage({ user }: { user: User }) {
  const { choice } = useTheme();
  const health = useSystemHealth();
  const { state } = useLive();
  return (
    <div className="page narrow">
      <div className="page-head">
        <div>
          <h1>Settings</h1>
          <p className="muted">Signed in as {user.username} ({user.role}).</p>
        </div>
      </div>
      <section className="card">
        <h2>Appearance</h2>
        <fieldset className="radio-row">
          <legend>Theme</legend>
          {(["system", "light", "dark"] as ThemeChoice[]).map((c) => (
            <label key={c} className="radio">
              <input type="radio" name="theme" value={c} checked={choice === c} onChange={() => setChoice(c)} />
              {c === "system" ? "Follow the system" : c === "light" ? "Light" : "Dark"}
            </label>
          ))}
        </fieldset>
      </section>
      <TwoFactorCard />
      <BrowserSessions />
      <section className="card">
        <h2>Remote probes</h2>
        <div className="table-wrap">
          <ProbesPanel />
        </div>
      </section>
      {user.role === "admin" ? (
        <section className="card">
          <h2>Configuration as code</h2>
          <p>
            Export plugins, channels, alert rules, silences and maintenance windows as YAML, or apply a file after a dry run.
          </p>
          <Link to="/settings/configuration" className="btn">
            Export or apply the configuration
          </Link>
        </section>
      ) : null}
      {user.role === "admin" ? (
        <section className="card">
          <h2>Audit log</h2>
          <p>Who changed which plugin, rule, channel, silence, user or token, when, and what exactly changed.</p>
          <Link to="/settings/audit" className="btn">
            Open the audit log
          </Link>
        </section>
      ) : null}
      <section className="card">
        <h2>About</h2>
        <dl className="props">
          <div>
            <dt>Web app version</dt>
            <dd data-testid="app-version">{APP_VERSION}</dd>
          </div>
          <div>
            <dt>Server version</dt>
            <dd>{health.data?.version ? String(health.data.version) : "—"}</dd>
          </div>
          <div>
            <dt>Live updates</dt>
            <dd>{state.status === "open" ? "connected" : state.status}</dd>
          </div>
          <div>
            <dt>API documentation</dt>
            <dd>
              <a href="/docs" target="_blank" rel="noreferrer">
                /docs
              </a>
            </dd>
          </div>
        </dl>
      </section>
      <section className="card">
        <h2>Server health</h2>
        <QueryState query={health} loading="Checking /health…" failed="Health check failed">
          {(data) => (
            <dl className="props" data-testid="server-health">
              {Object.entries(data)
                .filter(([k]) => k !== "httpStatus")
                .map(([k, v]) => (
                  <div key={k}>
                    <dt>{k}</dt>
                    <dd className={k === "status" ? `health-${String(v)}` : undefined}>{renderValue(v)}</dd>
                  </div>
                ))}
            </dl>
          )}
        </QueryState>
      </section>
    </div>
  );
}
