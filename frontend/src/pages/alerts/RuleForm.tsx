// Add or edit an alert rule. Metric rules pick a plugin and one of its metric names (from the
// series it reports), optional label matchers, a comparison and a threshold; health rules only a
// plugin and how long it must be down. Errors from the API land next to the field they concern.
import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { OPS, SEVERITIES, useRules, useSaveRule, type Comparison, type Rule, type Severity } from "../../api/alerts";
import { FIX_FIELDS_MESSAGE } from "../../api/client";
import { useSeries } from "../../api/metrics";
import { useFreshPlugins } from "../../api/plugins";
import { Link, navigate } from "../../router";
import { EmptyState, ErrorState, Spinner, useToast } from "../../components/ui";
import { FieldShell, KeyValueList, fieldAria } from "../../forms/SchemaForm";
import { formErrors } from "../../forms/apiErrors";
import { formatQuantity, humanSeconds, labelText, quantityHint } from "../../format";
import { MetricField, NotifyFieldset, SecondsField } from "./RuleFormParts";
import { formToBody, ruleFieldMap, ruleToForm, validateRule, wholeSeconds, type RuleFormValues } from "./ruleFormValues";
import { FormFooter } from "../../forms/FormFooter";
import { IdOptions } from "../../forms/IdOptions";

export function RuleForm({ rule, onSaved }: { rule?: Rule; onSaved?: (r: Rule) => void }) {
  const [v, setV] = useState<RuleFormValues>(() => ruleToForm(rule));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const plugins = useFreshPlugins();
  const toast = useToast();
  const series = useSeries(v.plugin ? Number(v.plugin) : undefined, v.kind === "metric");
  const labelSets = useMemo(
    () => (series.data ?? []).filter((s) => s.name === v.metric && Object.keys(s.labels).length).map((s) => labelText(s.labels)),
    [series.data, v.metric],
  );

  const unit = (series.data ?? []).find((s) => s.name === v.metric)?.unit ?? "";
  // A saved threshold is shown in the metric's unit ("10 GB", not 10000000000) once that is known.
  const shownInUnit = useRef(false);
  useEffect(() => {
    if (!rule || rule.kind !== "metric" || !unit || shownInUnit.current) return;
    shownInUnit.current = true;
    setV((old) => (old.threshold === String(rule.threshold) ? { ...old, threshold: formatQuantity(rule.threshold, unit) } : old));
  }, [rule, unit]);

  const set = <K extends keyof RuleFormValues>(k: K, val: RuleFormValues[K], apiKey: string = k) => {
    setV((old) => ({ ...old, [k]: val }));
    if (errors[apiKey]) setErrors(({ [apiKey]: _drop, ...rest }) => rest);
  };

  const save = useSaveRule(rule?.id, {
    onSuccess: (saved) => {
      toast(rule ? "Rule saved." : "Rule added. It is evaluated from now on.");
      if (onSaved) onSaved(saved);
      else navigate("/alerts/rules");
    },
    onError: (e) => {
      const { fields, banner } = formErrors(e, ruleFieldMap);
      setErrors(fields);
      setFormError(banner);
      requestAnimationFrame(() => document.querySelector<HTMLElement>("[aria-invalid='true'], .form-error")?.focus?.());
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs = validateRule(v, unit);
    setErrors(errs);
    if (Object.keys(errs).length) {
      setFormError(FIX_FIELDS_MESSAGE);
      requestAnimationFrame(() => document.querySelector<HTMLElement>("[aria-invalid='true']")?.focus());
      return;
    }
    setFormError(null);
    save.mutate(formToBody(v, unit));
  };

  const forN = wholeSeconds(v.for_seconds);
  const keepN = wholeSeconds(v.keep_firing_seconds);
  const repeatN = wholeSeconds(v.repeat_seconds);

  return (
    <form className="card form-card" onSubmit={submit} noValidate aria-label={rule ? "Edit rule" : "New rule"}>
      <div className="form-section">
        <h2>What to watch</h2>
        <fieldset className="radio-row kind-switch">
          <legend>Kind</legend>
          <label className="radio">
            <input type="radio" name="kind" value="metric" checked={v.kind === "metric"} onChange={() => set("kind", "metric")} />
            <span>
              Metric <span className="muted small">— a value crosses a threshold</span>
            </span>
          </label>
          <label className="radio">
            <input type="radio" name="kind" value="health" checked={v.kind === "health"} onChange={() => set("kind", "health")} />
            <span>
              Health <span className="muted small">— a plugin is down</span>
            </span>
          </label>
        </fieldset>
        <div className="form-grid">
          <FieldShell id="rule-name" label="Name" required error={errors.name}>
            <input
              id="rule-name"
              value={v.name}
              autoComplete="off"
              placeholder={v.kind === "health" ? "e.g. NAS down" : "e.g. Root disk almost full"}
              onChange={(e) => set("name", e.target.value)}
              {...fieldAria("rule-name", errors.name)}
            />
          </FieldShell>
          <FieldShell
            id="rule-plugin"
            label="Plugin"
            description={v.kind === "health" ? "“All plugins” watches every plugin, each on its own." : "“All plugins” matches the metric on every plugin."}
            error={errors.plugin_id}
          >
            <select
              id="rule-plugin"
              value={v.plugin}
              onChange={(e) => set("plugin", e.target.value, "plugin_id")}
              {...fieldAria("rule-plugin", errors.plugin_id, true)}
            >
              <option value="">All plugins</option>
              <IdOptions items={plugins.data} />
            </select>
          </FieldShell>
          {v.kind === "metric" ? (
            <>
              <MetricField key={v.plugin} value={v.metric} onChange={(m) => set("metric", m)} series={series.data ?? []} loading={series.isPending} error={errors.metric} />
              <div className="field op-threshold">
                <FieldShell id="rule-op" label="Comparison" required error={errors.op}>
                  <select id="rule-op" {...fieldAria("rule-op", errors.op)} value={v.op} onChange={(e) => set("op", e.target.value as Comparison)}>
                    {OPS.map((o) => (
                      <option key={o} value={o}>
                        {o}
                      </option>
                    ))}
                  </select>
                </FieldShell>
                <FieldShell id="rule-threshold" label="Threshold" required description={quantityHint(unit)} error={errors.threshold}>
                  <input
                    id="rule-threshold"
                    value={v.threshold}
                    autoComplete="off"
                    placeholder={formatQuantity(unit === "bytes" ? 10e9 : unit === "ms" ? 500 : 90, unit)}
                    onChange={(e) => set("threshold", e.target.value)}
                    {...fieldAria("rule-threshold", errors.threshold, true)}
                  />
                </FieldShell>
              </div>
              <FieldShell
                id="rule-labels"
                label="Label matchers"
                wide
                description={
                  labelSets.length
                    ? `Optional: only series with all of these labels. This metric has: ${labelSets.slice(0, 6).join(" · ")}${labelSets.length > 6 ? " …" : ""}`
                    : "Optional: only series with all of these labels, e.g. mount = /."
                }
                error={errors.labels}
              >
                <KeyValueList id="rule-labels" rows={v.labels} onChange={(rows) => set("labels", rows)} label="Label" />
              </FieldShell>
            </>
          ) : null}
        </div>
      </div>
      <div className="form-section">
        <h2>When to fire</h2>
        <div className="form-grid">
          <SecondsField
            id="rule-for"
            label={v.kind === "health" ? "Down for (seconds)" : "For (seconds)"}
            description={forN === null ? "How long the condition must hold before the alert fires." : `Fires after ${humanSeconds(forN)} ${v.kind === "health" ? "down" : "of the condition holding"}.`}
            error={errors.for_seconds}
            value={v.for_seconds}
            onChange={(seconds) => set("for_seconds", seconds)}
          />
          <SecondsField
            id="rule-keep"
            label="Keep firing (seconds)"
            description={keepN === null ? "How long it must stay clear before resolving." : `Resolves after ${humanSeconds(keepN)} clear; stops flapping.`}
            error={errors.keep_firing_seconds}
            value={v.keep_firing_seconds}
            onChange={(seconds) => set("keep_firing_seconds", seconds)}
          />
          <SecondsField
            id="rule-repeat"
            label="Repeat every (seconds)"
            description={
              !repeatN ? "0: one notice. Otherwise the notice repeats while firing, until someone acknowledges it." : `Repeats every ${humanSeconds(repeatN)} until acknowledged or resolved.`
            }
            error={errors.repeat_seconds}
            value={v.repeat_seconds}
            onChange={(seconds) => set("repeat_seconds", seconds)}
          />
          <FieldShell id="rule-severity" label="Severity" required error={errors.severity}>
            <select id="rule-severity" {...fieldAria("rule-severity", errors.severity)} value={v.severity} onChange={(e) => set("severity", e.target.value as Severity)}>
              {SEVERITIES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </FieldShell>
          <div className="field field-check">
            <label className="check">
              <input type="checkbox" name="enabled" checked={v.enabled} onChange={(e) => set("enabled", e.target.checked)} />
              <span>Enabled</span>
            </label>
            <p className="field-help">A disabled rule resolves what it had firing and evaluates nothing.</p>
          </div>
          <FieldShell id="rule-description" label="Description" wide description="Optional: what to do when it fires." error={errors.description}>
            <textarea id="rule-description" {...fieldAria("rule-description", errors.description, true)} rows={2} value={v.description} onChange={(e) => set("description", e.target.value)} />
          </FieldShell>
        </div>
      </div>
      <NotifyFieldset value={v.channel_ids} onChange={(ids) => set("channel_ids", ids)} error={errors.channel_ids} />
      <FormFooter formError={formError} cancelTo="/alerts/rules" busy={save.isPending} submitLabel={rule ? "Save rule" : "Add rule"} />
    </form>
  );
}

export function RuleFormPage({ id }: { id?: number }) {
  const rules = useRules();
  if (id === undefined) return <RuleForm />;
  if (rules.isPending) return <Spinner label="Loading rule…" />;
  if (rules.isError) return <ErrorState title="Could not load the rule" error={rules.error} onRetry={() => rules.refetch()} />;
  const rule = rules.data.find((r) => r.id === id);
  if (!rule)
    return (
      <EmptyState title="Rule not found" action={<Link to="/alerts/rules" className="btn">All rules</Link>}>
        It may have been deleted.
      </EmptyState>
    );
  return <RuleForm key={rule.id} rule={rule} />;
}
