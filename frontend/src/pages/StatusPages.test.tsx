import { describe, expect, it } from "vitest";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { renderApp } from "../test/render";
import { mockFetch } from "../test/fakes";
import { plugin, user } from "../test/fixtures";
import type { PublicStatusPage, StatusPage } from "../api/statusPages";
import { StatusPagesPage } from "./StatusPages";
import { PublicStatus } from "./PublicStatus";

const admin = user(1, "admin", "admin");
const figures = { up_s: 3600, down_s: 0, maintenance_s: 0, unknown_s: 0, percent: 100 };
const days = Array.from({ length: 90 }, (_, i) => ({ ...figures, date: `2026-0${1 + Math.floor(i / 31)}-${String((i % 28) + 1).padStart(2, "0")}` }));

const publicPage: PublicStatusPage = {
  slug: "home",
  title: "Home lab",
  description: "What works at home.",
  footer: "Ask Sam.",
  status: "down",
  generated_at: "2026-12-04T17:00:00Z",
  groups: [
    {
      name: "Storage",
      monitors: [
        { key: "nas", name: "NAS", status: "healthy", response_ms: 42, uptime: { "24h": figures, "30d": figures, "90d": { ...figures, percent: 99.5 } }, days },
        { key: "router", name: "Router", status: "down", since: "2026-12-04T16:00:00Z", response_ms: null, uptime: { "24h": { ...figures, percent: 0 }, "30d": figures, "90d": figures }, days },
      ],
    },
  ],
  maintenance: [{ name: "Router swap", starts_at: "2026-12-05T20:00:00Z", ends_at: "2026-12-05T22:00:00Z", active: false, monitors: ["Router"] }],
  announcements: [{ title: "New router on Monday", body: "Expect a short outage.", posted_at: "2026-12-04T10:00:00Z", active: true }],
};

describe("PublicStatus", () => {
  it("shows each monitor's state, uptime and bar, the maintenance and the notes", async () => {
    mockFetch({ "GET /api/v1/public/status/home": () => publicPage });
    renderApp(<PublicStatus slug="home" />);
    expect(await screen.findByRole("heading", { name: "Home lab", level: 1 })).toBeInTheDocument();
    expect(screen.getByText("Some systems are down")).toHaveClass("status-overall-down");
    const nas = screen.getByRole("heading", { name: "NAS" }).closest("li")!;
    expect(within(nas).getByText("Operational")).toBeInTheDocument();
    expect(within(nas).getByText("99.50 %")).toBeInTheDocument();
    expect(within(nas).getByText("42 ms")).toBeInTheDocument();
    expect(within(nas).getAllByRole("button")).toHaveLength(90);
    const router = screen.getByRole("heading", { name: "Router" }).closest("li")!;
    expect(within(router).getByText("Down")).toBeInTheDocument();
    expect(within(router).getByText(/^since /)).toBeInTheDocument();
    expect(within(nas).queryByText(/^since /)).not.toBeInTheDocument();
    expect(within(router).queryByText("Response")).not.toBeInTheDocument();
    expect(screen.getByText("Router swap")).toBeInTheDocument();
    expect(screen.getByText("Expect a short outage.")).toBeInTheDocument();
    expect(screen.getByText("Ask Sam.")).toBeInTheDocument();
  });

  it("asks for a protected page's password once, then shows the page with its logo", async () => {
    let open = false;
    const { calls } = mockFetch({
      "GET /api/v1/public/status/home": () =>
        open
          ? { ...publicPage, logo: "/api/v1/public/status/home/logo?v=abc" }
          : new Response(JSON.stringify({ error: "Unauthorized", detail: "This status page is protected: enter its password to see it." }), { status: 401, headers: { "Content-Type": "application/json" } }),
      "POST /api/v1/public/status/home/unlock": async (req) => {
        const { password } = (await req.json()) as { password: string };
        if (password !== "open-sesame") return new Response(JSON.stringify({ error: "Unauthorized", detail: "That password does not open this status page." }), { status: 401, headers: { "Content-Type": "application/json" } });
        open = true;
        return { ok: true, expires_in: 60 };
      },
    });
    renderApp(<PublicStatus slug="home" />);
    expect(await screen.findByRole("heading", { name: "This status page is protected" })).toBeInTheDocument();
    const field = screen.getByLabelText("Password");
    await userEvent.type(field, "wrong-one");
    await userEvent.click(screen.getByRole("button", { name: "Open the page" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That password does not open this status page.");
    await userEvent.clear(field);
    await userEvent.type(field, "open-sesame");
    await userEvent.click(screen.getByRole("button", { name: "Open the page" }));
    expect(await screen.findByRole("heading", { name: "Home lab", level: 1 })).toBeInTheDocument();
    expect(document.querySelector("img.status-logo")).toHaveAttribute("src", "/api/v1/public/status/home/logo?v=abc");
    expect(calls.filter((c) => c.path.endsWith("/unlock"))).toHaveLength(2);
  });

  it("says plainly when there is no published page at the address", async () => {
    mockFetch({});
    renderApp(<PublicStatus slug="nope" />);
    expect(await screen.findByText(/no published status page at “nope”/)).toBeInTheDocument();
  });
});

describe("StatusPagesPage", () => {
  it("lets an admin make a page from chosen plugins under public names", async () => {
    const u = userEvent.setup();
    const made: StatusPage[] = [];
    const { calls } = mockFetch({
      "GET /api/v1/status-pages": () => made,
      "GET /api/v1/plugins": () => [plugin(5, "nas-internal-ping")],
      "POST /api/v1/status-pages": async (req) => {
        const body = (await req.json()) as StatusPage;
        const page = { ...body, id: 1, created_at: "", updated_at: "", groups: body.groups.map((g) => ({ ...g, items: g.items.map((i) => ({ ...i, key: "nas" })) })) };
        made.push(page);
        return new Response(JSON.stringify(page), { status: 201, headers: { "Content-Type": "application/json" } });
      },
    });
    renderApp(<StatusPagesPage user={admin} />);
    await u.click(await screen.findByRole("button", { name: "+ New status page" }));
    const form = screen.getByRole("form", { name: "New status page" });
    await u.click(within(form).getByRole("button", { name: "Create page" }));
    expect(within(form).getByText(/Give the page a title/)).toBeInTheDocument();
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    await u.type(within(form).getByLabelText(/Title/), "Home lab");
    await u.type(within(form).getByLabelText(/Address/), "home");
    await u.selectOptions(await within(form).findByLabelText(/Plugin/), "nas-internal-ping");
    const name = within(form).getByLabelText(/Public name/);
    expect(name).toHaveValue("nas-internal-ping"); // a start, to be replaced by a public name
    await u.clear(name);
    await u.type(name, "NAS");
    await u.click(within(form).getByRole("checkbox", { name: /Published/ }));
    await u.click(within(form).getByRole("button", { name: "Create page" }));
    const post = calls.find((c) => c.method === "POST")!;
    expect(JSON.parse(post.body!)).toMatchObject({ slug: "home", title: "Home lab", published: true, groups: [{ name: "", items: [{ plugin_id: 5, name: "NAS" }] }] });
    expect(await screen.findByText(/public at \/status\/home/)).toBeInTheDocument();
    const row = await screen.findByRole("row", { name: /Home lab/ });
    expect(within(row).getByRole("link", { name: "/status/home" })).toHaveAttribute("href", "/status/home");
  });
});
