import { describe, expect, it } from "vitest";
import { screen, within } from "@testing-library/react";
import { renderApp } from "../test/render";
import { mockFetch } from "../test/fakes";
import { httpType, plugin, user } from "../test/fixtures";
import { Dashboard } from "./Dashboard";

describe("Dashboard uptime", () => {
  it("shows each plugin's 30-day uptime on its card, and nothing where there is none", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/plugins": () => [plugin(1, "NAS web"), plugin(2, "Router", "down")],
      "GET /api/v1/plugin-types": () => [httpType],
      "GET /api/v1/metrics/latest": () => ({ items: [] }),
      "GET /api/v1/uptime": () => ({
        items: [{ plugin_id: 2, name: "Router", window: "30d" as const, days: [], up_s: 9000, down_s: 1000, maintenance_s: 600, unknown_s: 0, percent: 90 }],
      }),
    });
    renderApp(<Dashboard user={user(1, "admin", "admin")} />);
    const router = (await screen.findByRole("link", { name: "Router" })).closest("article")!;
    const figure = await within(router).findByText("90.00 %");
    expect(figure).toHaveClass("uptime-text-bad");
    expect(figure.parentElement).toHaveAttribute("title", "up 2 h 30 min, down 16 min 40 s, maintenance 10 min, unknown 0 s");
    const nas = screen.getByRole("link", { name: "NAS web" }).closest("article")!;
    expect(within(nas).queryByText(/uptime/)).not.toBeInTheDocument();
    expect(calls.find((c) => c.path === "/api/v1/uptime")?.search).toBe("?window=30d&days=0");
  });
});
