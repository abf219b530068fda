// Alerts, silences and notification channels (docs/ALERTS.md): types from the generated schema,
// one function per operation, query keys and hooks. Only the lazy-loaded alerts pages import
// this module, except firingCount(), which the header badge uses (see endpoints.ts).
import { useQuery } from "@tanstack/react-query";
import { asList, client, unwrap } from "./client";
import type { components } from "./schema";

type S = components["schemas"];
export type Rule = S["RuleOut"];
export type RuleInput = Partial<S["RuleCreate"]>;
export type Incident = S["IncidentOut"];
export type IncidentDetail = S["IncidentDetail"];
export type Delivery = S["DeliveryOut"];
export type Silence = S["SilenceOut"];
export type SilenceInput = Partial<S["SilenceCreate"]>;
export type Channel = S["ChannelOut"];
export type ChannelInput = Partial<S["ChannelCreate"]>;
export type ChannelTest = S["ChannelTestOut"];
export type AlertState = S["StateOut"];
export type Severity = Rule["severity"];
export type Comparison = Rule["op"];

export const SEVERITIES: Severity[] = ["info", "warning", "critical"];
export const OPS: Comparison[] = [">", ">=", "<", "<=", "==", "!="];

const V1 = "/api/v1";

export interface IncidentFilters {
  status?: "firing" | "resolved";
  plugin_id?: number;
  rule_id?: number;
  severity?: Severity;
  silenced?: boolean;
  limit: number;
  offset: number;
}

export interface PageOf<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

// ------------------------------------------------------------------ rules
export const listRules = async () => asList<Rule>(await unwrap(client.GET(`${V1}/alerts/rules`)));
export const createRule = (body: RuleInput) =>
  unwrap<Rule>(client.POST(`${V1}/alerts/rules`, { body: body as S["RuleCreate"] }));
export const updateRule = (id: number, body: RuleInput) =>
  unwrap<Rule>(client.PATCH(`${V1}/alerts/rules/{rule_id}`, { params: { path: { rule_id: id } }, body }));
export const deleteRule = (id: number) =>
  unwrap<void>(client.DELETE(`${V1}/alerts/rules/{rule_id}`, { params: { path: { rule_id: id } } }));

// ------------------------------------------------------------------ states and incidents
export const listStates = async (state?: "pending" | "firing" | "resolved") =>
  asList<AlertState>(await unwrap(client.GET(`${V1}/alerts/states`, { params: { query: state ? { state } : {} } })));

export async function listIncidents(f: IncidentFilters): Promise<PageOf<Incident>> {
  const data = await unwrap<PageOf<Incident>>(client.GET(`${V1}/alerts/incidents`, { params: { query: { ...f } } }));
  const items = asList<Incident>(data);
  return { items, total: data?.total ?? items.length, limit: data?.limit ?? f.limit, offset: data?.offset ?? f.offset };
}
export const getIncident = (id: number) =>
  unwrap<IncidentDetail>(client.GET(`${V1}/alerts/incidents/{incident_id}`, { params: { path: { incident_id: id } } }));

// ------------------------------------------------------------------ silences
export const listSilences = async () => asList<Silence>(await unwrap(client.GET(`${V1}/alerts/silences`)));
export const createSilence = (body: SilenceInput) =>
  unwrap<Silence>(client.POST(`${V1}/alerts/silences`, { body: body as S["SilenceCreate"] }));
export const updateSilence = (id: number, body: S["SilenceUpdate"]) =>
  unwrap<Silence>(client.PATCH(`${V1}/alerts/silences/{silence_id}`, { params: { path: { silence_id: id } }, body }));
export const deleteSilence = (id: number) =>
  unwrap<void>(client.DELETE(`${V1}/alerts/silences/{silence_id}`, { params: { path: { silence_id: id } } }));

// ------------------------------------------------------------------ channels
export const listChannels = async () => asList<Channel>(await unwrap(client.GET(`${V1}/channels`)));
export const createChannel = (body: ChannelInput) =>
  unwrap<Channel>(client.POST(`${V1}/channels`, { body: body as S["ChannelCreate"] }));
export const updateChannel = (id: number, body: S["ChannelUpdate"]) =>
  unwrap<Channel>(client.PATCH(`${V1}/channels/{channel_id}`, { params: { path: { channel_id: id } }, body }));
export const deleteChannel = (id: number) =>
  unwrap<void>(client.DELETE(`${V1}/channels/{channel_id}`, { params: { path: { channel_id: id } } }));
export const testChannel = (id: number) =>
  unwrap<ChannelTest>(client.POST(`${V1}/channels/{channel_id}/test`, { params: { path: { channel_id: id } } }));
export async function listDeliveries(id: number, limit: number, offset: number): Promise<PageOf<Delivery>> {
  const data = await unwrap<PageOf<Delivery>>(
    client.GET(`${V1}/channels/{channel_id}/deliveries`, { params: { path: { channel_id: id }, query: { limit, offset } } }),
  );
  const items = asList<Delivery>(data);
  return { items, total: data?.total ?? items.length, limit, offset };
}

// ------------------------------------------------------------------ cache
export const ak = {
  all: ["alerts"] as const,
  rules: ["alerts", "rules"] as const,
  incidentsPrefix: ["alerts", "incidents"] as const,
  incidents: (f: IncidentFilters) => ["alerts", "incidents", f] as const,
  incident: (id: number) => ["alerts", "incident", id] as const,
  silences: ["alerts", "silences"] as const,
  channels: ["channels"] as const,
  deliveries: (id: number, offset: number) => ["channels", "deliveries", id, offset] as const,
};

export const useRules = () => useQuery({ queryKey: ak.rules, queryFn: listRules, refetchInterval: 15_000 });
export const useChannels = () => useQuery({ queryKey: ak.channels, queryFn: listChannels });
export const useSilences = () => useQuery({ queryKey: ak.silences, queryFn: listSilences, refetchInterval: 60_000 });
