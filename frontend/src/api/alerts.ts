// Alert rules, states, incidents and silences (docs/ALERTS.md): types from the generated
// schema, query keys, fetchers, hooks and mutations. Only the lazy-loaded alerts pages import
// this module, except useFiringCount(), which the header badge uses.
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "./client";
import { useCacheMutation, type MutationCallbacks } from "./mutations";
import type { components, operations } from "./schema";

type S = components["schemas"];
export type Rule = S["RuleOut"];
export type RuleCreate = S["RuleCreate"];
export type Incident = S["IncidentOut"];
export type IncidentDetail = S["IncidentDetail"];
export type Delivery = S["DeliveryOut"];
export type Silence = S["SilenceOut"];
export type SilenceCreate = S["SilenceCreate"];
export type Severity = Rule["severity"];
export type Comparison = Rule["op"];
export type IncidentFilters = NonNullable<operations["alerts-list_incidents"]["parameters"]["query"]> & { limit: number; offset: number };

export const SEVERITIES: Severity[] = ["info", "warning", "critical"];
export const OPS: Comparison[] = [">", ">=", "<", "<=", "==", "!="];

export const alertKeys = {
  all: ["alerts"] as const,
  rules: () => [...alertKeys.all, "rules"] as const,
  incidents: () => [...alertKeys.all, "incidents"] as const,
  incidentList: (f: IncidentFilters) => [...alertKeys.incidents(), "list", f] as const,
  incident: (id: number) => [...alertKeys.incidents(), "detail", id] as const,
  firingCount: () => [...alertKeys.all, "firing-count"] as const,
  silences: () => [...alertKeys.all, "silences"] as const,
};

// ------------------------------------------------------------------ rules
const listRules = () => unwrap(client.GET("/api/v1/alerts/rules"));
const createRule = (body: RuleCreate) => unwrap(client.POST("/api/v1/alerts/rules", { body }));
const updateRule = (id: number, body: RuleCreate) =>
  unwrap(client.PATCH("/api/v1/alerts/rules/{rule_id}", { params: { path: { rule_id: id } }, body }));
const deleteRule = (id: number) =>
  unwrap(client.DELETE("/api/v1/alerts/rules/{rule_id}", { params: { path: { rule_id: id } } }));

export const useRules = () => useQuery({ queryKey: alertKeys.rules(), queryFn: listRules, refetchInterval: 15_000 });

const refreshRules: Parameters<typeof useCacheMutation>[1] = (qc) => void qc.invalidateQueries({ queryKey: alertKeys.rules() });

/** Creates a rule, or updates `id` when given. */
export const useSaveRule = (id: number | undefined, cb?: MutationCallbacks<Rule, RuleCreate>) =>
  useCacheMutation((body: RuleCreate) => (id === undefined ? createRule(body) : updateRule(id, body)), refreshRules, cb);
export const useDeleteRule = (cb?: MutationCallbacks<void, number>) => useCacheMutation(deleteRule, refreshRules, cb);

// ------------------------------------------------------------------ states and incidents
/** How many alerts are firing right now: the header badge polls this. */
async function firingCount(): Promise<number> {
  return (await unwrap(client.GET("/api/v1/alerts/states", { params: { query: { state: "firing" } } }))).length;
}

const listIncidents = (f: IncidentFilters) => unwrap(client.GET("/api/v1/alerts/incidents", { params: { query: f } }));
const getIncident = (id: number) =>
  unwrap(client.GET("/api/v1/alerts/incidents/{incident_id}", { params: { path: { incident_id: id } } }));

/** The header badge: polled every 30 s (and refreshed on health changes by LiveProvider). */
export const useFiringCount = () =>
  useQuery({ queryKey: alertKeys.firingCount(), queryFn: firingCount, refetchInterval: 30_000, staleTime: 10_000, retry: false });

export const useIncidents = (f: IncidentFilters, refetchInterval: number) =>
  useQuery({ queryKey: alertKeys.incidentList(f), queryFn: () => listIncidents(f), refetchInterval });

/** Incidents firing now; when unfiltered its total also feeds the header badge, so both agree. */
export function useFiringIncidents(f: IncidentFilters, unfiltered: boolean) {
  return useQuery({
    queryKey: alertKeys.incidentList(f),
    queryFn: async ({ client: qc }) => {
      const page = await listIncidents(f);
      if (unfiltered) qc.setQueryData(alertKeys.firingCount(), page.total);
      return page;
    },
    refetchInterval: 15_000,
  });
}

const ackIncident = ({ id, comment }: { id: number; comment: string }) =>
  unwrap(client.POST("/api/v1/alerts/incidents/{incident_id}/ack", { params: { path: { incident_id: id } }, body: { comment } }));

/** Acknowledge a firing incident: who and when are recorded, repeated notices stop. */
export const useAckIncident = (cb?: MutationCallbacks<Incident, { id: number; comment: string }>) =>
  useCacheMutation(ackIncident, (qc) => void qc.invalidateQueries({ queryKey: alertKeys.incidents() }), cb);

export const useIncident = (id: number) =>
  useQuery({
    queryKey: alertKeys.incident(id),
    queryFn: () => getIncident(id),
    refetchInterval: (q) => (q.state.data?.status === "firing" ? 15_000 : false),
  });

// ------------------------------------------------------------------ silences
const listSilences = () => unwrap(client.GET("/api/v1/alerts/silences"));
const createSilence = (body: SilenceCreate) => unwrap(client.POST("/api/v1/alerts/silences", { body }));
const endSilence = (id: number) =>
  unwrap(
    client.PATCH("/api/v1/alerts/silences/{silence_id}", {
      params: { path: { silence_id: id } },
      body: { ends_at: new Date().toISOString() },
    }),
  );
const deleteSilence = (id: number) =>
  unwrap(client.DELETE("/api/v1/alerts/silences/{silence_id}", { params: { path: { silence_id: id } } }));

export const useSilences = () => useQuery({ queryKey: alertKeys.silences(), queryFn: listSilences, refetchInterval: 60_000 });

const refreshSilences: Parameters<typeof useCacheMutation>[1] = (qc) =>
  void qc.invalidateQueries({ queryKey: alertKeys.silences() });

export const useCreateSilence = (cb?: MutationCallbacks<Silence, SilenceCreate>) => useCacheMutation(createSilence, refreshSilences, cb);
export const useEndSilence = (cb?: MutationCallbacks<Silence, number>) => useCacheMutation(endSilence, refreshSilences, cb);
export const useDeleteSilence = (cb?: MutationCallbacks<void, number>) => useCacheMutation(deleteSilence, refreshSilences, cb);
