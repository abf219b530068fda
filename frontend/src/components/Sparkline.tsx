// A tiny live line for a dashboard card: seeded from the last hour, then extended by WebSocket samples.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
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
        scales: { x: { time: true }, y: { range: (_u, min, max) => (min === max ? [min - 1, max + 1] : [min, max]) } },
        series: [
          {},
          {
            stroke,
            width: 1.75,
            fill: stroke + "22",
            // A line needs two points; until then show the lone value as a dot.
            points: { show: (uu: uPlot) => uu.data[0].length < 2, size: 5 },
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
