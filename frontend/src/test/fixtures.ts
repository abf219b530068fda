// API bodies for tests, typed from the generated schema: when the backend renames or adds a
// required field, these stop compiling instead of tests passing against a shape that is gone.
import type { Channel } from "../api/channels";
import type { Incident, Rule } from "../api/alerts";
import type { LatestValue, QueryResult, Series } from "../api/metrics";
import type { HealthStatus, Plugin, PluginType } from "../api/plugins";
import type { User } from "../api/session";
import type { HealthEvent, MetricsEvent } from "../live/events";

export const now = new Date().toISOString();

export function user(id: number, username: string, role: User["role"]): User {
  return { id, username, role, disabled: false, created_at: now, last_login_at: null, totp_enabled: false };
}

export const httpType: PluginType = {
  type: "http",
  name: "HTTP(S) check",
  description: "Checks a URL.",
  category: "network",
  default_interval_seconds: 60,
  secret_fields: ["bearer_token"],
  available: true,
  config_schema: {
    type: "object",
    required: ["url"],
    properties: {
      url: { type: "string", title: "URL" },
      bearer_token: { anyOf: [{ type: "string" }, { type: "null" }], default: null, title: "Bearer token", writeOnly: true, format: "password", "x-secret": true },
    },
  },
};

export function plugin(id: number, name: string, status: HealthStatus = "healthy", enabled = true, extra: Partial<Plugin> = {}): Plugin {
  return {
    id,
    name,
    type: "http",
    config: { url: "http://x/" },
    interval_seconds: 60,
    timeout_seconds: 10,
    enabled,
    created_at: now,
    updated_at: now,
    health: { status, consecutive_failures: 0, last_run_at: now, last_success_at: now, last_error: status === "down" ? "connection refused" : null },
    locations: ["hub"],
    down_quorum: 1,
    ...extra,
  };
}

export function series(id: number, plugin_id: number, name: string, unit: string, labels: Record<string, string> = {}): Series {
  return { id, plugin_id, name, unit, labels };
}

export function latest(s: Series, value: number): LatestValue {
  return { series_id: s.id, plugin_id: s.plugin_id, name: s.name, unit: s.unit, labels: s.labels, ts: now, value };
}

export function queryResult(s: Series, points: [string, number | null][]): QueryResult {
  return { series: [{ ...s, points }], resolution: "raw", bucket_seconds: 0, start: now, end: now };
}

export function page<T>(items: T[]): { items: T[]; total: number; limit: number; offset: number } {
  return { items, total: items.length, limit: 25, offset: 0 };
}

export function channel(id: number, name: string): Channel {
  return {
    id,
    name,
    url: "********",
    service: "ntfy",
    enabled: true,
    send_resolved: true,
    group_seconds: null,
    quiet_start: null,
    quiet_end: null,
    quiet_timezone: "UTC",
    quiet_except_critical: true,
    quiet_now: false,
    created_at: now,
    updated_at: now,
  };
}

export function rule(id: number, extra: Partial<Rule> = {}): Rule {
  return {
    id,
    name: `rule ${id}`,
    description: "",
    kind: "metric",
    plugin_id: 1,
    metric: "disk_percent",
    labels: {},
    op: ">",
    threshold: 90,
    for_seconds: 60,
    keep_firing_seconds: 60,
    repeat_seconds: 0,
    severity: "warning",
    enabled: true,
    channel_ids: [],
    pending: 0,
    firing: 0,
    created_at: now,
    updated_at: now,
    ...extra,
  };
}

export function incident(id: number, status: Incident["status"], extra: Partial<Incident> = {}): Incident {
  return {
    id,
    rule_id: 3,
    rule_name: status === "firing" ? "Disk almost full" : "NAS down",
    rule: { kind: "metric", op: ">", threshold: 90, for_seconds: 60 },
    kind: "metric",
    severity: status === "firing" ? "critical" : "warning",
    plugin_id: 1,
    plugin_name: "NAS",
    series_id: 10,
    metric: "disk_percent",
    labels: { mount: "/" },
    status,
    summary: `summary ${id}`,
    started_at: now,
    fired_at: now,
    resolved_at: status === "resolved" ? now : null,
    value: 93.5,
    last_value: 94,
    resolved_value: status === "resolved" ? 80 : null,
    resolved_reason: null,
    silenced: false,
    silence_id: null,
    notified: true,
    network_down: false,
    ...extra,
  };
}

export function metricsEvent(plugin_id: number, s: Series, value: number, ts = now): MetricsEvent {
  return { type: "metrics", plugin_id, ts, samples: [{ series_id: s.id, name: s.name, value, unit: s.unit, labels: s.labels }] };
}

export function healthEvent(plugin_id: number, status: HealthStatus, last_error: string | null = null): HealthEvent {
  return {
    type: "health",
    plugin_id,
    health: { status, consecutive_failures: status === "healthy" ? 0 : 1, last_run_at: now, last_success_at: null, last_error },
  };
}
