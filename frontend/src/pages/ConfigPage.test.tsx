import { describe, expect, it } from "vitest";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { renderApp } from "../test/render";
import { json, mockFetch } from "../test/fakes";
import { user } from "../test/fixtures";
import { ConfigPage } from "./ConfigPage";

const FILE = "plugins:\n  - {name: nas, type: ping, config: {host: 192.168.1.20}}\n";
const plan = (dryRun: boolean) => ({
  dry_run: dryRun,
  applied: !dryRun,
  changes: [{ section: "plugins", action: "add" as const, name: "nas", fields: [], reason: null }],
  unchanged: 0,
  kept: 0,
  notes: [],
  summary: ["+ plugin 'nas'", dryRun ? "dry run: nothing was changed; apply for real without --dry-run" : "applied 1 change(s)"],
});

describe("Settings → Configuration", () => {
  it("runs a dry run of the pasted file, then applies exactly that", async () => {
    const { calls } = mockFetch({
      "POST /api/v1/config/apply": (_req, url) => plan(url.searchParams.get("dry_run") !== "false"),
    });
    renderApp(<ConfigPage user={user(1, "admin", "admin")} />);
    const apply = screen.getByRole("button", { name: "Apply" });
    expect(apply).toBeDisabled(); // nothing planned yet
    fireEvent.change(screen.getByLabelText("Configuration file (YAML)"), { target: { value: FILE } });
    await userEvent.click(screen.getByRole("button", { name: "Dry run" }));
    const planned = await screen.findByRole("list", { name: "Planned changes" });
    expect(within(planned).getByText("+ plugin 'nas'")).toBeInTheDocument();
    expect(screen.getByText(/Dry run: 1 planned change, nothing changed yet/)).toBeInTheDocument();
    await waitFor(() => expect(apply).toBeEnabled());
    await userEvent.click(apply);
    expect(await screen.findByText("Applied 1 change.")).toBeInTheDocument();
    const posts = calls.filter((c) => c.path === "/api/v1/config/apply");
    expect(posts.map((c) => c.search)).toEqual(["?dry_run=true&prune=false", "?dry_run=false&prune=false"]);
    expect(posts.every((c) => c.body === FILE)).toBe(true); // the YAML as typed, not JSON

    // an edit after the dry run needs a new one before Apply
    fireEvent.change(screen.getByLabelText("Configuration file (YAML)"), { target: { value: FILE + "#\n" } });
    expect(apply).toBeDisabled();
  });

  it("lists a bad file's problems with line and column", async () => {
    mockFetch({
      "POST /api/v1/config/apply": () =>
        json(
          {
            error: "InvalidInput",
            detail: "The configuration file is not valid: line 3, column 5: plugins[0].interval_seconds: must be an integer.",
            fields: { "plugins[0].interval_seconds": "line 3, column 5: must be an integer" },
          },
          422,
        ),
    });
    renderApp(<ConfigPage user={user(1, "admin", "admin")} />);
    fireEvent.change(screen.getByLabelText("Configuration file (YAML)"), { target: { value: "plugins: [x]" } });
    await userEvent.click(screen.getByRole("button", { name: "Dry run" }));
    const problems = await screen.findByRole("list", { name: "Problems in the file" });
    expect(within(problems).getByText("line 3, column 5: must be an integer")).toBeInTheDocument();
    expect(within(problems).getByText("plugins[0].interval_seconds")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Apply" })).toBeDisabled();
  });

  it("tells a viewer it is for admins", () => {
    renderApp(<ConfigPage user={user(2, "viewer", "viewer")} />);
    expect(screen.getByText("Only admins can export or apply the configuration.")).toBeInTheDocument();
  });
});
