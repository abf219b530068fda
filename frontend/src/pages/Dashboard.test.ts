import { describe, expect, it } from "vitest";
import { headlineValues, rankValues } from "./Dashboard";
import type { CurrentValue } from "../live/latestValues";

const values = (names: string[]): CurrentValue[] => names.map((name, i) => ({ seriesId: i, name, unit: "", labels: {}, ts: 0, value: 1 }));
const card = (names: string[]) => headlineValues(rankValues(values(names))).map((v) => v.name);

describe("a card's headline values", () => {
  it("lead with a UPS's status, charge and runtime", () => {
    expect(card(["ups_input_voltage_volts", "ups_load_percent", "ups_battery_runtime_seconds", "ups_on_battery", "ups_battery_charge_percent", "ups_temperature_celsius"])).toEqual([
      "ups_on_battery",
      "ups_battery_charge_percent",
      "ups_battery_runtime_seconds",
    ]);
  });

  it("lead with a disk's verdict and temperature", () => {
    expect(card(["disk_power_on_seconds", "disk_reallocated_sectors", "disk_temperature_celsius", "disk_healthy"]).slice(0, 2)).toEqual(["disk_healthy", "disk_temperature_celsius"]);
  });

  it("show a host's CPU, memory and disk, not its busiest process", () => {
    expect(card(["process_cpu_percent", "disk_percent", "memory_percent", "cpu_percent", "process_memory_bytes"])).toEqual(["cpu_percent", "memory_percent", "disk_percent"]);
  });

  it("keep a check's response time first", () => {
    expect(card(["http_status_code", "up", "http_response_time"])[0]).toBe("http_response_time");
  });
});
