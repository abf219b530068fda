import { describe, expect, it } from "vitest";
import { alignSeries, isBoolUnit } from "./TimeChart";
import type { QuerySeries } from "../api/metrics";

const iso = (s: number) => new Date(s * 1000).toISOString();
const s = (id: number, pts: [number, number | null][]): QuerySeries =>
  ({ id, plugin_id: 1, name: "m", unit: "ms", labels: {}, points: pts.map(([t, v]) => [iso(t), v]) }) as QuerySeries;

describe("alignSeries", () => {
  it("spans another series' timestamps but draws a long silence as a gap", () => {
    const [xs, a, b] = alignSeries([
      s(1, [[0, 1], [10, 2], [20, 3], [30, 4], [200, 5]]),
      s(2, [[5, 9]]),
    ]);
    expect(xs).toEqual([0, 5, 10, 20, 30, 40, 200]);
    // the 170 s silence after t=30 (typical step 10 s) becomes a null just after it: a gap
    expect(a).toEqual([1, undefined, 2, 3, 4, null, 5]);
    // a missing point where only the other series has one is an alignment hole, spanned
    expect(b).toEqual([undefined, 9, undefined, undefined, undefined, undefined, undefined]);
  });
});

describe("isBoolUnit", () => {
  it("knows on/off series", () => {
    expect(isBoolUnit("bool")).toBe(true);
    expect(isBoolUnit("boolean")).toBe(true);
    expect(isBoolUnit("bytes")).toBe(false);
  });
});
