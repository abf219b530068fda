import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { renderApp } from "../test/render";
import { json, mockFetch } from "../test/fakes";
import { user as userOf } from "../test/fixtures";
import { AuditLogPage, auditQuery } from "./AuditLog";

const entry = {
  id: 4,
  at: "2026-03-01T01:50:02Z",
  actor: "admin",
  user_id: 1,
  token_id: 3,
  token_name: "deploy-bot",
  via: "api",
  object_type: "plugin",
  object_id: "3",
  object_name: "site",
  action: "update",
  changes: { interval_seconds: { old: 300, new: 120 }, "config.basic_auth_password": "changed" },
};

describe("Settings → Audit log", () => {
  it("turns the form into the API query, leaving empty fields out", () => {
    expect(auditQuery({ object_type: "", actor: " ", via: "", since: "", until: "" }, 2)).toEqual({ limit: 50, offset: 100 });
    const q = auditQuery({ object_type: "channel", actor: "deploy-bot", via: "api", since: "2026-03-01T02:00", until: "" }, 0);
    expect(q).toMatchObject({ object_type: "channel", actor: "deploy-bot", via: "api", limit: 50, offset: 0 });
    expect(q.since).toBe(new Date("2026-03-01T02:00").toISOString());
  });

  it("lists changes with their diffs and filters by object type", async () => {
    const { calls } = mockFetch({ "GET /api/v1/audit": () => json({ items: [entry], total: 1, limit: 50, offset: 0 }) });
    renderApp(<AuditLogPage user={userOf(1, "admin", "admin")} />);
    const table = await screen.findByRole("table");
    expect(within(table).getByText("interval_seconds: 300 → 120")).toBeInTheDocument();
    expect(within(table).getByText("config.basic_auth_password: changed")).toBeInTheDocument();
    expect(within(table).getByText("token “deploy-bot”")).toBeInTheDocument();
    await userEvent.setup().selectOptions(screen.getByRole("combobox", { name: "Object" }), "channel");
    await waitFor(() => expect(calls.some((c) => c.search.includes("object_type=channel"))).toBe(true));
  });

  it("is for admins only", () => {
    mockFetch({});
    renderApp(<AuditLogPage user={userOf(2, "viewer", "viewer")} />);
    expect(screen.getByText("Admins only")).toBeInTheDocument();
  });
});
