// The plugin form's "Depends on" section: tick parent plugins, or take one Unity proposes.
import { useDependencyProposals, useFreshPlugins } from "../api/plugins";
import { QueryState } from "../components/ui";

/** Parents of plugin `selfId` (undefined while adding one); proposals are only for saved plugins. */
export function DependsOnFieldset({
  selfId,
  value,
  onChange,
  error,
}: {
  selfId?: number;
  value: number[];
  onChange: (ids: number[]) => void;
  error?: string;
}) {
  const plugins = useFreshPlugins();
  const proposals = useDependencyProposals();
  const toggle = (id: number, on: boolean) => onChange(on ? [...value, id] : value.filter((x) => x !== id));
  const offered = (proposals.data ?? []).filter((p) => p.plugin_id === selfId && !value.includes(p.parent_id));
  return (
    <div className="form-section">
      <fieldset className="check-group" aria-describedby={error ? "plugin-depends-error" : "plugin-depends-help"}>
        <legend>
          <h2>Depends on</h2>
        </legend>
        <p className="field-help" id="plugin-depends-help">
          While a parent is down, this plugin's alerts are recorded as suppressed instead of sent: one outage, one notification.
        </p>
        {offered.length > 0 ? (
          <ul className="plain-list" aria-label="Suggested parents">
            {offered.map((p) => (
              <li key={p.parent_id}>
                Suggested: <strong>{p.parent_name}</strong> <span className="muted small">({p.reason})</span>{" "}
                <button type="button" className="btn btn-sm" onClick={() => toggle(p.parent_id, true)}>
                  Use {p.parent_name}
                </button>
              </li>
            ))}
          </ul>
        ) : null}
        <QueryState query={plugins} loading="Loading plugins…" failed="Could not load plugins">
          {(data) => {
            const others = data.filter((p) => p.id !== selfId);
            return others.length === 0 ? (
              <p className="muted small">No other plugins to depend on yet.</p>
            ) : (
              <div className="check-list">
                {others.map((p) => (
                  <label key={p.id} className="check">
                    <input type="checkbox" checked={value.includes(p.id)} onChange={(e) => toggle(p.id, e.target.checked)} />
                    <span>
                      {p.name} <span className="muted small">({p.type})</span>
                    </span>
                  </label>
                ))}
              </div>
            );
          }}
        </QueryState>
        {error ? (
          <p className="field-error" id="plugin-depends-error" role="alert">
            {error}
          </p>
        ) : null}
      </fieldset>
    </div>
  );
}
