// One plugin's uptime over a window as a short coloured figure, e.g. on a dashboard card; its
// title and accessible text carry the up / down / maintenance / no-data time behind it.
import type { UptimeFigures } from "../api/uptime";
import { formatPercent, uptimeLevel, uptimeSummary } from "./uptimeFormat";
import "./uptime.css";

export function UptimeFigure({ figures, label }: { figures: UptimeFigures | undefined; label: string }) {
  if (!figures) return null;
  return (
    <span className="uptime-cell" title={uptimeSummary(figures)} data-uptime={figures.percent ?? ""}>
      <span className="muted">{label} uptime </span>
      <span className={`uptime-text-${uptimeLevel(figures)}`}>{formatPercent(figures.percent)}</span>
    </span>
  );
}
