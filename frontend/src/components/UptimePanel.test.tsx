import { describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { renderApp } from "../test/render";
import { mockFetch } from "../test/fakes";
import type { PluginUptime, UptimeDay } from "../api/uptime";
import { UptimePanel } from "./UptimePanel";
import { formatPercent, uptimeLevel } from "./uptimeFormat";

const fig = (up: number, down: number, maintenance = 0, unknown = 0) => ({
  up_s: up,
  down_s: down,
  maintenance_s: maintenance,
  unknown_s: unknown,
  percent: up + down > 0 ? (100 * up) / (up + down) : null,
});

function uptime(): PluginUptime {
  const days: UptimeDay[] = Array.from({ length: 90 }, (_, i) => {
    const date = new Date(Date.UTC(2026, 8, 6 + i)).toISOString().slice(0, 10);
    if (i < 30) return { date, ...fig(0, 0, 0, 86400) }; // before the plugin existed
    if (i === 88) return { date, ...fig(82800, 600, 3000) };
    if (i === 89) return { date, ...fig(0, 0, 86400) };
    return { date, ...fig(86400, 0) };
  });
  return {
    plugin_id: 7,
    windows: { "24h": fig(86400, 0), "7d": fig(600000, 600, 3000), "30d": fig(2592000, 600), "90d": fig(5184000, 600), "365d": fig(0, 0) },
    days,
  };
}

describe("uptime figures", () => {
  it("never rounds a plugin that was down up to 100 %", () => {
    expect(formatPercent(99.9999)).toBe("99.99 %");
    expect(formatPercent(100)).toBe("100 %");
    expect(formatPercent(null)).toBe("—");
  });
  it("colours by percent, grey without data, maintenance apart", () => {
    expect(uptimeLevel(fig(100, 0))).toBe("full");
    expect(uptimeLevel(fig(50, 50))).toBe("bad");
    expect(uptimeLevel(fig(0, 0))).toBe("none");
    expect(uptimeLevel(fig(0, 0, 60))).toBe("maintenance");
  });
});

describe("UptimePanel", () => {
  it("shows each window's percentage and a labelled, keyboard-reachable bar per day", async () => {
    mockFetch({ "GET /api/v1/plugins/7/uptime": () => uptime() });
    renderApp(<UptimePanel pluginId={7} />);
    const panel = await screen.findByRole("region", { name: "Uptime" });
    const windows = await within(panel).findAllByRole("definition");
    expect(windows.map((w) => w.textContent)).toEqual(["100 %", "99.90 %", "99.97 %", "99.98 %", "—"]);

    const bar = within(panel).getByRole("group", { name: /Daily uptime, last 90 days/ });
    const days = within(bar).getAllByRole("button");
    expect(days).toHaveLength(90);
    expect(days[0]).toHaveClass("uptime-none");
    expect(days[0]).toHaveAccessibleName(/no checks observed/);
    expect(days[89]).toHaveClass("uptime-maintenance");
    expect(days[88]).toHaveAccessibleName(/99\.28 % up; up 23 h, down 10 min, maintenance 50 min, unknown 0 s/);
    // one tab stop: today; arrow keys walk back through the days
    expect(days.filter((d) => d.tabIndex === 0)).toEqual([days[89]]);
    await userEvent.tab();
    expect(days[89]).toHaveFocus();
    await userEvent.keyboard("{ArrowLeft}");
    expect(days[88]).toHaveFocus();
    const tip = screen.getByTestId("uptime-tip");
    expect(tip).toHaveTextContent("Down 10 min");
    expect(tip).toHaveTextContent("Maintenance 50 min");
    fireEvent.mouseEnter(days[0]);
    expect(tip).toHaveTextContent("Unknown 1 day");
  });
});
