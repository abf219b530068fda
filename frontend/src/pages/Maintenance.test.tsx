import { describe, expect, it } from "vitest";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { renderApp } from "../test/render";
import { mockFetch } from "../test/fakes";
import { plugin, user } from "../test/fixtures";
import type { Maintenance } from "../api/maintenance";
import { MaintenancePage, scheduleText } from "./Maintenance";

const admin = user(1, "admin", "admin");
const viewer = user(2, "v", "viewer");

function win(id: number, extra: Partial<Maintenance>): Maintenance {
  return {
    id,
    name: `Window ${id}`,
    comment: "",
    kind: "weekly",
    starts_at: "2026-01-01T00:00:00Z",
    ends_at: null,
    weekdays: [6],
    start_time: "03:00",
    duration_seconds: 7200,
    cron: null,
    timezone: "Europe/Berlin",
    all_plugins: true,
    plugin_ids: [],
    created_by: "admin",
    created_at: "2026-01-01T00:00:00Z",
    active: false,
    next_start: "2026-12-06T02:00:00Z",
    ...extra,
  };
}

const windows = [
  win(1, { name: "Sunday backups" }),
  win(2, { name: "NAS firmware", kind: "cron", cron: "0 2 * * 1-5", weekdays: [], start_time: null, duration_seconds: 1800, all_plugins: false, plugin_ids: [5], active: true }),
];

describe("schedule in words", () => {
  it("says weekly and cron windows as a person would", () => {
    expect(scheduleText(windows[0])).toBe("Every Sun at 03:00 for 2 h");
    expect(scheduleText(windows[1])).toBe("Cron “0 2 * * 1-5” for 30 min");
    expect(scheduleText(win(3, { weekdays: [0, 1, 2, 3, 4, 5, 6] }))).toBe("Every day at 03:00 for 2 h");
  });
});

describe("MaintenancePage", () => {
  it("lists windows read-only for a viewer", async () => {
    const { calls } = mockFetch({ "GET /api/v1/maintenance": () => windows, "GET /api/v1/plugins": () => [plugin(5, "NAS")] });
    renderApp(<MaintenancePage user={viewer} />);
    const table = await screen.findByRole("table", { name: "Maintenance windows" });
    const nas = within(table).getByText("NAS firmware").closest("tr")!;
    expect(within(nas).getByText("Active")).toBeInTheDocument();
    expect(await within(nas).findByText("NAS")).toBeInTheDocument();
    expect(within(table).getByText("Sunday backups").closest("tr")).toHaveTextContent("All plugins");
    expect(screen.queryByRole("button", { name: /New window|End|Delete/ })).not.toBeInTheDocument();
    expect(screen.getByText(/ask an administrator/)).toBeInTheDocument();
    expect(calls.every((c) => c.method === "GET")).toBe(true);
  });

  it("lets an admin plan a weekly window, end one and delete one", async () => {
    const u = userEvent.setup();
    const { calls } = mockFetch({
      "GET /api/v1/maintenance": () => windows,
      "GET /api/v1/plugins": () => [plugin(5, "NAS"), plugin(6, "Router")],
      "POST /api/v1/maintenance": async (req) => ({ ...win(9, {}), ...((await req.json()) as Partial<Maintenance>) }),
      "POST /api/v1/maintenance/2/end": () => ({ ...windows[1], active: false, next_start: null }),
      "DELETE /api/v1/maintenance/1": () => new Response(null, { status: 204 }),
    });
    renderApp(<MaintenancePage user={admin} />);
    await screen.findByRole("table", { name: "Maintenance windows" });

    await u.click(screen.getByRole("button", { name: "+ New window" }));
    const form = screen.getByRole("form", { name: "New maintenance window" });
    await u.click(within(form).getByRole("button", { name: "Plan window" }));
    expect(within(form).getByText(/Give the window a name/)).toBeInTheDocument();
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    await u.type(within(form).getByLabelText(/Name/), "Patch night");
    await u.click(within(form).getByRole("radio", { name: "Weekly" }));
    await u.click(within(form).getByRole("checkbox", { name: "Wed" }));
    await u.clear(within(form).getByLabelText(/Lasts/));
    await u.type(within(form).getByLabelText(/Lasts/), "90");
    await u.clear(within(form).getByLabelText(/Time zone/));
    await u.type(within(form).getByLabelText(/Time zone/), "Europe/Berlin");
    await u.selectOptions(within(form).getByLabelText(/Plugins/), ["NAS", "Router"]);
    await u.click(within(form).getByRole("button", { name: "Plan window" }));
    const post = calls.find((c) => c.method === "POST" && c.path === "/api/v1/maintenance")!;
    expect(JSON.parse(post.body!)).toEqual({
      name: "Patch night",
      comment: "",
      kind: "weekly",
      timezone: "Europe/Berlin",
      all_plugins: false,
      plugin_ids: [5, 6],
      weekdays: [6, 2],
      start_time: "03:00",
      duration_seconds: 5400,
    });
    expect(await screen.findByText(/Maintenance window planned/)).toBeInTheDocument();

    const nas = screen.getByText("NAS firmware").closest("tr")!;
    await u.click(within(nas).getByRole("button", { name: "End" }));
    expect(await screen.findByText(/no longer recurs/)).toBeInTheDocument();

    const sunday = screen.getByText("Sunday backups").closest("tr")!;
    await u.click(within(sunday).getByRole("button", { name: "Delete" }));
    await u.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Delete window" }));
    expect(await screen.findByText("Maintenance window deleted.")).toBeInTheDocument();
    expect(calls.some((c) => c.method === "DELETE" && c.path === "/api/v1/maintenance/1")).toBe(true);
  });

  it("says which weekly field is missing, as an alert tied to the day checkboxes", async () => {
    const u = userEvent.setup();
    mockFetch({ "GET /api/v1/maintenance": () => windows, "GET /api/v1/plugins": () => [plugin(5, "NAS")] });
    renderApp(<MaintenancePage user={admin} />);
    await u.click(await screen.findByRole("button", { name: "+ New window" }));
    const form = screen.getByRole("form", { name: "New maintenance window" });
    await u.click(within(form).getByRole("radio", { name: "Weekly" }));
    await u.click(within(form).getByRole("checkbox", { name: "Sun" }));
    await u.click(within(form).getByRole("button", { name: "Plan window" }));
    const alert = within(form).getByText("Choose at least one day.");
    expect(alert).toHaveAttribute("role", "alert");
    expect(within(form).getByRole("group", { name: "Days" })).toHaveAttribute("aria-describedby", alert.id);
  });

  it("lets an admin change a window in place, keeping its kind", async () => {
    const u = userEvent.setup();
    const { calls } = mockFetch({
      "GET /api/v1/maintenance": () => windows,
      "GET /api/v1/plugins": () => [plugin(5, "NAS"), plugin(6, "Router")],
      "PATCH /api/v1/maintenance/2": async (req) => ({ ...windows[1], ...((await req.json()) as Partial<Maintenance>) }),
    });
    renderApp(<MaintenancePage user={admin} />);
    const row = (await screen.findByText("NAS firmware")).closest("tr")!;
    await u.click(within(row).getByRole("button", { name: "Edit" }));
    const form = screen.getByRole("form", { name: "Edit “NAS firmware”" });
    expect(within(form).getByRole("textbox", { name: /^Cron/ })).toHaveValue("0 2 * * 1-5");
    expect(within(form).getByLabelText(/Lasts/)).toHaveValue(30);
    expect(within(form).getByRole("radio", { name: "Cron" })).toBeChecked();
    expect(within(form).getByRole("radio", { name: "Weekly" })).toBeDisabled();
    await u.clear(within(form).getByLabelText(/Lasts/));
    await u.type(within(form).getByLabelText(/Lasts/), "45");
    await u.click(within(form).getByRole("button", { name: "Save window" }));
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(JSON.parse(patch.body!)).toEqual({
      name: "NAS firmware",
      comment: "",
      timezone: "Europe/Berlin",
      all_plugins: false,
      plugin_ids: [5],
      cron: "0 2 * * 1-5",
      duration_seconds: 2700,
    });
    expect(await screen.findByText("Maintenance window saved.")).toBeInTheDocument();
    expect(screen.queryByRole("form")).not.toBeInTheDocument();
  });
});

describe("MaintenancePage with UNITY_CONFIG", () => {
  it("offers no End or Delete for a window the file manages, and says where to edit it", async () => {
    mockFetch({
      "GET /api/v1/maintenance": () => windows,
      "GET /api/v1/plugins": () => [plugin(5, "NAS")],
      "GET /api/v1/config/managed": () => ({ file: "unity.yaml", objects: { maintenance_windows: ["NAS firmware"] } }),
    });
    renderApp(<MaintenancePage user={admin} />);
    const table = await screen.findByRole("table", { name: "Maintenance windows" });
    const nas = within(table).getByText("NAS firmware").closest("tr")!;
    expect(await within(nas).findByText("Managed by unity.yaml")).toBeInTheDocument();
    expect(within(nas).getByText("Edit it in unity.yaml")).toBeInTheDocument();
    expect(within(nas).queryByRole("button", { name: /End|Delete/ })).toBeNull();
    const backups = within(table).getByText("Sunday backups").closest("tr")!;
    expect(within(backups).getByRole("button", { name: "Delete" })).toBeInTheDocument();
  });
});
