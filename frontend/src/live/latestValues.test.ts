import { describe, expect, it } from "vitest";
import { mergeLatest } from "./latestValues";
import type { LatestValue } from "../api/metrics";
import type { LivePoint } from "./store";

const rest = (series_id: number, ts: string, value: number) =>
  ({ series_id, plugin_id: 1, name: "cpu_percent", unit: "percent", labels: {}, ts, value }) as LatestValue;
const live = (seriesId: number, ts: number, value: number): LivePoint => ({ seriesId, pluginId: 1, name: "cpu_percent", unit: "percent", labels: {}, ts, value });

describe("mergeLatest", () => {
  it("keeps one value per series, a live point winning when it is at least as new", () => {
    const merged = mergeLatest([rest(1, "2026-01-01T00:00:10Z", 5), rest(2, "2026-01-01T00:00:10Z", 6)], [live(1, Date.parse("2026-01-01T00:00:20Z") / 1000, 7), live(2, Date.parse("2026-01-01T00:00:05Z") / 1000, 8), live(3, 1, 9)]);
    expect(merged.map((v) => [v.seriesId, v.value])).toEqual([
      [1, 7],
      [2, 6],
      [3, 9],
    ]);
  });
});
