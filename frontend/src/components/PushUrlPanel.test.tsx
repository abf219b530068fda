import { describe, expect, it } from "vitest";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { renderApp } from "../test/render";
import { mockFetch } from "../test/fakes";
import type { PushToken } from "../api/push";
import { PushUrlPanel } from "./PushUrlPanel";

const token = (secret: string): PushToken => ({
  plugin_id: 4,
  token: secret,
  url_path: `/api/v1/push/${secret}`,
  rotated_at: new Date().toISOString(),
  last_push_at: null,
  last_status: null,
  last_msg: null,
  push_count: 0,
});

describe("PushUrlPanel", () => {
  it("reveals the URL on request, copies it, and rotates only after confirmation", async () => {
    const user = userEvent.setup();
    let current = "first-secret";
    const { calls } = mockFetch({
      "GET /api/v1/plugins/4/push-token": () => token(current),
      "POST /api/v1/plugins/4/push-token": () => {
        current = "second-secret";
        return token(current);
      },
    });
    renderApp(<PushUrlPanel pluginId={4} pluginName="Nightly backup" />);
    const panel = screen.getByRole("region", { name: "Push URL" });
    expect(panel).not.toHaveTextContent("first-secret");
    expect(calls).toHaveLength(0);

    await user.click(within(panel).getByRole("button", { name: "Show push URL" }));
    const url = `${window.location.origin}/api/v1/push/first-secret`;
    expect(await within(panel).findByText(url)).toBeInTheDocument();
    expect(within(panel).getByText(`curl -fsS -m 10 --retry 3 "${url}"`)).toBeInTheDocument();

    await user.click(within(panel).getByRole("button", { name: "Copy push url" }));
    expect(await navigator.clipboard.readText()).toBe(url);

    await user.click(within(panel).getByRole("button", { name: "Rotate" }));
    const dialog = screen.getByRole("dialog", { name: /Rotate the push URL of “Nightly backup”/ });
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);

    await user.click(within(panel).getByRole("button", { name: "Rotate" }));
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Rotate URL" }));
    expect(await within(panel).findByText(`${window.location.origin}/api/v1/push/second-secret`)).toBeInTheDocument();
    expect(panel).not.toHaveTextContent("first-secret");
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(1);
  });
});
