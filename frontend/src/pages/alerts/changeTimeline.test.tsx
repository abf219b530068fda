import { describe, expect, it } from "vitest";
import { screen, within } from "@testing-library/react";
import { renderApp } from "../../test/render";
import { json, mockFetch } from "../../test/fakes";
import type { AuditEntry, TimelineEvent } from "../../api/audit";
import { ChangeTimeline, position, timelineItems } from "./ChangeTimeline";
import { WhatChangedSection } from "./WhatChanged";
import { changeLines } from "./changeText";
import { incident } from "../../test/fixtures";

const START = "2026-03-01T01:45:00Z";
const END = "2026-03-01T02:15:00Z";
const T0 = "2026-03-01T02:00:00Z";

const event = (id: number, at: string, kind: string, summary: string, extra: Partial<TimelineEvent> = {}): TimelineEvent => ({
  id,
  at,
  plugin_id: 1,
  plugin_name: "nas",
  kind,
  summary,
  labels: {},
  details: {},
  audit_id: null,
  ...extra,
});

const entry = (id: number, at: string, changes: AuditEntry["changes"]): AuditEntry => ({
  id,
  at,
  actor: "admin",
  user_id: 1,
  token_id: 3,
  token_name: "deploy-bot",
  via: "api",
  object_type: "plugin",
  object_id: "1",
  object_name: "backup",
  action: "update",
  changes,
});

describe("what changed around an incident", () => {
  it("places markers on the ±15 minute axis", () => {
    expect(position(START, START, END)).toBe(0);
    expect(position(T0, START, END)).toBe(50);
    expect(position("2026-03-01T02:07:30Z", START, END)).toBe(75);
    expect(position("2026-03-01T03:00:00Z", START, END)).toBe(100); // clamped
  });

  it("reads diffs field by field, secrets only as changed", () => {
    expect(
      changeLines({
        interval_seconds: { old: 300, new: 120 },
        "config.password": "changed",
        "config.url": { new: "http://nas/" },
        channels: { added: ["Phone"], removed: ["Mail"] },
      }),
    ).toEqual(["interval_seconds: 300 → 120", "config.password: changed", "config.url: http://nas/", "channels: +Phone −Mail"]);
  });

  it("merges events and audit entries oldest first; a config change shows once, with its diff", () => {
    const audit = [entry(9, "2026-03-01T01:57:00Z", { "config.schedule": { old: "03:00", new: "02:00" } })];
    const events = [
      event(1, "2026-03-01T02:05:00Z", "container_restarted", "db restarted"),
      event(2, "2026-03-01T01:57:00Z", "config_changed", "backup changed", { audit_id: 9 }),
      event(3, "2026-03-01T01:50:00Z", "container_image_changed", "backup: image changed", { plugin_id: 4, plugin_name: "docker" }),
    ];
    const items = timelineItems(events, audit, 1);
    expect(items.map((i) => i.key)).toEqual(["e3", "a9", "e1"]);
    expect(items.map((i) => i.own)).toEqual([false, true, true]);
    renderApp(<ChangeTimeline start={START} end={END} startedAt={T0} items={items} />);
    const markers = screen.getAllByTestId("change-marker");
    expect(markers.map((m) => m.style.left)).toEqual([`${(5 / 30) * 100}%`, `${(12 / 30) * 100}%`, `${(20 / 30) * 100}%`]);
    const list = screen.getByRole("list", { name: "Changes and events" });
    expect(within(list).getByText(/admin changed plugin backup \(API token “deploy-bot”\)/)).toBeInTheDocument();
    expect(within(list).getByText("config.schedule: 03:00 → 02:00")).toBeInTheDocument();
    expect(within(list).getByText("docker: backup: image changed", { exact: false })).toBeInTheDocument();
  });

  it("says when nothing changed", () => {
    renderApp(<ChangeTimeline start={START} end={END} startedAt={T0} items={[]} />);
    expect(screen.getByText(/Nothing changed/)).toBeInTheDocument();
  });

  it("loads the incident's window from the API", async () => {
    mockFetch({
      "GET /api/v1/metrics/series": () => json({ items: [], total: 0, limit: 500, offset: 0 }),
      "GET /api/v1/metrics/query": () => json({ series: [], resolution: "raw" }),
      "GET /api/v1/alerts/incidents/7/changes": () =>
        json({
          incident_id: 7,
          plugin_id: 1,
          started_at: T0,
          start: START,
          end: END,
          events: [event(1, "2026-03-01T02:05:00Z", "host_rebooted", "host rebooted")],
          audit: [],
        }),
    });
    const i = { ...incident(7, "firing", { plugin_id: 1, series_id: null }), deliveries: [], affected: [], timeline: [] };
    renderApp(<WhatChangedSection incident={i} unit="%" />);
    const section = await screen.findByRole("region", { name: "What changed" });
    expect(await within(section).findByText("nas: host rebooted")).toBeInTheDocument();
  });
});
