import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { renderApp } from "../test/render";
import { json, mockFetch } from "../test/fakes";
import { user } from "../test/fixtures";
import { SettingsPage } from "./Settings";

const at = new Date().toISOString();
const session = (id: number, device: string, current: boolean) => ({
  id,
  device,
  address: "192.168.1.20",
  created_at: at,
  last_seen_at: at,
  expires_at: at,
  current,
});

describe("Settings: signed-in browsers", () => {
  it("lists them and signs another one out", async () => {
    let sessions = [session(1, "Firefox on Linux", true), session(2, "Safari on iOS", false)];
    const { calls } = mockFetch({
      "GET /api/v1/auth/sessions": () => sessions,
      "GET /health": () => json({ status: "healthy" }),
      "DELETE /api/v1/auth/sessions/2": () => {
        sessions = sessions.filter((s) => s.id !== 2);
        return json(null, 204);
      },
    });
    renderApp(<SettingsPage user={user(1, "admin", "admin")} />);
    const list = await screen.findByRole("list", { name: "Signed-in browsers" });
    expect(within(list).getByText("Firefox on Linux")).toBeInTheDocument();
    expect(within(list).getByText("This browser")).toBeInTheDocument();
    await userEvent.click(within(list).getByRole("button", { name: "Sign out" }));
    await waitFor(() => expect(within(list).queryByText("Safari on iOS")).not.toBeInTheDocument());
    expect(calls.some((c) => c.method === "DELETE" && c.path === "/api/v1/auth/sessions/2")).toBe(true);
  });
});
