import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import { metricKeys } from "../api/metrics";
import { renderApp } from "../test/render";
import { mockFetch } from "../test/fakes";
import { latest, series } from "../test/fixtures";
import { HostProcesses, processRows } from "./HostProcesses";
import { usePluginLatest, type CurrentValue } from "../live/latestValues";

function Host({ pluginId }: { pluginId: number }) {
  return <HostProcesses values={usePluginLatest(pluginId)} />;
}

const cpu = (id: number, process: string) => series(id, 1, "process_cpu_percent", "percent", { process });
const mem = (id: number, process: string) => series(id, 1, "process_memory_bytes", "bytes", { process });

describe("HostProcesses", () => {
  it("lists the latest run's processes by CPU, and temperatures and fans with units", async () => {
    const old = { ...latest(cpu(9, "gone"), 99), ts: new Date(Date.now() - 600_000).toISOString() };
    mockFetch({
      "GET /api/v1/metrics/latest": () => ({
        items: [
          latest(cpu(1, "postgres"), 12.5),
          latest(mem(2, "postgres"), 512 * 1024 * 1024),
          latest(cpu(3, "jellyfin"), 80),
          latest(mem(4, "jellyfin"), 2 * 1024 ** 3),
          old,
          latest(series(5, 1, "temperature_celsius", "celsius", { chip: "coretemp-isa-0000", sensor: "Package id 0" }), 47),
          latest(series(6, 1, "fan_rpm", "rpm", { chip: "nct6798-isa-0290", fan: "fan2" }), 1021),
          latest(series(7, 2, "process_cpu_percent", "percent", { process: "other-host" }), 50),
        ],
      }),
    });
    renderApp(<Host pluginId={1} />);
    const table = await screen.findByRole("table", { name: "Top processes by CPU and memory" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((r) => within(r).getAllByRole("cell")[0].textContent)).toEqual(["jellyfin", "postgres"]);
    expect(within(rows[0]).getByText("80%")).toBeInTheDocument();
    expect(within(rows[0]).getByText("2 GiB")).toBeInTheDocument();
    expect(within(rows[1]).getByText("512 MiB")).toBeInTheDocument();
    const sensors = screen.getByRole("table", { name: "Temperatures and fan speeds" });
    expect(within(sensors).getByText("47 °C")).toBeInTheDocument();
    expect(within(sensors).getByText("1,021 rpm")).toBeInTheDocument();
    expect(within(sensors).getByText("Package id 0")).toBeInTheDocument();
  });

  it("shows nothing for a host that reports neither", async () => {
    mockFetch({ "GET /api/v1/metrics/latest": () => ({ items: [latest(series(1, 1, "cpu_percent", "percent"), 3)] }) });
    const { qc } = renderApp(<Host pluginId={1} />);
    await waitFor(() => expect(qc.getQueryState(metricKeys.latest())?.status).toBe("success"));
    expect(screen.queryByRole("table")).not.toBeInTheDocument();
    expect(screen.queryByText("Top processes")).not.toBeInTheDocument();
  });

  it("keeps a process that reports only memory", () => {
    const v = (name: string, value: number): CurrentValue => ({ seriesId: value, name, unit: "", labels: { process: "x" }, ts: 10, value });
    expect(processRows([v("process_memory_bytes", 5)])).toEqual([{ process: "x", memory: 5 }]);
  });
});
