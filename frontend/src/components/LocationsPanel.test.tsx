import { describe, expect, it } from "vitest";
import { screen, within } from "@testing-library/react";
import { renderApp } from "../test/render";
import { mockFetch } from "../test/fakes";
import type { PluginLocations } from "../api/probes";
import { LocationsPanel } from "./LocationsPanel";

const now = new Date().toISOString();
const view: PluginLocations = {
  plugin_id: 7,
  down_quorum: 2,
  status: "degraded",
  locations: [
    {
      location: "hub",
      status: "healthy",
      probe_status: "hub",
      consecutive_failures: 0,
      last_run_at: now,
      last_success_at: now,
      last_error: null,
      duration_ms: 3,
      latest: [{ name: "up", unit: "bool", labels: {}, value: 1, ts: now }],
    },
    {
      location: "vps-1",
      status: "down",
      probe_status: "up",
      consecutive_failures: 3,
      last_run_at: now,
      last_success_at: null,
      last_error: "10.0.0.5:22 refused the connection",
      duration_ms: 2,
      latest: [{ name: "connect_time", unit: "ms", labels: {}, value: 12.5, ts: now }],
    },
  ],
};

describe("LocationsPanel", () => {
  it("shows each location's latest result side by side, with K of N", async () => {
    mockFetch({ "GET /api/v1/plugins/7/locations": () => view });
    renderApp(<LocationsPanel pluginId={7} />);
    const hub = await screen.findByRole("region", { name: "Location hub" });
    const vps = screen.getByRole("region", { name: "Location vps-1" });
    expect(within(hub).getByText("Healthy")).toBeInTheDocument();
    expect(within(hub).getByText("this server")).toBeInTheDocument();
    expect(within(vps).getByText("Down")).toBeInTheDocument();
    expect(within(vps).getByText("10.0.0.5:22 refused the connection")).toBeInTheDocument();
    expect(within(vps).getByText(/12\.5/)).toBeInTheDocument();
    expect(screen.getByText("Down when at least 2 of 2 locations see it down.")).toBeInTheDocument();
  });
});
