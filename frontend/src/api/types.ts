// Domain shapes the UI relies on (DESIGN.md §3). Written by hand and kept loose so the
// UI keeps working when the backend adds fields; the generated schema.d.ts types the paths.

export type HealthStatus = "healthy" | "degraded" | "down" | "unknown";
export type Role = "admin" | "viewer";

export interface PluginHealth {
  status: HealthStatus;
  consecutive_failures?: number;
  last_run_at?: string | null;
  last_success_at?: string | null;
  last_error?: string | null;
}

export interface Plugin {
  id: number;
  name: string;
  type: string;
  config: Record<string, unknown>;
  interval_seconds: number;
  timeout_seconds?: number;
  enabled: boolean;
  created_at?: string;
  updated_at?: string;
  health?: PluginHealth | null;
}

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  writeOnly?: boolean;
  "x-secret"?: boolean;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  examples?: unknown[];
  [key: string]: unknown;
}

export interface PluginType {
  type: string;
  name: string;
  description: string;
  category: string;
  config_schema: JsonSchema;
  secret_fields: string[];
  default_interval_seconds: number;
  default_timeout_seconds?: number;
  available: boolean;
  unavailable_reason?: string | null;
}

export interface PluginRun {
  id: number;
  plugin_id?: number;
  status: "success" | "error" | "timeout" | "running" | string;
  started_at: string;
  finished_at?: string | null;
  duration_ms?: number | null;
  error?: string | null;
  sample_count?: number | null;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface Series {
  id: number;
  plugin_id: number;
  name: string;
  unit: string;
  labels: Record<string, string>;
}

export interface LatestValue {
  series_id: number;
  plugin_id: number;
  name: string;
  unit: string;
  labels: Record<string, string>;
  ts: string;
  value: number;
}

export interface QuerySeries {
  id: number;
  name: string;
  unit: string;
  labels: Record<string, string>;
  points: [string | number, number | null][];
}

export interface QueryResult {
  series: QuerySeries[];
  resolution?: string | number | null;
}

export interface User {
  id: number;
  username: string;
  role: Role;
  disabled: boolean;
  created_at?: string;
}

export interface ApiToken {
  id: number;
  name: string;
  prefix?: string | null;
  created_at?: string;
  last_used_at?: string | null;
  expires_at?: string | null;
}

export interface ApiTokenCreated extends ApiToken {
  token: string;
}

export interface SystemHealth {
  status: string;
  scheduler?: string;
  version?: string;
  [key: string]: unknown;
}

/** WebSocket events (server → client). */
export interface LiveSample {
  series_id: number;
  name: string;
  value: number;
  unit?: string;
  labels?: Record<string, string>;
}
export interface MetricsEvent {
  type: "metrics";
  plugin_id: number;
  ts: string;
  samples: LiveSample[];
}
export interface RunEvent {
  type: "run";
  plugin_id: number;
  run?: PluginRun;
  [key: string]: unknown;
}
export interface HealthEvent {
  type: "health";
  plugin_id: number;
  health?: PluginHealth;
  status?: HealthStatus;
  [key: string]: unknown;
}
export type LiveEvent = MetricsEvent | RunEvent | HealthEvent | { type: string; [key: string]: unknown };
