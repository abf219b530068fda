import { describe, expect, it } from "vitest";
import { screen } from "@testing-library/react";
import { renderApp } from "../test/render";
import { mockFetch } from "../test/fakes";
import { httpType, plugin, user } from "../test/fixtures";
import { PluginDetail } from "./PluginDetail";

const admin = user(1, "admin", "admin");

function show(objects: Record<string, string[]>) {
  mockFetch({
    "GET /api/v1/plugins/5": () => plugin(5, "NAS", "healthy", true),
    "GET /api/v1/plugin-types": () => [httpType],
    "GET /api/v1/config/managed": () => ({ file: "unity.yaml", objects }),
  });
  renderApp(<PluginDetail id={5} user={admin} />);
}

describe("a plugin the UNITY_CONFIG file manages", () => {
  it("says so and offers no edit or delete", async () => {
    show({ plugins: ["NAS"] });
    expect(await screen.findByTestId("managed-by")).toHaveTextContent("Managed by unity.yaml");
    expect(screen.queryByRole("link", { name: "Edit" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Delete" })).toBeNull();
    expect(screen.getByRole("button", { name: "Run now" })).toBeInTheDocument();
  });

  it("leaves the others editable", async () => {
    show({ plugins: ["something else"] });
    expect(await screen.findByRole("link", { name: "Edit" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Delete" })).toBeInTheDocument();
    expect(screen.queryByTestId("managed-by")).toBeNull();
  });
});
