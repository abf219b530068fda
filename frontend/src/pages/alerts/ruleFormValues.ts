// The rule form's values and the pure steps around them: from a rule, client-side checks,
// to the API body, and where the API's field errors land.
import type { Comparison, Rule, RuleCreate, Severity } from "../../api/alerts";
import type { KeyValue } from "../../forms/schema";
import { topLevel } from "../../forms/apiErrors";
import { parseQuantity, quantityHint } from "../../format";

/** The API's upper bound for `for_seconds`, `keep_firing_seconds` and `repeat_seconds`. */
export const WEEK = 7 * 86400;

export interface RuleFormValues {
  name: string;
  description: string;
  kind: "metric" | "health";
  plugin: string; // "" = every plugin
  metric: string;
  labels: KeyValue[];
  op: Comparison;
  threshold: string;
  for_seconds: string;
  keep_firing_seconds: string;
  repeat_seconds: string;
  severity: Severity;
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
    repeat_seconds: String(r?.repeat_seconds ?? 0),
    severity: r?.severity ?? "warning",
    enabled: r?.enabled ?? true,
    channel_ids: r?.channel_ids ?? [],
  };
}

export function wholeSeconds(v: string): number | null {
  if (v.trim() === "") return null;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n <= WEEK ? n : null;
}

/** Client-side checks, keyed like the API's fields; `unit` is the metric's (thresholds take units). */
export function validateRule(v: RuleFormValues, unit = ""): Record<string, string> {
  const e: Record<string, string> = {};
  if (!v.name.trim()) e.name = "Give the rule a name, e.g. “Root disk almost full”.";
  if (v.kind === "metric") {
    if (!v.metric.trim()) e.metric = "Choose the metric to watch.";
    if (parseQuantity(v.threshold, unit) === null) e.threshold = `Enter a value to compare with. ${quantityHint(unit)}`;
    const keys = v.labels.filter((l) => l.key.trim() || l.value.trim());
    if (keys.some((l) => !l.key.trim())) e.labels = "Every label matcher needs a name.";
    else if (new Set(keys.map((l) => l.key.trim())).size !== keys.length) e.labels = "Each label name can appear once.";
  }
  if (wholeSeconds(v.for_seconds) === null) e.for_seconds = "Enter whole seconds between 0 and 604800 (7 days).";
  if (wholeSeconds(v.keep_firing_seconds) === null) e.keep_firing_seconds = "Enter whole seconds between 0 and 604800 (7 days).";
  if (wholeSeconds(v.repeat_seconds) === null) e.repeat_seconds = "Enter whole seconds between 0 (no repeat) and 604800 (7 days).";
  return e;
}

export function formToBody(v: RuleFormValues, unit = ""): RuleCreate {
  const metric = v.kind === "metric";
  return {
    name: v.name.trim(),
    description: v.description.trim(),
    kind: v.kind,
    plugin_id: v.plugin ? Number(v.plugin) : null,
    for_seconds: Number(v.for_seconds),
    keep_firing_seconds: Number(v.keep_firing_seconds),
    repeat_seconds: Number(v.repeat_seconds),
    severity: v.severity,
    enabled: v.enabled,
    channel_ids: v.channel_ids,
    // A health rule has no condition of its own: the API's defaults (">", 0) stand for "none".
    op: metric ? v.op : ">",
    threshold: metric ? (parseQuantity(v.threshold, unit) ?? 0) : 0,
    ...(metric
      ? { metric: v.metric.trim(), labels: Object.fromEntries(v.labels.filter((l) => l.key.trim()).map((l) => [l.key.trim(), l.value])) }
      : {}),
  };
}

/** The rule form's fields carry the API's names, so its field paths land on them directly. */
export const ruleFieldMap = topLevel(
  "name",
  "description",
  "kind",
  "plugin_id",
  "metric",
  "labels",
  "op",
  "threshold",
  "for_seconds",
  "keep_firing_seconds",
  "repeat_seconds",
  "severity",
  "enabled",
  "channel_ids",
);
