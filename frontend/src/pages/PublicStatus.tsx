// A published status page at /status/<slug>: read without login, so it shows only what the
// public API sends (display names, states, uptime, the admin's own texts).
import { useState, type FormEvent } from "react";
import { usePublicStatus, useUnlockStatusPage, type PublicMonitor, type PublicState, type PublicStatusPage } from "../api/statusPages";
import { ApiError } from "../api/client";
import { UptimeBar } from "../components/UptimePanel";
import { EmptyState, ErrorState, Spinner } from "../components/ui";
import { formatPercent, uptimeLevel, uptimeSummary } from "../components/uptimeFormat";
import { formatDateTime, formatDuration } from "../format";
import "../components/uptime.css";
import "./status.css";

export const STATE_LABEL: Record<PublicState, string> = {
  healthy: "Operational",
  degraded: "Degraded",
  down: "Down",
  maintenance: "Maintenance",
  unknown: "No data",
};
const PAGE_LABEL: Record<PublicStatusPage["status"], string> = {
  operational: "All systems operational",
  degraded: "Some systems are degraded",
  down: "Some systems are down",
  maintenance: "Maintenance in progress",
  unknown: "No recent data",
};
const WINDOWS = [
  ["24h", "24 h"],
  ["30d", "30 d"],
  ["90d", "90 d"],
] as const;

export function StatePill({ state }: { state: PublicState }) {
  return (
    <span className={`badge badge-${state}`} data-status={state}>
      <span className="dot" aria-hidden="true" />
      {STATE_LABEL[state]}
    </span>
  );
}

function Monitor({ m }: { m: PublicMonitor }) {
  return (
    <li className="status-monitor" data-monitor={m.key}>
      <div className="status-monitor-head">
        <h3>{m.name}</h3>
        <span className="status-state">
          {m.since && m.status !== "healthy" ? <span className="muted small">since {formatDateTime(m.since)}</span> : null}
          <StatePill state={m.status} />
        </span>
      </div>
      <dl className="status-figures small">
        {WINDOWS.map(([key, label]) => {
          const f = m.uptime[key];
          return (
            <div key={key} title={f ? uptimeSummary(f) : undefined}>
              <dt>{label}</dt>
              <dd className={f ? `uptime-text-${uptimeLevel(f)}` : undefined}>{formatPercent(f?.percent)}</dd>
            </div>
          );
        })}
        {m.response_ms !== null && m.response_ms !== undefined ? (
          <div>
            <dt>Response</dt>
            <dd>{formatDuration(m.response_ms)}</dd>
          </div>
        ) : null}
      </dl>
      <UptimeBar days={m.days} />
    </li>
  );
}

/** A protected page: one password, then the page (the server keeps a cookie for it alone). */
function Unlock({ slug, onOpen }: { slug: string; onOpen: () => void }) {
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const unlock = useUnlockStatusPage({ onSuccess: onOpen, onError: (e: Error) => setError(e.message) });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!password) {
      setError("Enter the page's password.");
      return;
    }
    unlock.mutate({ slug, password });
  };
  return (
    <form className="card status-unlock" onSubmit={submit} aria-labelledby="unlock-h" noValidate>
      <h2 id="unlock-h">This status page is protected</h2>
      <p className="muted">Enter its password to see it. Ask whoever shared the page with you.</p>
      <label htmlFor="status-password">Password</label>
      <input
        id="status-password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? "status-password-error" : undefined}
      />
      {error ? (
        <p id="status-password-error" className="field-error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" className="btn btn-primary" disabled={unlock.isPending}>
        {unlock.isPending ? "Opening…" : "Open the page"}
      </button>
    </form>
  );
}

export function PublicStatus({ slug }: { slug: string }) {
  const page = usePublicStatus(slug);
  if (page.isPending)
    return (
      <main className="status-public">
        <h1 className="sr-only">Status</h1>
        <Spinner label="Loading the status page…" />
      </main>
    );
  if (page.isError)
    return (
      <main className="status-public">
        <h1>Status page</h1>
        {page.error instanceof ApiError && page.error.status === 401 ? (
          <Unlock slug={slug} onOpen={() => void page.refetch()} />
        ) : page.error instanceof ApiError && page.error.status === 404 ? (
          <EmptyState title="No status page here">There is no published status page at “{slug}”.</EmptyState>
        ) : (
          <ErrorState title="Could not load the status page" error={page.error} onRetry={() => page.refetch()} />
        )}
      </main>
    );
  const p = page.data;
  return (
    <main className="status-public" id="main">
      <header className="status-header">
        {p.logo ? <img className="status-logo" src={p.logo} alt="" height={48} /> : null}
        <h1>{p.title}</h1>
        {p.description ? <p className="muted">{p.description}</p> : null}
        <p className={`status-overall status-overall-${p.status}`} role="status">
          {PAGE_LABEL[p.status]}
        </p>
      </header>
      {p.announcements.length ? (
        <section className="card status-notes" aria-labelledby="notes-h">
          <h2 id="notes-h">Announcements</h2>
          <ul>
            {p.announcements.map((a) => (
              <li key={`${a.posted_at}-${a.title}`} className={a.active ? "status-note active" : "status-note"}>
                <h3>{a.title}</h3>
                <p className="muted small">
                  {formatDateTime(a.posted_at)}
                  {a.active ? "" : " · resolved"}
                </p>
                {a.body ? <p className="status-note-body">{a.body}</p> : null}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {p.maintenance.length ? (
        <section className="card" aria-labelledby="maint-h">
          <h2 id="maint-h">Maintenance</h2>
          <ul className="status-maint">
            {p.maintenance.map((w) => (
              <li key={`${w.name}-${w.starts_at}`}>
                <strong>{w.name}</strong> {w.active ? <StatePill state="maintenance" /> : null}
                <div className="muted small">
                  {w.active ? "Until" : `${formatDateTime(w.starts_at)} →`} {formatDateTime(w.ends_at)} · {w.monitors.join(", ")}
                </div>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {p.groups.map((g, i) => (
        <section className="card status-group" key={`${i}-${g.name}`} aria-label={g.name || "Monitors"}>
          {g.name ? <h2>{g.name}</h2> : null}
          {g.monitors.length ? <ul className="status-monitors">{g.monitors.map((m) => <Monitor key={m.key} m={m} />)}</ul> : <p className="muted">Nothing to show here yet.</p>}
        </section>
      ))}
      <footer className="status-footer muted small">
        {p.footer ? <p>{p.footer}</p> : null}
        <p>
          Updated {formatDateTime(p.generated_at)}. Uptime counts time up against time up or down; maintenance and time without data count as neither.
        </p>
      </footer>
    </main>
  );
}
