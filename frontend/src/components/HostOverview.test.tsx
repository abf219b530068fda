import { describe, expect, it } from "vitest";
import { screen, within } from "@testing-library/react";
import { renderApp } from "../test/render";
import { mockFetch } from "../test/fakes";
import { latest, series } from "../test/fixtures";
import { HostOverview } from "./HostOverview";
import { usePluginLatest } from "../live/latestValues";

function Host({ pluginId }: { pluginId: number }) {
  return <HostOverview values={usePluginLatest(pluginId)} />;
}

const GiB = 1024 ** 3;

describe("HostOverview", () => {
  it("puts the key values first, with units: CPU, memory, uptime as days, disks per mount", async () => {
    mockFetch({
      "GET /api/v1/metrics/latest": () => ({
        items: [
          latest(series(1, 7, "cpu_percent", "percent"), 42),
          latest(series(2, 7, "memory_percent", "percent"), 91),
          latest(series(3, 7, "memory_used", "bytes"), 14.5 * GiB),
          latest(series(4, 7, "memory_total", "bytes"), 16 * GiB),
          latest(series(5, 7, "uptime", "seconds"), 12 * 86400),
          latest(series(6, 7, "disk_percent", "percent", { mount: "/" }), 55),
          latest(series(7, 7, "disk_free", "bytes", { mount: "/" }), 45 * GiB),
          latest(series(9, 8, "cpu_percent", "percent"), 99),
        ],
      }),
    });
    renderApp(<Host pluginId={7} />);
    const panel = await screen.findByRole("region", { name: "Overview" });
    expect(within(panel).getByText("42%")).toBeInTheDocument();
    expect(within(panel).getByText("14.5 GiB of 16 GiB")).toBeInTheDocument();
    expect(within(panel).getByText("12 d")).toBeInTheDocument();
    expect(within(panel).getByRole("meter", { name: "Memory 91%" })).toHaveAttribute("aria-valuenow", "91");
    expect(within(panel).getByText(/45 GiB free/)).toBeInTheDocument();
    // another plugin's values stay out
    expect(within(panel).queryByText("99%")).not.toBeInTheDocument();
  });
});
