import { describe, expect, it } from "vitest";
import { axisLabels, formatQuantity, formatSeconds, formatValue, humanSeconds, parseQuantity } from "./format";

describe("formatValue", () => {
  it("shows durations in the unit people read: s, min, h, d", () => {
    expect(formatValue(42, "seconds")).toBe("42 s");
    expect(formatValue(720, "seconds")).toBe("12 min");
    expect(formatValue(5400, "s")).toBe("1.5 h");
    expect(formatValue(12 * 86400, "seconds")).toBe("12 d");
    expect(formatValue(2500, "ms")).toBe("2.5 s");
    expect(formatValue(250, "ms")).toBe("250 ms");
    expect(formatSeconds(0)).toBe("0 s");
  });

  it("writes temperatures in °C, and keeps bytes, rates and percents", () => {
    expect(formatValue(48.5, "celsius")).toBe("48.5 °C");
    expect(formatValue(1536, "bytes")).toBe("1.5 KiB");
    expect(formatValue(1024 * 1024 * 1.63, "bytes/s")).toBe("1.63 MiB/s");
    expect(formatValue(12.34, "percent")).toBe("12.3%");
  });

  it("spells durations in at most two units", () => {
    expect(humanSeconds(90)).toBe("1 min 30 s");
    expect(humanSeconds(86400 + 3 * 3600 + 5)).toBe("1 day 3 h");
    expect(humanSeconds(null)).toBe("—");
  });

  it("writes fan speeds with their unit as it comes", () => {
    expect(formatValue(1021, "rpm")).toBe("1,021 rpm");
  });
});

describe("axisLabels", () => {
  it("adds digits until neighbouring ticks read differently", () => {
    const gib = 1024 ** 3;
    expect(axisLabels([76.91 * gib, 76.92 * gib, 76.93 * gib], "bytes")).toEqual(["76.91 GiB", "76.92 GiB", "76.93 GiB"]);
    expect(axisLabels([0, 50, 100], "percent")).toEqual(["0%", "50%", "100%"]);
  });
});

describe("quantities typed by people", () => {
  it.each([
    ["10 GB", "bytes", 10e9],
    ["10GiB", "bytes", 10 * 1024 ** 3],
    ["1.5 tb", "bytes", 1.5e12],
    ["2048", "bytes", 2048],
    ["10 MB/s", "bytes/s", 10e6],
    ["500 ms", "ms", 500],
    ["2 s", "ms", 2000],
    ["5 min", "seconds", 300],
    ["1 d", "seconds", 86400],
    ["90 %", "percent", 90],
    ["90%", "%", 90],
    ["70 °C", "celsius", 70],
    ["3", "count", 3],
  ])("reads %s as %s", (text, unit, value) => {
    expect(parseQuantity(text, unit)).toBe(value);
  });

  it.each([
    ["10 parsecs", "bytes"],
    ["10 MB", "ms"],
    ["fast", "ms"],
    ["", "bytes"],
    ["90 °C", "percent"],
  ])("refuses %s for %s", (text, unit) => {
    expect(parseQuantity(text, unit)).toBeNull();
  });

  it.each([
    [10e9, "bytes", "10 GB"],
    [10 * 1024 ** 3, "bytes", "10 GiB"],
    [1.5e9, "bytes", "1.5 GB"],
    [1000, "bytes", "1 KB"],
    [1e7, "bytes/s", "10 MB/s"],
    [2000, "ms", "2 s"],
    [1500, "ms", "1.5 s"],
    [250, "ms", "250 ms"],
    [300, "seconds", "5 min"],
    [90, "percent", "90 %"],
    [3, "", "3"],
  ])("shows %s %s as %s, which reads back the same", (value, unit, text) => {
    expect(formatQuantity(value, unit)).toBe(text);
    expect(parseQuantity(text, unit)).toBe(value);
  });
});
