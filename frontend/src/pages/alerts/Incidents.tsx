// Incidents: what is firing now (first), then the history, with filters kept in the URL so a
// filtered view can be bookmarked or shared; and one incident's detail with its notifications.
import { useMemo } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import * as al from "../../api/alerts";
import type { Incident, IncidentFilters, Severity } from "../../api/alerts";
import { qk, usePlugins } from "../../api/queries";
import { ApiError } from "../../api/client";
import { Link, navigate, useLocation } from "../../router";
import { EmptyState, ErrorState, Pager, QueryState, Spinner, Table } from "../../components/ui";
import { formatDateTime, formatValue, labelText, timeAgo } from "../../format";
import { Pill, SeverityBadge, humanSeconds } from "./common";

export const PAGE_SIZE = 25;

export interface Filters {
  status: "" | "firing" | "resolved";
  plugin: string;
  severity: "" | Severity;
  silenced: "" | "true" | "false";
  page: number;
}

export function parseFilters(search: string): Filters {
  const q = new URLSearchParams(search);
  const pick = <T extends string>(k: string, allowed: readonly T[]): T | "" => {
    const v = q.get(k) ?? "";
    return (allowed as readonly string[]).includes(v) ? (v as T) : "";
  };
  const page = Math.max(0, Number.parseInt(q.get("page") ?? "0", 10) || 0);
  const plugin = /^\d+$/.test(q.get("plugin") ?? "") ? q.get("plugin")! : "";
  return {
    status: pick("status", ["firing", "resolved"] as const),
    plugin,
    severity: pick("severity", al.SEVERITIES),
    silenced: pick("silenced", ["true", "false"] as const),
    page,
  };
}

export function filtersToSearch(f: Filters): string {
  const q = new URLSearchParams();
  if (f.status) q.set("status", f.status);
  if (f.plugin) q.set("plugin", f.plugin);
  if (f.severity) q.set("severity", f.severity);
  if (f.silenced) q.set("silenced", f.silenced);
  if (f.page) q.set("page", String(f.page));
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** The API query for one section ("firing" or "resolved") under the current filters. */
export function toQuery(f: Filters, status: "firing" | "resolved", limit: number, offset: number): IncidentFilters {
  const q: IncidentFilters = { status, limit, offset };
  if (f.plugin) q.plugin_id = Number(f.plugin);
  if (f.severity) q.severity = f.severity;
  if (f.silenced) q.silenced = f.silenced === "true";
  return q;
}

function IncidentValues({ i }: { i: Incident }) {
  const unit = typeof i.rule?.["unit"] === "string" ? (i.rule["unit"] as string) : "";
  if (i.kind === "health") return <span className="muted">{i.status === "firing" ? "down" : "was down"}</span>;
  return (
    <span className="values">
      <span title="Value when it fired">{formatValue(i.value, unit)}</span>
      {i.status === "firing" && i.last_value !== null && i.last_value !== i.value ? (
        <span className="muted small" title="Latest value"> now {formatValue(i.last_value, unit)}</span>
      ) : null}
      {i.status === "resolved" && i.resolved_value !== null ? (
        <span className="muted small" title="Value when it resolved"> → {formatValue(i.resolved_value, unit)}</span>
      ) : null}
    </span>
  );
}

function Times({ i }: { i: Incident }) {
  return (
    <dl className="times">
      <div>
        <dt>Started</dt>
        <dd title={formatDateTime(i.started_at)}>{timeAgo(i.started_at)}</dd>
      </div>
      <div>
        <dt>Fired</dt>
        <dd title={formatDateTime(i.fired_at)}>{timeAgo(i.fired_at)}</dd>
      </div>
      <div>
        <dt>Resolved</dt>
        <dd title={formatDateTime(i.resolved_at)}>{i.resolved_at ? timeAgo(i.resolved_at) : "—"}</dd>
      </div>
    </dl>
  );
}

export function IncidentTable({ items, caption }: { items: Incident[]; caption: string }) {
  return (
    <Table caption={caption} columns={["Severity", "Alert", "Value", "When", "Notes"]} className="incident-table">
      {items.map((i) => (
        <tr key={i.id} data-incident={i.id} data-status={i.status} className={i.status === "firing" ? "row-firing" : undefined}>
          <td>
            <SeverityBadge severity={i.severity} />
          </td>
          <td className="incident-main">
            <Link to={`/alerts/incidents/${i.id}`} className="strong-link">
              {i.rule_name}
            </Link>
            <span className="muted small">
              {" · "}
              {i.plugin_name ?? (i.plugin_id ? `plugin #${i.plugin_id}` : "no plugin")}
              {i.metric ? ` · ${i.metric}` : ""}
              {Object.keys(i.labels ?? {}).length ? ` {${labelText(i.labels)}}` : ""}
            </span>
            {i.summary ? <div className="small incident-summary">{i.summary}</div> : null}
          </td>
          <td>
            <IncidentValues i={i} />
          </td>
          <td>
            <Times i={i} />
          </td>
          <td>
            <div className="pills">
              <Pill kind={i.status} />
              {i.silenced ? <Pill kind="silenced" title="Fired during a silence: notifications were held back" /> : null}
              {i.notified ? <Pill kind="notified" title="A notification went out" /> : null}
            </div>
          </td>
        </tr>
      ))}
    </Table>
  );
}

function FilterBar({ f, onChange }: { f: Filters; onChange: (f: Filters) => void }) {
  const plugins = usePlugins();
  const set = (patch: Partial<Filters>) => onChange({ ...f, ...patch, page: 0 });
  const any = f.status || f.plugin || f.severity || f.silenced;
  return (
    <form className="filter-bar" aria-label="Filter incidents" onSubmit={(e) => e.preventDefault()}>
      <label className="filter">
        <span>Status</span>
        <select value={f.status} onChange={(e) => set({ status: e.target.value as Filters["status"] })}>
          <option value="">Firing and resolved</option>
          <option value="firing">Firing</option>
          <option value="resolved">Resolved</option>
        </select>
      </label>
      <label className="filter">
        <span>Plugin</span>
        <select value={f.plugin} onChange={(e) => set({ plugin: e.target.value })}>
          <option value="">All plugins</option>
          {(plugins.data ?? []).map((p) => (
            <option key={p.id} value={String(p.id)}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
      <label className="filter">
        <span>Severity</span>
        <select value={f.severity} onChange={(e) => set({ severity: e.target.value as Filters["severity"] })}>
          <option value="">Any severity</option>
          {al.SEVERITIES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label className="filter">
        <span>Silenced</span>
        <select value={f.silenced} onChange={(e) => set({ silenced: e.target.value as Filters["silenced"] })}>
          <option value="">Silenced or not</option>
          <option value="true">Silenced only</option>
          <option value="false">Not silenced</option>
        </select>
      </label>
      {any ? (
        <button type="button" className="btn btn-ghost btn-sm" onClick={() => onChange({ status: "", plugin: "", severity: "", silenced: "", page: 0 })}>
          Clear filters
        </button>
      ) : null}
    </form>
  );
}

function FiringSection({ f }: { f: Filters }) {
  const q = toQuery(f, "firing", 200, 0);
  const qc = useQueryClient();
  const unfiltered = !f.plugin && !f.severity && !f.silenced;
  const firing = useQuery({
    queryKey: al.ak.incidents(q),
    queryFn: async () => {
      const page = await al.listIncidents(q);
      // Keep the header badge in step with what this page shows.
      if (unfiltered) qc.setQueryData(qk.firingCount, page.total);
      return page;
    },
    refetchInterval: 15_000,
  });
  return (
    <section className="card" aria-labelledby="firing-title">
      <div className="card-title-row">
        <h2 id="firing-title">Firing now</h2>
        {firing.data ? <span className={`count-pill${firing.data.total ? " hot" : ""}`}>{firing.data.total}</span> : null}
      </div>
      <QueryState query={firing} loading="Loading firing alerts…" failed="Could not load firing alerts">
        {(data) =>
          data.items.length === 0 ? (
            <p className="all-clear" data-testid="all-clear">
              <span aria-hidden="true">✓</span> Nothing is firing{f.plugin || f.severity || f.silenced ? " that matches these filters" : ""}.
            </p>
          ) : (
            <IncidentTable items={data.items} caption="Firing incidents" />
          )}
      </QueryState>
    </section>
  );
}

function HistorySection({ f, onPage, hasRules }: { f: Filters; onPage: (p: number) => void; hasRules: boolean }) {
  const status = f.status === "firing" ? "firing" : "resolved";
  const q = toQuery(f, status, PAGE_SIZE, f.page * PAGE_SIZE);
  const hist = useQuery({ queryKey: al.ak.incidents(q), queryFn: () => al.listIncidents(q), refetchInterval: 60_000 });
  const title = status === "firing" ? "Firing" : "History";
  let body;
  if (hist.isPending) body = <Spinner label="Loading incidents…" />;
  else if (hist.isError) body = <ErrorState title="Could not load incidents" error={hist.error} onRetry={() => hist.refetch()} />;
  else if (hist.data.items.length === 0 && f.page === 0)
    body = hasRules ? (
      <EmptyState title={f.plugin || f.severity || f.silenced ? "No incidents match these filters" : "No resolved incidents yet"}>
        Every alert that fires and resolves is kept here for 180 days.
      </EmptyState>
    ) : (
      <EmptyState title="No incidents yet" action={<Link to="/alerts/rules/new" className="btn btn-primary">Add a rule</Link>}>
        Incidents are recorded when an alert rule fires. Add a rule to get told when a plugin goes down or a value crosses a threshold.
      </EmptyState>
    );
  else {
    const pages = Math.max(1, Math.ceil(hist.data.total / PAGE_SIZE));
    body = (
      <>
        <IncidentTable items={hist.data.items} caption={title} />
        <Pager page={f.page} pages={pages} onPage={onPage} note={` · ${hist.data.total} incident${hist.data.total === 1 ? "" : "s"}`} />
      </>
    );
  }
  return (
    <section className="card" aria-labelledby="history-title">
      <h2 id="history-title">{title}</h2>
      {body}
    </section>
  );
}

export function IncidentsPage() {
  const { search } = useLocation();
  const f = useMemo(() => parseFilters(search), [search]);
  const rules = al.useRules();
  const go = (next: Filters) => navigate(`/alerts${filtersToSearch(next)}`, { replace: true, keepScroll: true });
  return (
    <div className="stack">
      <FilterBar f={f} onChange={go} />
      {f.status !== "resolved" && f.status !== "firing" ? <FiringSection f={f} /> : null}
      <HistorySection f={f} onPage={(page) => go({ ...f, page })} hasRules={(rules.data?.length ?? 1) > 0} />
    </div>
  );
}

export function IncidentDetailPage({ id }: { id: number }) {
  const q = useQuery({ queryKey: al.ak.incident(id), queryFn: () => al.getIncident(id), refetchInterval: (s) => (s.state.data?.status === "firing" ? 15_000 : false) });
  if (q.isPending) return <Spinner label="Loading incident…" />;
  if (q.isError) {
    if (q.error instanceof ApiError && q.error.status === 404)
      return (
        <EmptyState title="Incident not found" action={<Link to="/alerts" className="btn">All incidents</Link>}>
          Resolved incidents are deleted after the history period.
        </EmptyState>
      );
    return <ErrorState title="Could not load the incident" error={q.error} onRetry={() => q.refetch()} />;
  }
  const i = q.data;
  const r = i.rule ?? {};
  const firedFor = (Date.parse(i.resolved_at ?? new Date().toISOString()) - Date.parse(i.fired_at)) / 1000;
  return (
    <div className="stack" data-testid="incident-detail">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/alerts">Incidents</Link> <span aria-hidden="true">/</span> <span aria-current="page">#{i.id}</span>
      </nav>
      <div className="page-head">
        <div>
          <h2 className="with-badge incident-title">
            {i.rule_name} <SeverityBadge severity={i.severity} /> <Pill kind={i.status} />
          </h2>
          <p className="muted">{i.summary}</p>
        </div>
        {i.rule_id ? (
          <Link to={`/alerts/rules/${i.rule_id}/edit`} className="btn">
            Open rule
          </Link>
        ) : null}
      </div>
      <section className="card" aria-label="Incident">
        <dl className="props">
          <div>
            <dt>Plugin</dt>
            <dd>{i.plugin_id ? <Link to={`/plugins/${i.plugin_id}`}>{i.plugin_name ?? `#${i.plugin_id}`}</Link> : (i.plugin_name ?? "—")}</dd>
          </div>
          {i.metric ? (
            <div>
              <dt>Metric</dt>
              <dd>
                <code>{i.metric}</code> {Object.keys(i.labels).length ? <span className="muted">{`{${labelText(i.labels)}}`}</span> : null}
              </dd>
            </div>
          ) : null}
          <div>
            <dt>Values</dt>
            <dd>
              {i.kind === "health" ? "Plugin down" : (
                <>
                  at firing {formatValue(i.value)} · latest {formatValue(i.last_value)}
                  {i.resolved_at ? ` · at resolution ${formatValue(i.resolved_value)}` : ""}
                </>
              )}
            </dd>
          </div>
          <div>
            <dt>Condition became true</dt>
            <dd>{formatDateTime(i.started_at)}</dd>
          </div>
          <div>
            <dt>Fired</dt>
            <dd>{formatDateTime(i.fired_at)}</dd>
          </div>
          <div>
            <dt>Resolved</dt>
            <dd>{i.resolved_at ? `${formatDateTime(i.resolved_at)}${i.resolved_reason ? ` — ${i.resolved_reason}` : ""}` : "still firing"}</dd>
          </div>
          <div>
            <dt>{i.resolved_at ? "Fired for" : "Firing for"}</dt>
            <dd>{humanSeconds(firedFor)}</dd>
          </div>
          <div>
            <dt>Notifications</dt>
            <dd className="pills">
              {i.silenced ? <Pill kind="silenced">silenced{i.silence_id ? ` (silence #${i.silence_id})` : ""}</Pill> : null}
              {i.notified ? <Pill kind="notified" /> : <span className="muted">none sent</span>}
            </dd>
          </div>
        </dl>
      </section>
      <section className="card" aria-labelledby="snapshot-title">
        <h2 id="snapshot-title">Rule when it fired</h2>
        <dl className="props">
          <div>
            <dt>Kind</dt>
            <dd className="capitalize">{String(r["kind"] ?? i.kind)}</dd>
          </div>
          <div>
            <dt>Condition</dt>
            <dd>
              {(r["kind"] ?? i.kind) === "health"
                ? `plugin down for ${humanSeconds(Number(r["for_seconds"] ?? 0))}`
                : `${String(r["metric"] ?? i.metric ?? "?")} ${String(r["op"] ?? "")} ${String(r["threshold"] ?? "")} for ${humanSeconds(Number(r["for_seconds"] ?? 0))}`}
            </dd>
          </div>
          <div>
            <dt>Keep firing</dt>
            <dd>{humanSeconds(Number(r["keep_firing_seconds"] ?? 0))}</dd>
          </div>
        </dl>
        <details className="raw">
          <summary>Full snapshot (JSON)</summary>
          <pre>{JSON.stringify(r, null, 2)}</pre>
        </details>
      </section>
      <section className="card" aria-labelledby="deliveries-title">
        <h2 id="deliveries-title">Notifications</h2>
        {i.deliveries.length === 0 ? (
          <p className="muted">
            {i.silenced ? "None: it fired during a silence." : "None: the rule has no channels, or they are disabled. Add channels to the rule to be notified."}
          </p>
        ) : (
          <DeliveryTable items={i.deliveries} />
        )}
      </section>
    </div>
  );
}

export function DeliveryTable({ items, channelNames }: { items: al.Delivery[]; channelNames?: Map<number, string> }) {
  return (
    <Table caption="Deliveries" columns={["Kind", "Status", "Title", channelNames && "Channel", "Attempts", "Created", "Error"]}>
      {items.map((d) => (
        <tr key={d.id} data-delivery={d.id}>
          <td className="capitalize">{d.kind}</td>
          <td>
            <Pill kind={d.status} title={d.sent_at ? `Sent ${formatDateTime(d.sent_at)}` : d.next_attempt_at ? `Next attempt ${formatDateTime(d.next_attempt_at)}` : undefined} />
          </td>
          <td>{d.title}</td>
          {channelNames ? <td>{channelNames.get(d.channel_id) ?? `#${d.channel_id}`}</td> : null}
          <td>{d.attempts}</td>
          <td title={formatDateTime(d.created_at)}>{timeAgo(d.created_at)}</td>
          <td className="error-cell">{d.last_error ?? ""}</td>
        </tr>
      ))}
    </Table>
  );
}
