// The incidents page's filters: read from and written to the URL (so a filtered view can be
// bookmarked), and turned into the API's query for one section.
import { SEVERITIES, type IncidentFilters, type Severity } from "../../api/alerts";

export const PAGE_SIZE = 25;

export interface Filters {
  status: "" | "firing" | "resolved";
  plugin: string;
  severity: "" | Severity;
  silenced: "" | "true" | "false";
  page: number;
}

export function parseFilters(search: string): Filters {
  const q = new URLSearchParams(search);
  const pick = <T extends string>(k: string, allowed: readonly T[]): T | "" => {
    const v = q.get(k) ?? "";
    return (allowed as readonly string[]).includes(v) ? (v as T) : "";
  };
  const page = Math.max(0, Number.parseInt(q.get("page") ?? "0", 10) || 0);
  const plugin = /^\d+$/.test(q.get("plugin") ?? "") ? q.get("plugin")! : "";
  return {
    status: pick("status", ["firing", "resolved"] as const),
    plugin,
    severity: pick("severity", SEVERITIES),
    silenced: pick("silenced", ["true", "false"] as const),
    page,
  };
}

export function filtersToSearch(f: Filters): string {
  const q = new URLSearchParams();
  if (f.status) q.set("status", f.status);
  if (f.plugin) q.set("plugin", f.plugin);
  if (f.severity) q.set("severity", f.severity);
  if (f.silenced) q.set("silenced", f.silenced);
  if (f.page) q.set("page", String(f.page));
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** The API query for one section ("firing" or "resolved") under the current filters. */
export function toQuery(f: Filters, status: "firing" | "resolved", limit: number, offset: number): IncidentFilters {
  const q: IncidentFilters = { status, limit, offset };
  if (f.plugin) q.plugin_id = Number(f.plugin);
  if (f.severity) q.severity = f.severity;
  if (f.silenced) q.silenced = f.silenced === "true";
  return q;
}
