// The audit log of configuration changes, recorded events, and an incident's "what changed"
// window (docs/ALERTS.md): types from the generated schema, query keys and hooks.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { client, unwrap } from "./client";
import { metricKeys, queryMetrics } from "./metrics";
import type { components, operations } from "./schema";

type S = components["schemas"];
export type AuditEntry = S["AuditEntryOut"];
export type TimelineEvent = S["EventOut"];
export type IncidentChanges = S["IncidentChangesOut"];
export type AuditFilters = NonNullable<operations["audit-list_audit"]["parameters"]["query"]> & { limit: number; offset: number };

export const OBJECT_TYPES = [
  "plugin",
  "alert_rule",
  "channel",
  "silence",
  "maintenance_window",
  "status_page",
  "user",
  "api_token",
  "push_monitor",
] as const;

export const auditKeys = {
  all: ["audit"] as const,
  list: (f: AuditFilters) => [...auditKeys.all, "list", f] as const,
  incident: (id: number) => [...auditKeys.all, "incident", id] as const,
};

const listAudit = (f: AuditFilters) => unwrap(client.GET("/api/v1/audit", { params: { query: f } }));
const incidentChanges = (id: number) =>
  unwrap(client.GET("/api/v1/alerts/incidents/{incident_id}/changes", { params: { path: { incident_id: id } } }));

export const useAuditLog = (f: AuditFilters) =>
  useQuery({ queryKey: auditKeys.list(f), queryFn: () => listAudit(f), placeholderData: keepPreviousData });

export const useIncidentChanges = (id: number) =>
  useQuery({ queryKey: auditKeys.incident(id), queryFn: () => incidentChanges(id), refetchInterval: 60_000 });

/** One series over an incident's "what changed" window, for the chart above its timeline. */
export const useWindowSeries = (seriesId: number | null, window: readonly [string, string] | null, incidentId: number) =>
  useQuery({
    queryKey: metricKeys.query({ ids: seriesId === null ? [] : [seriesId], range: `incident-${incidentId}`, points: 300 }),
    enabled: seriesId !== null && window !== null,
    staleTime: 60_000,
    queryFn: () => queryMetrics([seriesId!], new Date(window![0]), new Date(window![1]), 300),
  });
