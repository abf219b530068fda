// Add or edit an alert rule. Metric rules pick a plugin and one of its metric names (from the
// series it reports), optional label matchers, a comparison and a threshold; health rules only a
// plugin and how long it must be down. Errors from the API land next to the field they concern.
import { useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import * as al from "../../api/alerts";
import type { Rule, RuleInput } from "../../api/alerts";
import * as api from "../../api/endpoints";
import { ApiError, errorMessage } from "../../api/client";
import { Link, navigate } from "../../router";
import { EmptyState, ErrorState, QueryState, Spinner, useToast } from "../../components/ui";
import { FieldShell, KeyValueList } from "../../forms/SchemaForm";
import type { KeyValue } from "../../forms/schema";
import { labelText } from "../../format";
import { humanSeconds, useFreshPlugins } from "./common";

const WEEK = 7 * 86400;
const OTHER = "__other__";

export interface RuleFormValues {
  name: string;
  description: string;
  kind: "metric" | "health";
  plugin: string; // "" = every plugin
  metric: string;
  labels: KeyValue[];
  op: al.Comparison;
  threshold: string;
  for_seconds: string;
  keep_firing_seconds: string;
  severity: al.Severity;
  enabled: boolean;
  channel_ids: number[];
}

export function ruleToForm(r?: Rule): RuleFormValues {
  return {
    name: r?.name ?? "",
    description: r?.description ?? "",
    kind: r?.kind ?? "metric",
    plugin: r?.plugin_id != null ? String(r.plugin_id) : "",
    metric: r?.metric ?? "",
    labels: Object.entries(r?.labels ?? {}).map(([key, value]) => ({ key, value })),
    op: r?.op ?? ">",
    threshold: r ? String(r.threshold) : "",
    for_seconds: String(r?.for_seconds ?? 60),
    keep_firing_seconds: String(r?.keep_firing_seconds ?? 60),
    severity: r?.severity ?? "warning",
    enabled: r?.enabled ?? true,
    channel_ids: r?.channel_ids ?? [],
  };
}

function wholeSeconds(v: string): number | null {
  if (v.trim() === "") return null;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n <= WEEK ? n : null;
}

/** Client-side checks, keyed like the API's fields. */
export function validateRule(v: RuleFormValues): Record<string, string> {
  const e: Record<string, string> = {};
  if (!v.name.trim()) e.name = "Give the rule a name, e.g. “Root disk almost full”.";
  if (v.kind === "metric") {
    if (!v.metric.trim()) e.metric = "Choose the metric to watch.";
    if (v.threshold.trim() === "" || !Number.isFinite(Number(v.threshold))) e.threshold = "Enter a number to compare with.";
    const keys = v.labels.filter((l) => l.key.trim() || l.value.trim());
    if (keys.some((l) => !l.key.trim())) e.labels = "Every label matcher needs a name.";
    else if (new Set(keys.map((l) => l.key.trim())).size !== keys.length) e.labels = "Each label name can appear once.";
  }
  if (wholeSeconds(v.for_seconds) === null) e.for_seconds = "Enter whole seconds between 0 and 604800 (7 days).";
  if (wholeSeconds(v.keep_firing_seconds) === null) e.keep_firing_seconds = "Enter whole seconds between 0 and 604800 (7 days).";
  return e;
}

export function formToBody(v: RuleFormValues): RuleInput {
  const body: RuleInput = {
    name: v.name.trim(),
    description: v.description.trim(),
    kind: v.kind,
    plugin_id: v.plugin ? Number(v.plugin) : null,
    for_seconds: Number(v.for_seconds),
    keep_firing_seconds: Number(v.keep_firing_seconds),
    severity: v.severity,
    enabled: v.enabled,
    channel_ids: v.channel_ids,
  };
  if (v.kind === "metric") {
    body.metric = v.metric.trim();
    body.labels = Object.fromEntries(v.labels.filter((l) => l.key.trim()).map((l) => [l.key.trim(), l.value]));
    body.op = v.op;
    body.threshold = Number(v.threshold);
  }
  return body;
}

const FIELDS = ["name", "description", "kind", "plugin_id", "metric", "labels", "op", "threshold", "for_seconds", "keep_firing_seconds", "severity", "enabled", "channel_ids"];

/** Maps an API error to field messages: 422 `loc`s directly, the service's sentences by what they name. */
export function ruleErrorsFromApi(e: unknown): { fields: Record<string, string>; message: string } {
  if (!(e instanceof ApiError)) return { fields: {}, message: errorMessage(e) };
  const fields: Record<string, string> = {};
  for (const [path, msg] of Object.entries(e.fieldErrors)) {
    const top = path.split(".")[0];
    if (FIELDS.includes(top)) fields[top] ??= msg;
  }
  if (Object.keys(fields).length) return { fields, message: "Some fields need attention: fix the highlighted values and try again." };
  const m = e.message;
  if (e.status === 409 || /already exists/i.test(m)) fields.name = m;
  else if (/`metric`|metric rule/i.test(m)) fields.metric = m;
  else if (/no plugin/i.test(m)) fields.plugin_id = m;
  else if (/notification channel/i.test(m)) fields.channel_ids = m;
  return { fields, message: Object.keys(fields).length ? "The server did not accept the rule: see the highlighted field." : m };
}

function describe(id: string, help: boolean, err?: string) {
  return [help ? `${id}-help` : "", err ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
}

export function RuleForm({ rule, onSaved }: { rule?: Rule; onSaved?: (r: Rule) => void }) {
  const [v, setV] = useState<RuleFormValues>(() => ruleToForm(rule));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [otherMetric, setOtherMetric] = useState(false);
  const plugins = useFreshPlugins();
  const channels = al.useChannels();
  const qc = useQueryClient();
  const toast = useToast();
  const pluginId = v.plugin ? Number(v.plugin) : undefined;
  const series = useQuery({
    queryKey: ["metrics", "series", pluginId ?? "all"],
    queryFn: () => api.listSeries(pluginId),
    enabled: v.kind === "metric",
    staleTime: 60_000,
  });
  const names = useMemo(() => [...new Set((series.data ?? []).map((s) => s.name))].sort(), [series.data]);
  const labelSets = useMemo(
    () => (series.data ?? []).filter((s) => s.name === v.metric && Object.keys(s.labels ?? {}).length).map((s) => labelText(s.labels)),
    [series.data, v.metric],
  );
  const unit = (series.data ?? []).find((s) => s.name === v.metric)?.unit ?? "";
  const metricIsKnown = names.includes(v.metric);
  const showFreeMetric = otherMetric || (v.metric !== "" && !metricIsKnown && !series.isPending) || (!series.isPending && names.length === 0);

  const set = <K extends keyof RuleFormValues>(k: K, val: RuleFormValues[K], apiKey: string = k) => {
    setV((old) => ({ ...old, [k]: val }));
    if (errors[apiKey]) setErrors(({ [apiKey]: _drop, ...rest }) => rest);
  };

  const save = useMutation({
    mutationFn: (body: RuleInput) => (rule ? al.updateRule(rule.id, body) : al.createRule(body)),
    onSuccess: (saved) => {
      void qc.invalidateQueries({ queryKey: al.ak.rules });
      toast(rule ? "Rule saved." : "Rule added. It is evaluated from now on.");
      if (onSaved) onSaved(saved);
      else navigate("/alerts/rules");
    },
    onError: (e) => {
      const { fields, message } = ruleErrorsFromApi(e);
      setErrors(fields);
      setFormError(message);
      requestAnimationFrame(() => document.querySelector<HTMLElement>("[aria-invalid='true'], .form-error")?.focus?.());
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs = validateRule(v);
    setErrors(errs);
    if (Object.keys(errs).length) {
      setFormError("Some fields need attention: fix the highlighted values and try again.");
      requestAnimationFrame(() => document.querySelector<HTMLElement>("[aria-invalid='true']")?.focus());
      return;
    }
    setFormError(null);
    save.mutate(formToBody(v));
  };

  const forN = wholeSeconds(v.for_seconds);
  const keepN = wholeSeconds(v.keep_firing_seconds);

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
              aria-invalid={errors.name ? true : undefined}
              aria-describedby={describe("rule-name", false, errors.name)}
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
              onChange={(e) => {
                set("plugin", e.target.value, "plugin_id");
                setOtherMetric(false);
              }}
              aria-invalid={errors.plugin_id ? true : undefined}
              aria-describedby={describe("rule-plugin", true, errors.plugin_id)}
            >
              <option value="">All plugins</option>
              {(plugins.data ?? []).map((p) => (
                <option key={p.id} value={String(p.id)}>
                  {p.name}
                </option>
              ))}
            </select>
          </FieldShell>
          {v.kind === "metric" ? (
            <>
              <FieldShell
                id="rule-metric"
                label="Metric"
                required
                description={series.isPending ? "Loading the metrics this plugin reports…" : names.length === 0 ? "No metrics reported yet: type the sample name, e.g. cpu_percent." : unit ? `Unit: ${unit}` : undefined}
                error={errors.metric}
              >
                {showFreeMetric ? (
                  <input
                    id="rule-metric"
                    value={v.metric}
                    autoComplete="off"
                    placeholder="e.g. disk_percent"
                    onChange={(e) => set("metric", e.target.value)}
                    aria-invalid={errors.metric ? true : undefined}
                    aria-describedby={describe("rule-metric", true, errors.metric)}
                  />
                ) : (
                  <select
                    id="rule-metric"
                    value={v.metric}
                    onChange={(e) => {
                      if (e.target.value === OTHER) {
                        setOtherMetric(true);
                        set("metric", "");
                      } else set("metric", e.target.value);
                    }}
                    aria-invalid={errors.metric ? true : undefined}
                    aria-describedby={describe("rule-metric", true, errors.metric)}
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
              <div className="field op-threshold">
                <FieldShell id="rule-op" label="Comparison" required error={errors.op}>
                  <select id="rule-op" value={v.op} onChange={(e) => set("op", e.target.value as al.Comparison)}>
                    {al.OPS.map((o) => (
                      <option key={o} value={o}>
                        {o}
                      </option>
                    ))}
                  </select>
                </FieldShell>
                <FieldShell id="rule-threshold" label="Threshold" required error={errors.threshold}>
                  <input
                    id="rule-threshold"
                    type="number"
                    step="any"
                    inputMode="decimal"
                    value={v.threshold}
                    placeholder="90"
                    onChange={(e) => set("threshold", e.target.value)}
                    aria-invalid={errors.threshold ? true : undefined}
                    aria-describedby={describe("rule-threshold", false, errors.threshold)}
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
          <FieldShell
            id="rule-for"
            label={v.kind === "health" ? "Down for (seconds)" : "For (seconds)"}
            required
            description={forN === null ? "How long the condition must hold before the alert fires." : `Fires after ${humanSeconds(forN)} ${v.kind === "health" ? "down" : "of the condition holding"}.`}
            error={errors.for_seconds}
          >
            <input
              id="rule-for"
              type="number"
              min={0}
              max={WEEK}
              step={1}
              inputMode="numeric"
              value={v.for_seconds}
              onChange={(e) => set("for_seconds", e.target.value)}
              aria-invalid={errors.for_seconds ? true : undefined}
              aria-describedby={describe("rule-for", true, errors.for_seconds)}
            />
          </FieldShell>
          <FieldShell
            id="rule-keep"
            label="Keep firing (seconds)"
            required
            description={keepN === null ? "How long it must stay clear before resolving." : `Resolves after ${humanSeconds(keepN)} clear; stops flapping.`}
            error={errors.keep_firing_seconds}
          >
            <input
              id="rule-keep"
              type="number"
              min={0}
              max={WEEK}
              step={1}
              inputMode="numeric"
              value={v.keep_firing_seconds}
              onChange={(e) => set("keep_firing_seconds", e.target.value)}
              aria-invalid={errors.keep_firing_seconds ? true : undefined}
              aria-describedby={describe("rule-keep", true, errors.keep_firing_seconds)}
            />
          </FieldShell>
          <FieldShell id="rule-severity" label="Severity" required error={errors.severity}>
            <select id="rule-severity" value={v.severity} onChange={(e) => set("severity", e.target.value as al.Severity)}>
              {al.SEVERITIES.map((s) => (
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
            <textarea id="rule-description" rows={2} value={v.description} onChange={(e) => set("description", e.target.value)} />
          </FieldShell>
        </div>
      </div>
      <div className="form-section">
        <fieldset className="check-group" aria-describedby={errors.channel_ids ? "rule-channels-error" : "rule-channels-help"}>
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
                          checked={v.channel_ids.includes(c.id)}
                          onChange={(e) =>
                            set("channel_ids", e.target.checked ? [...v.channel_ids, c.id] : v.channel_ids.filter((x) => x !== c.id), "channel_ids")
                          }
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
          {errors.channel_ids ? (
            <p className="field-error" id="rule-channels-error" role="alert">
              {errors.channel_ids}
            </p>
          ) : null}
        </fieldset>
      </div>
      {formError ? (
        <p className="form-error" role="alert" tabIndex={-1}>
          {formError}
        </p>
      ) : null}
      <div className="form-actions">
        <Link to="/alerts/rules" className="btn">
          Cancel
        </Link>
        <button type="submit" className="btn btn-primary" disabled={save.isPending}>
          {save.isPending ? "Saving…" : rule ? "Save rule" : "Add rule"}
        </button>
      </div>
    </form>
  );
}

export function RuleFormPage({ id }: { id?: number }) {
  const rules = al.useRules();
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
