// The rule form's two larger pieces: the metric picker (names the plugin reports, or free
// text) and the channels to notify.
import { useState } from "react";
import type { Series } from "../../api/metrics";
import { useChannels } from "../../api/channels";
import { Link } from "../../router";
import { QueryState } from "../../components/ui";
import { FieldShell, fieldAria } from "../../forms/SchemaForm";
import { WEEK } from "./ruleFormValues";

const OTHER = "__other__";

/** A whole number of seconds from 0 to a week (the rule's "for" and "keep firing" waits). */
export function SecondsField({
  id,
  label,
  description,
  error,
  value,
  onChange,
}: {
  id: string;
  label: string;
  description: string;
  error?: string;
  value: string;
  onChange: (seconds: string) => void;
}) {
  return (
    <FieldShell id={id} label={label} required description={description} error={error}>
      <input
        id={id}
        type="number"
        min={0}
        max={WEEK}
        step={1}
        inputMode="numeric"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        {...fieldAria(id, error, true)}
      />
    </FieldShell>
  );
}

/** The metric to watch: a select of the names `series` holds, or free text when there are none
 * (or the user picks "Another name…"). */
export function MetricField({
  value,
  onChange,
  series,
  loading,
  error,
}: {
  value: string;
  onChange: (metric: string) => void;
  series: Series[];
  loading: boolean;
  error?: string;
}) {
  const [otherMetric, setOtherMetric] = useState(false);
  const names = [...new Set(series.map((s) => s.name))].sort();
  const unit = series.find((s) => s.name === value)?.unit ?? "";
  const showFreeMetric = otherMetric || (value !== "" && !names.includes(value) && !loading) || (!loading && names.length === 0);
  return (
    <FieldShell
      id="rule-metric"
      label="Metric"
      required
      description={loading ? "Loading the metrics this plugin reports…" : names.length === 0 ? "No metrics reported yet: type the sample name, e.g. cpu_percent." : unit ? `Unit: ${unit}` : undefined}
      error={error}
    >
      {showFreeMetric ? (
        <input
          id="rule-metric"
          value={value}
          autoComplete="off"
          placeholder="e.g. disk_percent"
          onChange={(e) => onChange(e.target.value)}
          {...fieldAria("rule-metric", error, true)}
        />
      ) : (
        <select
          id="rule-metric"
          value={value}
          onChange={(e) => {
            if (e.target.value === OTHER) {
              setOtherMetric(true);
              onChange("");
            } else onChange(e.target.value);
          }}
          {...fieldAria("rule-metric", error, true)}
        >
          <option value="">Choose a metric…</option>
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
          <option value={OTHER}>Another name…</option>
        </select>
      )}
    </FieldShell>
  );
}

/** Which channels the rule notifies; none ticked still records incidents. */
export function NotifyFieldset({ value, onChange, error }: { value: number[]; onChange: (ids: number[]) => void; error?: string }) {
  const channels = useChannels();
  return (
    <div className="form-section">
      <fieldset className="check-group" aria-describedby={error ? "rule-channels-error" : "rule-channels-help"}>
        <legend>
          <h2>Notify</h2>
        </legend>
        <QueryState query={channels} loading="Loading channels…" failed="Could not load channels">
          {(data) =>
            data.length === 0 ? (
              <p className="muted small" id="rule-channels-help">
                No notification channels yet. The rule still records incidents; <Link to="/alerts/channels">add a channel</Link> to be told.
              </p>
            ) : (
              <>
                <div className="check-list">
                  {data.map((c) => (
                    <label key={c.id} className="check">
                      <input
                        type="checkbox"
                        checked={value.includes(c.id)}
                        onChange={(e) => onChange(e.target.checked ? [...value, c.id] : value.filter((x) => x !== c.id))}
                      />
                      <span>
                        {c.name} <span className="muted small">({c.service}{c.enabled ? "" : ", disabled"})</span>
                      </span>
                    </label>
                  ))}
                </div>
                <p className="field-help" id="rule-channels-help">
                  None ticked: incidents are recorded but nobody is notified.
                </p>
              </>
            )}
        </QueryState>
        {error ? (
          <p className="field-error" id="rule-channels-error" role="alert">
            {error}
          </p>
        ) : null}
      </fieldset>
    </div>
  );
}
