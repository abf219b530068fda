// Settings → Audit log: who changed which configuration object, when, through what, and how
// (field by field; secrets only ever read "changed"). Admins only, like GET /api/v1/audit.
import { useState } from "react";
import { OBJECT_TYPES, useAuditLog, type AuditFilters } from "../api/audit";
import { EmptyState, ErrorState, Pager, Spinner, Table } from "../components/ui";
import { formatDateTime } from "../format";
import { Link } from "../router";
import type { User } from "../api/session";
import { changeLines } from "./alerts/changeText";

const PAGE = 50;

interface Form {
  object_type: string;
  actor: string;
  via: string;
  since: string; // datetime-local, the browser's time zone
  until: string;
}

const EMPTY: Form = { object_type: "", actor: "", via: "", since: "", until: "" };

/** The API query for the form: empty fields left out, local times sent as UTC ISO 8601. */
export function auditQuery(f: Form, page: number): AuditFilters {
  const q: AuditFilters = { limit: PAGE, offset: page * PAGE };
  if (f.object_type) q.object_type = f.object_type;
  if (f.actor.trim()) q.actor = f.actor.trim();
  if (f.via) q.via = f.via as NonNullable<AuditFilters["via"]>;
  if (f.since) q.since = new Date(f.since).toISOString();
  if (f.until) q.until = new Date(f.until).toISOString();
  return q;
}

export function AuditLogPage({ user }: { user: User }) {
  const [form, setForm] = useState<Form>(EMPTY);
  const [page, setPage] = useState(0);
  const q = useAuditLog(auditQuery(form, page));
  const set = (patch: Partial<Form>) => {
    setForm({ ...form, ...patch });
    setPage(0);
  };
  if (user.role !== "admin")
    return (
      <EmptyState title="Admins only" action={<Link to="/settings" className="btn">Settings</Link>}>
        The audit log shows who changed Unity's configuration; ask an administrator.
      </EmptyState>
    );
  return (
    <div className="stack">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/settings">Settings</Link> <span aria-hidden="true">/</span> <span aria-current="page">Audit log</span>
      </nav>
      <div className="page-head">
        <div>
          <h1>Audit log</h1>
          <p className="muted">Every change to plugins, alert rules, channels, silences, maintenance windows, status pages, users and tokens. Kept as long as the alert history (ALERT_HISTORY_DAYS).</p>
        </div>
      </div>
      <form className="filter-bar" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
        <label className="filter">
          <span>Object</span>
          <select value={form.object_type} onChange={(e) => set({ object_type: e.target.value })}>
            <option value="">Everything</option>
            {OBJECT_TYPES.map((t) => (
              <option key={t} value={t}>
                {t.replace(/_/g, " ")}
              </option>
            ))}
          </select>
        </label>
        <label className="filter">
          <span>Who</span>
          <input value={form.actor} onChange={(e) => set({ actor: e.target.value })} placeholder="user or token name" />
        </label>
        <label className="filter">
          <span>Through</span>
          <select value={form.via} onChange={(e) => set({ via: e.target.value })}>
            <option value="">Any</option>
            <option value="ui">Web UI</option>
            <option value="api">API</option>
            <option value="config">Configuration file</option>
            <option value="system">Unity itself</option>
          </select>
        </label>
        <label className="filter">
          <span>From</span>
          <input type="datetime-local" value={form.since} onChange={(e) => set({ since: e.target.value })} />
        </label>
        <label className="filter">
          <span>To</span>
          <input type="datetime-local" value={form.until} onChange={(e) => set({ until: e.target.value })} />
        </label>
        {JSON.stringify(form) !== JSON.stringify(EMPTY) ? (
          <button type="button" className="btn btn-sm" onClick={() => set(EMPTY)}>
            Clear
          </button>
        ) : null}
      </form>
      {q.isPending ? (
        <Spinner label="Loading the audit log…" />
      ) : q.isError ? (
        <ErrorState title="Could not load the audit log" error={q.error} onRetry={() => q.refetch()} />
      ) : q.data.items.length === 0 ? (
        <EmptyState title="No changes">Nothing matches these filters.</EmptyState>
      ) : (
        <section className="card">
          <Table caption="Configuration changes, newest first" columns={["When", "Who", "Action", "Object", "Changes"]}>
            {q.data.items.map((e) => (
              <tr key={e.id}>
                <td>
                  <time dateTime={e.at}>{formatDateTime(e.at)}</time>
                </td>
                <td>
                  {e.actor}
                  <div className="muted small">{e.token_name ? `token “${e.token_name}”` : e.via}</div>
                </td>
                <td>{e.action}</td>
                <td>
                  {e.object_type.replace(/_/g, " ")} <strong>{e.object_name}</strong>
                </td>
                <td>
                  <ul className="plain-list change-diff small">
                    {changeLines(e.changes).map((l) => (
                      <li key={l}>
                        <code>{l}</code>
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </Table>
          <Pager page={page} pages={Math.max(1, Math.ceil(q.data.total / PAGE))} onPage={setPage} />
        </section>
      )}
    </div>
  );
}
