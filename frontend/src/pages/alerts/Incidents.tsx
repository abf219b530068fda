// Incidents: what is firing now (first), then the history, with filters kept in the URL so a
// filtered view can be bookmarked or shared.
import { useMemo } from "react";
import { useFiringIncidents, useIncidents, useRules } from "../../api/alerts";
import { Link, navigate, useLocation } from "../../router";
import { EmptyState, ErrorState, Pager, QueryState, Spinner } from "../../components/ui";
import { FilterBar } from "./IncidentFilterBar";
import { IncidentTable } from "./IncidentTable";
import { PAGE_SIZE, filtersToSearch, parseFilters, toQuery, type Filters } from "./incidentFilters";

function FiringSection({ f }: { f: Filters }) {
  const q = toQuery(f, "firing", 200, 0);
  const firing = useFiringIncidents(q, !f.plugin && !f.severity && !f.silenced);
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
  const hist = useIncidents(q, 60_000);
  const title = status === "firing" ? "Firing" : "History";
  let body;
  if (hist.isPending) body = <Spinner label="Loading incidents…" />;
  else if (hist.isError) body = <ErrorState title="Could not load incidents" error={hist.error} onRetry={() => hist.refetch()} />;
  else if (hist.data.items.length === 0 && f.page === 0)
    body = hasRules ? (
      <EmptyState title={f.plugin || f.severity || f.silenced ? "No incidents match these filters" : "No resolved incidents yet"}>
        Every alert that fires and resolves is listed here.
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
  const rules = useRules();
  const go = (next: Filters) => navigate(`/alerts${filtersToSearch(next)}`, { replace: true, keepScroll: true });
  return (
    <div className="stack">
      <FilterBar f={f} onChange={go} />
      {f.status !== "resolved" && f.status !== "firing" ? <FiringSection f={f} /> : null}
      <HistorySection f={f} onPage={(page) => go({ ...f, page })} hasRules={(rules.data?.length ?? 1) > 0} />
    </div>
  );
}
