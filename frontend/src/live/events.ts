// The server → client events of /ws/metrics, as the backend sends them (docs: DESIGN, WS row):
// a run event carries the finished run, a health event the plugin's new health.
import type { components } from "../api/schema";

type S = components["schemas"];

export type LiveSample = Pick<S["LatestOut"], "series_id" | "name" | "value" | "unit" | "labels">;
export interface MetricsEvent {
  type: "metrics";
  plugin_id: number;
  ts: string;
  samples: LiveSample[];
}
export interface RunEvent {
  type: "run";
  plugin_id: number;
  run: Omit<S["RunOut"], "trigger"> & Partial<Pick<S["RunOut"], "trigger">>;
}
export interface HealthEvent {
  type: "health";
  plugin_id: number;
  health: Omit<S["HealthOut"], "changed_at">;
}
export type LiveEvent = MetricsEvent | RunEvent | HealthEvent;

const TYPES = new Set<unknown>(["metrics", "run", "health"]);

/** The documented events, and nothing else: anything unknown or malformed is dropped. */
export function parseLiveEvent(raw: unknown): LiveEvent | null {
  if (!raw || typeof raw !== "object") return null;
  const m = raw as Record<string, unknown>;
  if (!TYPES.has(m.type) || typeof m.plugin_id !== "number") return null;
  if (m.type === "metrics") return Array.isArray(m.samples) && typeof m.ts === "string" ? (m as unknown as MetricsEvent) : null;
  if (m.type === "run") return m.run && typeof m.run === "object" ? (m as unknown as RunEvent) : null;
  const h = m.health as { status?: unknown } | undefined;
  return h && typeof h.status === "string" ? (m as unknown as HealthEvent) : null;
}
