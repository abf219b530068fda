// How an audit entry's field-level diff reads: "interval_seconds: 300 → 120", secrets as "changed".
import type { AuditEntry } from "../../api/audit";

const show = (v: unknown): string => (v === null || v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));

/** One line per changed field. A secret is only ever the string "changed" in the API. */
export function changeLines(changes: AuditEntry["changes"]): string[] {
  return Object.entries(changes).map(([field, c]) => {
    if (c === "changed") return `${field}: changed`;
    if (c && typeof c === "object" && !Array.isArray(c)) {
      const o = c as Record<string, unknown>;
      if ("added" in o || "removed" in o) {
        const parts = [];
        if (Array.isArray(o.added) && o.added.length) parts.push(`+${o.added.join(", +")}`);
        if (Array.isArray(o.removed) && o.removed.length) parts.push(`−${o.removed.join(", −")}`);
        return `${field}: ${parts.join(" ")}`;
      }
      if ("old" in o) return `${field}: ${show(o.old)} → ${show(o.new)}`;
      if ("new" in o) return `${field}: ${show(o.new)}`;
    }
    return `${field}: ${show(c)}`;
  });
}

const PAST: Record<string, string> = { create: "created", update: "changed", delete: "deleted" };

/** "admin changed plugin nas (API token ci)". */
export function auditSentence(e: AuditEntry): string {
  const how = e.token_name ? `API token “${e.token_name}”` : e.via === "ui" ? "web UI" : e.via === "config" ? "configuration file" : e.via === "system" ? "Unity itself" : "API";
  return `${e.actor} ${PAST[e.action] ?? e.action} ${e.object_type.replace(/_/g, " ")} ${e.object_name} (${how})`;
}
