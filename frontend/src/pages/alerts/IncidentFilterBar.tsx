// The filter bar above the incident lists: status, plugin, severity and silenced.
import { SEVERITIES } from "../../api/alerts";
import { usePlugins } from "../../api/plugins";
import type { Filters } from "./incidentFilters";
import { IdOptions } from "../../forms/IdOptions";

export function FilterBar({ f, onChange }: { f: Filters; onChange: (f: Filters) => void }) {
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
          <IdOptions items={plugins.data} />
        </select>
      </label>
      <label className="filter">
        <span>Severity</span>
        <select value={f.severity} onChange={(e) => set({ severity: e.target.value as Filters["severity"] })}>
          <option value="">Any severity</option>
          {SEVERITIES.map((s) => (
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
