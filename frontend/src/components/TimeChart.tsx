// A full time-series chart (one metric, one line per label set) that appends live samples
// while it shows a window ending "now".
import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useLive } from "../live/LiveProvider";
import { cssVar, useTheme } from "../theme";
import { axisLabels, formatValue, labelText, metricTitle } from "../format";

const shortName = (name: string) => metricTitle(name);
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

type Column = (number | null | undefined)[];

/** True for on/off series (up, running, …): they are drawn as a state band, not a line. */
export const isBoolUnit = (unit: string) => /^bool(ean)?$/i.test(unit.trim());
const isPercent = (unit: string) => /^(%|percent)$/i.test(unit.trim());

/** The typical step between a series' points, so a much longer silence can be drawn as a gap. */
function typicalStep(ts: number[]): number {
  if (ts.length < 3) return Infinity;
  const d = ts.slice(1).map((t, i) => t - ts[i]).sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)];
}

/**
 * Merges per-series points into uPlot's aligned columns (shared x). A series without a point at an
 * x gets `undefined` (spanned: another series' timestamp), and a silence longer than three typical
 * steps gets a `null` just after its last point, which uPlot draws as a gap.
 */
export function alignSeries(series: QuerySeries[]): [number[], ...Column[]] {
  const xsSet = new Set<number>();
  const maps = series.map((s) => {
    const m = new Map<number, number | null>();
    const pts = s.points.map(([ts, v]) => [toUnixSeconds(ts), v] as [number, number | null]).sort((a, b) => a[0] - b[0]);
    const step = typicalStep(pts.map((p) => p[0]));
    pts.forEach(([t, v], i) => {
      xsSet.add(t);
      m.set(t, v);
      const next = pts[i + 1];
      if (next && next[0] - t > 3 * step) {
        const gapAt = t + step;
        xsSet.add(gapAt);
        m.set(gapAt, null);
      }
    });
    return m;
  });
  const xs = [...xsSet].sort((a, b) => a - b);
  return [xs, ...maps.map((m) => xs.map((x) => (m.has(x) ? m.get(x)! : undefined)))];
}

/** The x range to show: the requested window (stretched to cover any newer data), else the data's extent. */
export function chartWindow(win: [number, number] | undefined, xs: number[], liveWindowSec: number | null): [number, number] | null {
  if (!win) return null;
  const last = xs.length ? xs[xs.length - 1] : win[1];
  if (liveWindowSec && last > win[1]) return [last - liveWindowSec, last];
  return [Math.min(win[0], xs[0] ?? win[0]), Math.max(win[1], last)];
}

const AXIS_FONT = "11px system-ui, sans-serif";

/** The y axis' width in CSS px: its widest label (measured in the axis font), plus room for the ticks. */
function axisWidth(u: uPlot, values: string[] | null): number {
  if (!values?.length) return 40;
  u.ctx.save();
  u.ctx.font = AXIS_FONT;
  const widest = Math.max(...values.map((v) => u.ctx.measureText(v).width));
  u.ctx.restore();
  return Math.ceil(widest) + 18;
}

/** Draws each boolean series as a horizontal band: ok colour while 1, bad colour while 0, empty in gaps. */
function drawStateBands(u: uPlot, count: number) {
  const ok = cssVar("--ok", "#047857");
  const bad = cssVar("--bad", "#c0263a");
  const { ctx } = u;
  const xs = u.data[0];
  const { left, top, width, height } = u.bbox;
  const rowH = height / count;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  for (let i = 0; i < count; i++) {
    const col = u.data[i + 1];
    const y0 = top + i * rowH + rowH * 0.15;
    const h = rowH * 0.7;
    let prev: { x: number; v: number } | null = null;
    for (let j = 0; j < xs.length; j++) {
      const v = col[j];
      if (v === undefined) continue;
      const x = u.valToPos(xs[j], "x", true);
      if (prev) {
        ctx.fillStyle = prev.v ? ok : bad;
        ctx.fillRect(prev.x, y0, Math.max(1, x - prev.x), h);
      }
      prev = v === null ? null : { x, v };
    }
    if (prev) {
      ctx.fillStyle = prev.v ? ok : bad;
      ctx.fillRect(prev.x, y0, 3, h);
    }
  }
  ctx.restore();
}

export function TimeChart({ series, unit, liveWindowSec, height = 220, title, window: win }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const { store } = useLive();
  const { resolved } = useTheme();
  const [zoomed, setZoomed] = useState(false);
  const resetRef = useRef<() => void>(() => {});
  const bool = isBoolUnit(unit);
  const chartHeight = bool ? Math.max(90, 40 + series.length * 26) : height;

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const data = alignSeries(series);
    let view: [number, number] | null = chartWindow(win, data[0], liveWindowSec);
    let zoom: [number, number] | null = null;
    const axisColor = cssVar("--muted", "#888");
    const gridColor = cssVar("--grid", "rgba(128,128,128,.15)");
    const axis: uPlot.Axis = {
      stroke: axisColor,
      grid: { stroke: gridColor, width: 1 },
      ticks: { stroke: gridColor, width: 1 },
      font: AXIS_FONT,
    };
    const yAxis: uPlot.Axis = bool
      ? {
          ...axis,
          grid: { show: false },
          ticks: { show: false },
          // One row per series, top to bottom, labelled with the series.
          size: (u) => axisWidth(u, series.map((s) => labelText(s.labels) || shortName(s.name))),
          splits: () => series.map((_, i) => series.length - i - 0.5),
          values: () => series.map((s) => labelText(s.labels) || shortName(s.name)),
        }
      : {
          ...axis,
          size: (u, values) => axisWidth(u, values),
          values: (_u, vals) => axisLabels(vals, unit),
        };
    const u = new uPlot(
      {
        width: Math.max(200, el.clientWidth || 600),
        height: chartHeight,
        // Drag across the chart to zoom into that stretch; "Reset zoom" (or a new range) undoes it.
        cursor: { drag: { x: true, y: false, setScale: false } },
        legend: { show: true, live: true },
        scales: {
          // The axis shows the whole selected range, not just where data exists, so gaps and a
          // plugin's recent start are visible; a live chart's window slides with new samples.
          x: { time: true, range: (_u, min, max) => zoom ?? (view ? [view[0], view[1]] : [min, max]) },
          ...(bool ? { y: { range: () => [0, series.length] as [number, number] } } : {}),
          // Percentages keep their 0–100 frame, so a busy CPU does not look like a wild swing.
          ...(isPercent(unit) ? { y: { range: (_u: uPlot, _min: number, max: number) => [0, Math.max(100, Math.ceil(max ?? 0))] as [number, number] } } : {}),
        },
        axes: [axis, yAxis],
        series: [
          { value: (_u, v) => (v == null ? "—" : new Date(v * 1000).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" })) },
          ...series.map((s, i) => {
            const stroke = bool ? cssVar("--ok", "#047857") : PALETTE[i % PALETTE.length];
            return {
              label: labelText(s.labels) || shortName(s.name),
              stroke,
              width: 1.75,
              fill: series.length === 1 && !bool ? stroke + "1f" : undefined,
              // Alignment holes (undefined) are spanned; nulls are real gaps and stay gaps.
              spanGaps: false,
              // uPlot's default: dots only where points are far apart, e.g. a plugin's first minutes in a long range.
              points: { size: 5, show: bool ? false : undefined },
              ...(bool ? { paths: () => null } : {}),
              value: (_u: uPlot, v: number | null) => formatValue(v, unit),
            };
          }),
        ],
        hooks: {
          setSelect: [
            (self) => {
              if (self.select.width < 4) return;
              const min = self.posToVal(self.select.left, "x");
              const max = self.posToVal(self.select.left + self.select.width, "x");
              zoom = [min, max];
              self.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
              self.setScale("x", { min, max });
              setZoomed(true);
            },
          ],
          ...(bool ? { draw: [(self: uPlot) => drawStateBands(self, series.length)] } : {}),
        },
      },
      data as uPlot.AlignedData,
      el,
    );
    resetRef.current = () => {
      zoom = null;
      const [min, max] = view ?? [data[0][0], data[0][data[0].length - 1]];
      u.setScale("x", { min, max });
      setZoomed(false);
    };
    const offs = liveWindowSec
      ? series.map((s, idx) =>
          store.onSeries(s.id, (p) => {
            const xs = data[0];
            const last = xs[xs.length - 1];
            if (last !== undefined && p.ts < last) return;
            if (p.ts === last) data[idx + 1][xs.length - 1] = p.value;
            else {
              xs.push(p.ts);
              data.slice(1).forEach((col, j) => (col as Column).push(j === idx ? p.value : undefined));
            }
            if (view && p.ts > view[1]) view = [p.ts - liveWindowSec, p.ts];
            const cutoff = p.ts - liveWindowSec;
            while (xs.length > 2 && xs[0] < cutoff) data.forEach((col) => (col as unknown[]).shift());
            u.setData(data as uPlot.AlignedData);
          }),
        )
      : [];
    const ro = typeof ResizeObserver !== "undefined" ? new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: chartHeight })) : null;
    ro?.observe(el);
    return () => {
      offs.forEach((off) => off());
      ro?.disconnect();
      u.destroy();
      setZoomed(false);
    };
  }, [series, unit, bool, liveWindowSec, chartHeight, store, resolved, win]);

  const empty = series.every((s) => s.points.length === 0);
  // When data covers only the end of the range, say so: the line may be a few pixels wide.
  const firstTs = Math.min(...series.map((s) => (s.points.length ? toUnixSeconds(s.points[0][0]) : Infinity)));
  const lateStart = win && Number.isFinite(firstTs) && firstTs > win[0] + (win[1] - win[0]) * 0.1 ? firstTs : null;
  return (
    <div className="timechart-wrap">
      {zoomed ? (
        <button type="button" className="btn btn-sm chart-reset" onClick={() => resetRef.current()}>
          Reset zoom
        </button>
      ) : null}
      <div className={bool ? "timechart timechart-bool" : "timechart"} ref={ref} role="img" aria-label={`Chart of ${title}${bool ? " (green: up, red: down)" : ""}`} />
      {empty ? (
        <p className="chart-empty muted small">
          No stored data in this range yet{liveWindowSec ? "; new samples appear here live" : ""}.
        </p>
      ) : null}
      {lateStart ? <p className="chart-note muted small">Data starts {new Date(lateStart * 1000).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" })}.</p> : null}
    </div>
  );
}
