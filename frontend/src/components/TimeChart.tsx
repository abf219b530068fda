// A full time-series chart (one metric, one line per label set) that appends live samples
// while it shows a window ending "now".
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import { useLive } from "../live/LiveProvider";
import { cssVar, useTheme } from "../theme";
import { formatValue, labelText } from "../format";
import type { QuerySeries } from "../api/metrics";
import { toUnixSeconds } from "../live/store";

const PALETTE = ["#6366f1", "#10b981", "#f59e0b", "#ef4444", "#06b6d4", "#a855f7", "#84cc16", "#ec4899"];

interface Props {
  series: QuerySeries[];
  unit: string;
  /** When set, the chart follows "now" and keeps this many seconds. */
  liveWindowSec: number | null;
  height?: number;
  title: string;
  /** The requested window in unix seconds, so an empty chart still shows sensible axes. */
  window?: [number, number];
}

/** Merges per-series points into uPlot's aligned columns (shared x, nulls where a series has no point). */
export function alignSeries(series: QuerySeries[]): [number[], ...(number | null)[][]] {
  const xsSet = new Set<number>();
  const maps = series.map((s) => {
    const m = new Map<number, number | null>();
    for (const [ts, v] of s.points) {
      const t = toUnixSeconds(ts);
      xsSet.add(t);
      m.set(t, v);
    }
    return m;
  });
  const xs = [...xsSet].sort((a, b) => a - b);
  return [xs, ...maps.map((m) => xs.map((x) => (m.has(x) ? m.get(x)! : null)))];
}

/** The x range to show: the requested window (stretched to cover any newer data), else the data's extent. */
export function chartWindow(win: [number, number] | undefined, xs: number[], liveWindowSec: number | null): [number, number] | null {
  if (!win) return null;
  const last = xs.length ? xs[xs.length - 1] : win[1];
  if (liveWindowSec && last > win[1]) return [last - liveWindowSec, last];
  return [Math.min(win[0], xs[0] ?? win[0]), Math.max(win[1], last)];
}

export function TimeChart({ series, unit, liveWindowSec, height = 220, title, window: win }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const { store } = useLive();
  const { resolved } = useTheme();

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const data = alignSeries(series);
    let view: [number, number] | null = chartWindow(win, data[0], liveWindowSec);
    const axisColor = cssVar("--muted", "#888");
    const gridColor = cssVar("--grid", "rgba(128,128,128,.15)");
    const axis: uPlot.Axis = {
      stroke: axisColor,
      grid: { stroke: gridColor, width: 1 },
      ticks: { stroke: gridColor, width: 1 },
      font: "11px system-ui, sans-serif",
    };
    const u = new uPlot(
      {
        width: Math.max(200, el.clientWidth || 600),
        height,
        cursor: { drag: { x: false, y: false } },
        legend: { show: series.length > 1, live: true },
        scales: {
          // The axis shows the whole selected range, not just where data exists, so gaps and a
          // plugin's recent start are visible; a live chart's window slides with new samples.
          x: { time: true, range: (_u, min, max) => (view ? [view[0], view[1]] : [min, max]) },
        },
        axes: [
          axis,
          {
            ...axis,
            size: 64,
            values: (_u, vals) => vals.map((v) => (/^bool/i.test(unit) ? String(v) : formatValue(v, unit))),
          },
        ],
        series: [
          { value: (_u, v) => (v == null ? "—" : new Date(v * 1000).toLocaleTimeString()) },
          ...series.map((s, i) => {
            const stroke = PALETTE[i % PALETTE.length];
            return {
              label: labelText(s.labels) || s.name,
              stroke,
              width: 1.75,
              fill: series.length === 1 ? stroke + "1f" : undefined,
              spanGaps: true,
              // uPlot's default: dots only where points are far apart, e.g. a plugin's first minutes in a long range.
              points: { size: 5 },
              value: (_u: uPlot, v: number | null) => formatValue(v, unit),
            };
          }),
        ],
      },
      data as uPlot.AlignedData,
      el,
    );
    const offs = liveWindowSec
      ? series.map((s, idx) =>
          store.onSeries(s.id, (p) => {
            const xs = data[0];
            const last = xs[xs.length - 1];
            if (last !== undefined && p.ts < last) return;
            if (p.ts === last) data[idx + 1][xs.length - 1] = p.value;
            else {
              xs.push(p.ts);
              data.slice(1).forEach((col, j) => (col as (number | null)[]).push(j === idx ? p.value : null));
            }
            if (view && p.ts > view[1]) view = [p.ts - liveWindowSec, p.ts];
            const cutoff = p.ts - liveWindowSec;
            while (xs.length > 2 && xs[0] < cutoff) data.forEach((col) => (col as unknown[]).shift());
            u.setData(data as uPlot.AlignedData);
          }),
        )
      : [];
    const ro = typeof ResizeObserver !== "undefined" ? new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height })) : null;
    ro?.observe(el);
    return () => {
      offs.forEach((off) => off());
      ro?.disconnect();
      u.destroy();
    };
  }, [series, unit, liveWindowSec, height, store, resolved, win]);

  const empty = series.every((s) => s.points.length === 0);
  // When data covers only the end of the range, say so: the line may be a few pixels wide.
  const firstTs = Math.min(...series.map((s) => (s.points.length ? toUnixSeconds(s.points[0][0]) : Infinity)));
  const lateStart = win && Number.isFinite(firstTs) && firstTs > win[0] + (win[1] - win[0]) * 0.1 ? firstTs : null;
  return (
    <div className="timechart-wrap">
      <div className="timechart" ref={ref} role="img" aria-label={`Chart of ${title}`} />
      {empty ? (
        <p className="chart-empty muted small">
          No stored data in this range yet{liveWindowSec ? "; new samples appear here live" : ""}.
        </p>
      ) : null}
      {lateStart ? <p className="chart-note muted small">Data starts {new Date(lateStart * 1000).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" })}.</p> : null}
    </div>
  );
}
