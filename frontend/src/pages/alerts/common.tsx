// Small pieces the alerts pages share: severity and status badges, plugin names.
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

export function pluginName(plugins: Plugin[] | undefined, id: number | null | undefined, fallback?: string | null): string {
  if (id === null || id === undefined) return "All plugins";
  return plugins?.find((p) => p.id === id)?.name ?? fallback ?? `Plugin #${id}`;
}

export function AdminNote({ what }: { what: string }) {
  return <p className="muted small admin-note">You can look but not change {what}: ask an administrator.</p>;
}

