// Uptime figures in words and colours, shared by the plugin page's panel and the plugin list.
import type { UptimeFigures } from "../api/uptime";
import { humanSeconds } from "../format";

/** 99.996 → "99.99 %": rounded down, so a plugin that was down at all never reads 100 %. */
export function formatPercent(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return "—";
  if (p >= 100) return "100 %";
  return `${(Math.floor(p * 100) / 100).toFixed(2)} %`;
}

export type UptimeLevel = "full" | "minor" | "major" | "bad" | "maintenance" | "none";

/** The colour class of a day or window: grey without observed time, blue when all was maintenance. */
export function uptimeLevel(f: Pick<UptimeFigures, "percent" | "maintenance_s">): UptimeLevel {
  const p = f.percent;
  if (p === null || p === undefined) return f.maintenance_s > 0 ? "maintenance" : "none";
  if (p >= 99.9) return "full";
  if (p >= 99) return "minor";
  if (p >= 95) return "major";
  return "bad";
}

/** "up 23 h 50 min · down 10 min · maintenance 0 s · unknown 0 s". Unknown: no data (Unity was
 * not running) or Unity's own network was down (the connectivity canary). */
export function uptimeParts(f: UptimeFigures): { label: string; seconds: number }[] {
  return [
    { label: "Up", seconds: f.up_s },
    { label: "Down", seconds: f.down_s },
    { label: "Maintenance", seconds: f.maintenance_s },
    { label: "Unknown", seconds: f.unknown_s },
  ];
}

export function uptimeSummary(f: UptimeFigures): string {
  return uptimeParts(f)
    .map((p) => `${p.label.toLowerCase()} ${humanSeconds(p.seconds)}`)
    .join(", ");
}
