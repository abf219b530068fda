// A tiny live line for a dashboard card: seeded from the last hour, then extended by WebSocket samples.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useLive } from "../live/LiveProvider";
import { cssVar, useTheme } from "../theme";

interface Props {
  seriesId: number;
  /** [unix seconds[], values[]] */
  initial: [number[], (number | null)[]] | null;
  windowSec?: number;
  label: string;
  color?: string;
}

/**
 * The x range: ends now and covers the data, but at least ~20 sample intervals (and a minute), so
 * a plugin's first few points sit as dots at the right instead of being stretched across the card.
 */
export function sparkWindow(xs: number[], windowSec: number, now = Date.now() / 1000): [number, number] {
  const end = Math.max(now, xs.length ? xs[xs.length - 1] : now);
  const first = xs.length ? xs[0] : end;
  const step = xs.length > 1 ? (xs[xs.length - 1] - first) / (xs.length - 1) : 60;
  const minSpan = Math.max(60, step * 20);
  const span = Math.min(windowSec, Math.max(minSpan, end - first));
  return [end - span, end];
}

/** Pads the value range so a flat or two-value line sits inside the box instead of on its edges. */
export function sparkYRange(min: number | null, max: number | null): [number, number] {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  const spread = max - min;
  const pad = spread > 0 ? spread * 0.2 : Math.abs(max) * 0.1 || 1;
  let lo = min - pad;
  if (min >= 0 && lo < 0) lo = 0;
  return [lo, max + pad];
}

export function Sparkline({ seriesId, initial, windowSec = 3600, label, color }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const { store } = useLive();
  const { resolved } = useTheme();

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const xs: number[] = initial ? [...initial[0]] : [];
    const ys: (number | null)[] = initial ? [...initial[1]] : [];
    const latest = store.latestForSeries(seriesId);
    if (latest && (xs.length === 0 || latest.ts > xs[xs.length - 1])) {
      xs.push(latest.ts);
      ys.push(latest.value);
    }
    const stroke = color ?? cssVar("--accent", "#6366f1");
    const width = Math.max(80, el.clientWidth || 240);
    const u = new uPlot(
      {
        width,
        height: 44,
        pxAlign: 0,
        cursor: { show: false },
        legend: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        axes: [{ show: false }, { show: false }],
        scales: {
          x: { time: true, range: () => sparkWindow(xs, windowSec) },
          y: { range: (_u, min, max) => sparkYRange(min, max) },
        },
        series: [
          {},
          {
            stroke,
            width: 1.75,
            fill: stroke + "1a",
            // Sparse data reads better as dots on the line (a lone value needs one to show at all).
            points: { show: (uu: uPlot) => uu.data[0].length < 12, size: 4, fill: stroke },
            spanGaps: true,
          },
        ],
      },
      [xs, ys],
      el,
    );
    const off = store.onSeries(seriesId, (p) => {
      if (xs.length && p.ts <= xs[xs.length - 1]) return;
      xs.push(p.ts);
      ys.push(p.value);
      const cutoff = p.ts - windowSec;
      while (xs.length > 2 && xs[0] < cutoff) {
        xs.shift();
        ys.shift();
      }
      u.setData([xs, ys]);
    });
    const ro = typeof ResizeObserver !== "undefined" ? new ResizeObserver(() => u.setSize({ width: Math.max(80, el.clientWidth), height: 44 })) : null;
    ro?.observe(el);
    return () => {
      off();
      ro?.disconnect();
      u.destroy();
    };
  }, [seriesId, initial, windowSec, store, resolved, color]);

  return <div className="sparkline" ref={ref} role="img" aria-label={`Trend of ${label}`} data-series={seriesId} />;
}
