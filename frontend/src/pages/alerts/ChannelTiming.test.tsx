import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { renderApp } from "../../test/render";
import { json, mockFetch } from "../../test/fakes";
import { ChannelsPage } from "./Channels";
import { CanaryBanner } from "../../components/CanaryBanner";
import { channel, user as userOf } from "../../test/fixtures";
import type { Canary } from "../../api/canary";
import type { Delivery } from "../../api/alerts";
import { DeliveryTable } from "./IncidentTable";

const admin = userOf(1, "admin", "admin");

describe("channel timing", () => {
  it("sends the group window and quiet hours, and refuses quiet hours that end when they start", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/channels": () => [],
      "POST /api/v1/channels": () => json(channel(9, "Phone"), 201),
    });
    const user = userEvent.setup();
    renderApp(<ChannelsPage user={admin} />);
    await user.click(await screen.findByRole("button", { name: "+ Add channel" }));
    const dialog = screen.getByRole("dialog");
    await user.type(within(dialog).getByLabelText(/^Name/), "Phone");
    await user.selectOptions(within(dialog).getByLabelText(/^Service/), "raw");
    await user.type(within(dialog).getByLabelText(/^Apprise URL/), "json://127.0.0.1:9/hook");
    await user.type(within(dialog).getByLabelText(/^Group window/), "60");
    await user.click(within(dialog).getByLabelText(/^Quiet hours/));
    const until = within(dialog).getByLabelText(/^Until/);
    await user.clear(until);
    await user.type(until, "23:00");
    const tz = within(dialog).getByLabelText(/^Time zone/);
    await user.clear(tz);
    await user.type(tz, "Europe/Berlin");
    await user.click(within(dialog).getByRole("button", { name: "Add channel" }));
    expect(until).toHaveAccessibleDescription(/different time/);
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);

    await user.clear(until);
    await user.type(until, "07:00");
    await user.click(within(dialog).getByLabelText(/^Critical alerts come through/));
    await user.click(within(dialog).getByRole("button", { name: "Add channel" }));
    await waitFor(() => expect(calls.filter((c) => c.method === "POST")).toHaveLength(1));
    expect(JSON.parse(calls.find((c) => c.method === "POST")?.body ?? "{}")).toMatchObject({
      group_seconds: 60,
      quiet_start: "23:00",
      quiet_end: "07:00",
      quiet_timezone: "Europe/Berlin",
      quiet_except_critical: false,
    });
  });

  it("lists each channel's timing and whether it is quiet now", async () => {
    mockFetch({
      "GET /api/v1/channels": () => [
        channel(5, "Mail"),
        { ...channel(6, "Phone"), group_seconds: 0, quiet_start: "23:00", quiet_end: "07:00", quiet_timezone: "Europe/Berlin", quiet_now: true },
      ],
    });
    renderApp(<ChannelsPage user={admin} />);
    expect(await screen.findByText("groups 30 s (default)")).toBeInTheDocument();
    expect(screen.getByText("sends at once · quiet 23:00–07:00 Europe/Berlin (critical passes)")).toBeInTheDocument();
    expect(screen.getByText("quiet now")).toBeInTheDocument();
  });
});

describe("canary banner", () => {
  const canary = (state: Canary["state"]): Canary => ({
    enabled: true,
    state,
    since: new Date(Date.now() - 120_000).toISOString(),
    checked_at: new Date().toISOString(),
    failures: state === "down" ? 3 : 0,
    hold_notifications: true,
    targets: [{ target: "gateway", address: "192.168.1.1:53", ok: state !== "down", detail: state === "down" ? "no answer within 3 s" : "connected", checked_at: new Date().toISOString() }],
    outages: [],
  });

  it("says Unity's own network is down, and that notices are held", async () => {
    mockFetch({ "GET /api/v1/alerts/canary": () => canary("down") });
    renderApp(<CanaryBanner />);
    const banner = await screen.findByTestId("canary-banner");
    expect(banner).toHaveTextContent("Unity’s own network is down");
    expect(banner).toHaveTextContent("notifications are held");
    expect(banner).toHaveTextContent("192.168.1.1:53: no answer within 3 s");
  });

  it("shows nothing while the network is up", async () => {
    const { calls } = mockFetch({ "GET /api/v1/alerts/canary": () => canary("up") });
    renderApp(<CanaryBanner />);
    await waitFor(() => expect(calls.length).toBe(1));
    expect(screen.queryByTestId("canary-banner")).toBeNull();
  });
});

describe("held deliveries", () => {
  it("say whether quiet hours or the group window hold them", () => {
    const base: Delivery = {
      id: 1,
      channel_id: 5,
      incident_id: 3,
      kind: "firing",
      title: "[FIRING] nas down: nas",
      body: "nas is down",
      status: "pending",
      attempts: 0,
      next_attempt_at: "2026-03-11T06:00:00Z",
      held: "quiet",
      last_error: null,
      created_at: "2026-03-10T22:30:00Z",
      sent_at: null,
    };
    renderApp(<DeliveryTable items={[base, { ...base, id: 2, held: "group" }, { ...base, id: 3, status: "sent", held: null }]} />);
    expect(screen.getByText(/^quiet hours until/)).toBeInTheDocument();
    expect(screen.getByText(/^group window until/)).toBeInTheDocument();
    expect(screen.getAllByText(/ until /)).toHaveLength(2);
  });
});
