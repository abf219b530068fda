// Small pieces the alerts pages share: severity and status badges, durations, plugin names.
import type { ReactNode } from "react";
import type { Severity } from "../../api/alerts";
import type { Plugin } from "../../api/plugins";

export function SeverityBadge({ severity }: { severity: Severity | string }) {
  return (
    <span className={`badge badge-sev-${severity}`} data-severity={severity}>
      <span className="dot" aria-hidden="true" />
      {severity}
    </span>
  );
}

/** A small status pill: firing, resolved, pending, active, upcoming, expired, sent, failed, … */
export function Pill({ kind, children, title }: { kind: string; children?: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-st-${kind}`} title={title}>
      {children ?? kind}
    </span>
  );
}

/** 0 → "0 s", 90 → "1 min 30 s", 3600 → "1 h", 86400 → "1 day". */
export function humanSeconds(total: number | null | undefined): string {
  if (total === null || total === undefined || !Number.isFinite(total)) return "—";
  let s = Math.max(0, Math.round(total));
  if (s === 0) return "0 s";
  const parts: string[] = [];
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d) parts.push(d === 1 ? "1 day" : `${d} days`);
  if (h) parts.push(`${h} h`);
  if (m) parts.push(`${m} min`);
  if (s) parts.push(`${s} s`);
  return parts.slice(0, 2).join(" ");
}

export function pluginName(plugins: Plugin[] | undefined, id: number | null | undefined, fallback?: string | null): string {
  if (id === null || id === undefined) return "All plugins";
  return plugins?.find((p) => p.id === id)?.name ?? fallback ?? `Plugin #${id}`;
}

export function AdminNote({ what }: { what: string }) {
  return <p className="muted small admin-note">You can look but not change {what}: ask an administrator.</p>;
}

