import { describe, expect, it, beforeEach } from "vitest";
import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { renderApp } from "../test/render";
import { FakeWebSocket, json, mockFetch } from "../test/fakes";
import { Dashboard } from "./Dashboard";
import { PluginFormPage } from "./PluginForm";
import { UsersPage } from "./Admin";
import { Layout, LiveBanner, LiveIndicator } from "../components/Layout";
import { healthEvent, httpType, latest, metricsEvent, plugin, queryResult, series, user } from "../test/fixtures";

const admin = user(1, "admin", "admin");
const viewer = user(2, "v", "viewer");
const responseTime = series(10, 1, "http_response_time", "ms");

describe("Dashboard", () => {
  beforeEach(() => window.history.replaceState(null, "", "/"));

  it("shows a card per plugin with health, values, and updates a value live", async () => {
    mockFetch({
      "GET /api/v1/plugins": () => [plugin(1, "NAS web"), plugin(2, "Router", "down"), plugin(3, "Old box", "unknown", false)],
      "GET /api/v1/plugin-types": () => [httpType],
      "GET /api/v1/metrics/latest": () => ({ items: [latest(responseTime, 12)] }),
      "GET /api/v1/metrics/query": () => queryResult(responseTime, [[new Date().toISOString(), 12]]),
    });
    renderApp(<Dashboard user={admin} />);
    const nas = (await screen.findByRole("link", { name: "NAS web" })).closest("article")!;
    expect(nas).toHaveAttribute("data-health", "healthy");
    expect(within(nas).getByText("Response time")).toBeInTheDocument();
    expect(within(nas).getByText("12 ms")).toBeInTheDocument();
    const router = screen.getByRole("link", { name: "Router" }).closest("article")!;
    expect(within(router).getByText("Down")).toBeInTheDocument();
    expect(within(router).getByText("connection refused")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Old box" }).closest("article")).toHaveAttribute("data-health", "disabled");

    // live: a metrics event changes the value without refetching
    const ws = FakeWebSocket.last();
    act(() => ws.open());
    act(() => ws.receive(metricsEvent(1, responseTime, 48, new Date(Date.now() + 1000).toISOString())));
    expect(within(nas).getByText("48 ms")).toBeInTheDocument();
    // a health event flips the badge
    act(() => ws.receive(healthEvent(1, "degraded", "timeout")));
    await waitFor(() => expect(nas).toHaveAttribute("data-health", "degraded"));
  });

  it("says a plugin whose first run failed has no data yet, instead of showing its zeros", async () => {
    const broken = plugin(4, "Docker", "down", true, {});
    broken.health = { ...broken.health!, last_success_at: null, consecutive_failures: 1, last_error: "docker socket not found" };
    mockFetch({
      "GET /api/v1/plugins": () => [broken],
      "GET /api/v1/plugin-types": () => [httpType],
      "GET /api/v1/metrics/latest": () => ({ items: [latest(series(20, 4, "up", "bool"), 0)] }),
    });
    renderApp(<Dashboard user={admin} />);
    const card = (await screen.findByRole("link", { name: "Docker" })).closest("article")!;
    expect(within(card).getByText("No data yet: the first run failed.")).toBeInTheDocument();
    expect(within(card).queryByText("no")).not.toBeInTheDocument();
    expect(within(card).getByText("docker socket not found")).toBeInTheDocument();
  });

  it("filters by status and search", async () => {
    mockFetch({
      "GET /api/v1/plugins": () => [plugin(1, "NAS web"), plugin(2, "Router", "down")],
      "GET /api/v1/plugin-types": () => [httpType],
      "GET /api/v1/metrics/latest": () => ({ items: [] }),
    });
    renderApp(<Dashboard user={admin} />);
    await screen.findByRole("link", { name: "NAS web" });
    await userEvent.click(screen.getByRole("button", { name: /Down/ }));
    expect(screen.queryByRole("link", { name: "NAS web" })).not.toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Router" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "All" }));
    await userEvent.type(screen.getByLabelText("Search plugins"), "nas");
    expect(screen.getByRole("link", { name: "NAS web" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Router" })).not.toBeInTheDocument();
  });

  it("has an empty state that says what to do, for admins and viewers", async () => {
    mockFetch({
      "GET /api/v1/plugins": () => [],
      "GET /api/v1/plugin-types": () => [httpType],
      "GET /api/v1/metrics/latest": () => ({ items: [] }),
    });
    const { unmount } = renderApp(<Dashboard user={admin} />);
    expect(await screen.findByText("No plugins yet")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Add your first plugin" })).toHaveAttribute("href", "/plugins/new");
    unmount();
    renderApp(<Dashboard user={viewer} />);
    expect(await screen.findByText(/Ask an administrator/)).toBeInTheDocument();
  });

  it("has an error state with a retry", async () => {
    let fail = true;
    mockFetch({
      "GET /api/v1/plugins": () => (fail ? json({ error: "Internal", detail: "database is down" }, 503) : []),
      "GET /api/v1/plugin-types": () => [httpType],
      "GET /api/v1/metrics/latest": () => ({ items: [] }),
    });
    renderApp(<Dashboard user={admin} />);
    expect(await screen.findByText("database is down")).toBeInTheDocument();
    fail = false;
    await userEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByText("No plugins yet")).toBeInTheDocument();
  });
});

describe("live indicator", () => {
  it("says when live updates are disconnected and offers to reconnect", async () => {
    renderApp(
      <>
        <LiveIndicator />
        <LiveBanner />
      </>,
    );
    const ws = FakeWebSocket.last();
    act(() => ws.open());
    expect(screen.getByRole("button", { name: "Live updates are on" })).toHaveTextContent("Live");
    act(() => ws.serverClose(1006));
    const btn = screen.getByRole("button", { name: /disconnected/ });
    expect(btn).toHaveAttribute("data-live-status", "reconnecting");
    expect(await screen.findByTestId("live-banner", {}, { timeout: 4000 })).toHaveTextContent(/disconnected/);
    // the automatic retry is under way; if it fails too, the button skips the next wait
    act(() => FakeWebSocket.last().serverClose(1006));
    const before = FakeWebSocket.instances.length;
    await userEvent.click(screen.getByRole("button", { name: /disconnected/ }));
    expect(FakeWebSocket.instances).toHaveLength(before + 1);
  });
});

describe("plugin form", () => {
  beforeEach(() => window.history.replaceState(null, "", "/plugins/new?type=http"));

  it("validates locally, then puts the API's field errors next to their fields", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/plugin-types": () => [httpType],
      "POST /api/v1/plugins": () =>
        json(
          {
            error: "InvalidInput",
            detail: "Some settings are not valid.",
            fields: {
              "config.url": "URL must start with http:// or https://",
              name: "A plugin with this name exists",
              timeout_seconds: "The timeout must not be longer than the interval.",
              "config.nonexistent": "This setting is unknown.",
            },
          },
          422,
        ),
    });
    renderApp(<PluginFormPage />);
    await screen.findByRole("heading", { name: "Add HTTP(S) check plugin" });
    await userEvent.click(screen.getByRole("button", { name: "Add plugin" }));
    expect(screen.getByLabelText(/^URL/)).toHaveAccessibleDescription(/required/);
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);

    await userEvent.type(screen.getByLabelText(/^Name/), "Web");
    await userEvent.type(screen.getByLabelText(/^URL/), "ftp://x");
    await userEvent.type(screen.getByLabelText(/^Bearer token/), "tok");
    await userEvent.click(screen.getByRole("button", { name: "Add plugin" }));
    await waitFor(() => expect(screen.getByLabelText(/^URL/)).toHaveAccessibleDescription(/must start with http/));
    expect(screen.getByLabelText(/^Name/)).toHaveAccessibleDescription(/name exists/);
    const timeout = screen.getByRole("spinbutton", { name: /^Timeout/ });
    expect(timeout).toHaveAttribute("aria-invalid", "true");
    expect(timeout).toHaveAccessibleDescription(/must not be longer than the interval/);
    // A field the form does not show still reaches the user, in the banner.
    expect(screen.getByText(/This setting is unknown/)).toHaveClass("form-error");
    const post = calls.find((c) => c.method === "POST")!;
    expect(JSON.parse(post.body!)).toMatchObject({
      name: "Web",
      type: "http",
      config: { url: "ftp://x", bearer_token: "tok" },
      interval_seconds: 60,
      enabled: true,
    });
  });

  it("shows a check's own time limit as the one timeout, with its range, and never cuts it", async () => {
    const timed = {
      ...httpType,
      config_schema: {
        ...httpType.config_schema,
        properties: {
          ...(httpType.config_schema.properties as Record<string, object>),
          timeout_seconds: { type: "number", title: "Timeout (s)", description: "A response slower than this counts as down.", default: 10, exclusiveMinimum: 0, maximum: 120 },
        },
      },
    };
    const { calls } = mockFetch({
      "GET /api/v1/plugin-types": () => [timed],
      "POST /api/v1/plugins": () =>
        json({ error: "InvalidInput", detail: "x", fields: { "config.timeout_seconds": "is 50 s, longer than the interval (45 s)" } }, 422),
    });
    renderApp(<PluginFormPage />);
    await userEvent.type(await screen.findByLabelText(/^Name/), "Web");
    expect(screen.getAllByRole("spinbutton", { name: /timeout/i })).toHaveLength(1);
    const timeout = screen.getByRole("spinbutton", { name: /^Timeout/ });
    expect(timeout).toHaveValue(10);
    expect(timeout).toHaveAccessibleDescription(/slower than this counts as down\. Allowed: above 0 to 60 s \(at most the interval\)/);
    await userEvent.type(screen.getByLabelText(/^URL/), "http://x/");
    const interval = screen.getByRole("spinbutton", { name: /^Interval/ });
    await userEvent.clear(interval);
    await userEvent.type(interval, "45");
    await userEvent.clear(timeout);
    await userEvent.type(timeout, "50");
    await userEvent.click(screen.getByRole("button", { name: "Add plugin" }));
    // Sent as typed: the check's limit, and a run timeout with room for it within the interval.
    const post = calls.find((c) => c.method === "POST")!;
    expect(JSON.parse(post.body!)).toMatchObject({ interval_seconds: 45, timeout_seconds: 45, config: { timeout_seconds: 50 } });
    await waitFor(() => expect(timeout).toHaveAccessibleDescription(/longer than the interval/));
    expect(timeout).toHaveAttribute("aria-invalid", "true");
  });

  it("shows an error without fields in the banner, marking no field", async () => {
    mockFetch({
      "GET /api/v1/plugin-types": () => [httpType],
      "POST /api/v1/plugins": () => json({ error: "DatabaseUnavailable", detail: "The database is not answering; retry in a few seconds." }, 503),
    });
    renderApp(<PluginFormPage />);
    await userEvent.type(await screen.findByLabelText(/^Name/), "Web");
    await userEvent.type(screen.getByLabelText(/^URL/), "http://x/");
    await userEvent.click(screen.getByRole("button", { name: "Add plugin" }));
    expect(await screen.findByText("The database is not answering; retry in a few seconds.")).toHaveClass("form-error");
    expect(document.querySelector("[aria-invalid='true']")).toBeNull();
  });

  it("edits with the stored secret masked and sends the mask back untouched", async () => {
    window.history.replaceState(null, "", "/plugins/5/edit");
    const { calls } = mockFetch({
      "GET /api/v1/plugin-types": () => [httpType],
      "GET /api/v1/plugins/5": () => plugin(5, "API", "healthy", true, { config: { url: "http://api/", bearer_token: "********" } }),
      "PATCH /api/v1/plugins/5": () => plugin(5, "API"),
    });
    renderApp(<PluginFormPage id={5} />);
    const token = (await screen.findByLabelText(/^Bearer token/)) as HTMLInputElement;
    expect(token.type).toBe("password");
    expect(token.value).toBe("********");
    await userEvent.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PATCH")).toBe(true));
    const body = JSON.parse(calls.find((c) => c.method === "PATCH")!.body!);
    expect(body.config.bearer_token).toBe("********");
    expect(body.type).toBeUndefined();
  });

  it("offers a proposed parent, and saves the parents the user ticks", async () => {
    window.history.replaceState(null, "", "/plugins/5/edit");
    const { calls } = mockFetch({
      "GET /api/v1/plugin-types": () => [httpType],
      "GET /api/v1/plugins/5": () => plugin(5, "NAS web", "healthy", true, { depends_on: [] }),
      "GET /api/v1/plugins": () => [plugin(1, "nas ping"), plugin(2, "router"), plugin(5, "NAS web")],
      "GET /api/v1/plugins/dependency-proposals": () => [
        { plugin_id: 5, plugin_name: "NAS web", parent_id: 1, parent_name: "nas ping", reason: "pings nas.lan, the host this check targets" },
        { plugin_id: 9, plugin_name: "other", parent_id: 2, parent_name: "router", reason: "elsewhere" },
      ],
      "PATCH /api/v1/plugins/5": () => plugin(5, "NAS web", "healthy", true, { depends_on: [1, 2] }),
    });
    renderApp(<PluginFormPage id={5} />);
    const group = await screen.findByRole("group", { name: "Depends on" });
    // Only this plugin's proposal is offered, and the plugin itself is no choice.
    await userEvent.click(await within(group).findByRole("button", { name: "Use nas ping" }));
    expect(within(group).queryByRole("button", { name: "Use router" })).toBeNull();
    expect(within(group).queryByRole("checkbox", { name: /NAS web/ })).toBeNull();
    expect(within(group).getByRole("checkbox", { name: /nas ping/ })).toBeChecked();
    expect(within(group).queryByRole("button", { name: "Use nas ping" })).toBeNull();
    await userEvent.click(within(group).getByRole("checkbox", { name: /router/ }));
    await userEvent.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PATCH")).toBe(true));
    expect(JSON.parse(calls.find((c) => c.method === "PATCH")!.body!).depends_on).toEqual([1, 2]);
  });

  it("shows the loop the API refuses next to the parents", async () => {
    window.history.replaceState(null, "", "/plugins/5/edit");
    mockFetch({
      "GET /api/v1/plugin-types": () => [httpType],
      "GET /api/v1/plugins/5": () => plugin(5, "router", "healthy", true, { depends_on: [1] }),
      "GET /api/v1/plugins": () => [plugin(1, "nas"), plugin(5, "router")],
      "GET /api/v1/plugins/dependency-proposals": () => [],
      "PATCH /api/v1/plugins/5": () =>
        json({ error: "InvalidInput", detail: "These parents would make a dependency loop: router → nas → router.", fields: { depends_on: "makes the loop router → nas → router" } }, 422),
    });
    renderApp(<PluginFormPage id={5} />);
    const group = await screen.findByRole("group", { name: "Depends on" });
    expect(await within(group).findByRole("checkbox", { name: /nas/ })).toBeChecked();
    await userEvent.click(screen.getByRole("button", { name: "Save changes" }));
    expect(await within(group).findByRole("alert")).toHaveTextContent("makes the loop router → nas → router");
  });

  it("shows fields a container label sets as read-only, naming the label", async () => {
    window.history.replaceState(null, "", "/plugins/6/edit");
    const discovered = { by_plugin_id: 1, container: "jellyfin", labels: { url: "unity.http.url", interval_seconds: "unity.interval" } };
    mockFetch({
      "GET /api/v1/plugin-types": () => [httpType],
      "GET /api/v1/plugins/6": () => plugin(6, "jellyfin http", "healthy", true, { config: { url: "http://jellyfin:8096/" }, discovered }),
    });
    renderApp(<PluginFormPage id={6} />);
    const url = await screen.findByLabelText(/^URL/);
    expect(url).toBeDisabled();
    expect(url).toHaveAccessibleDescription(/Set by the container label unity.http.url; edit the label/);
    const interval = screen.getByRole("spinbutton", { name: /^Interval/ });
    expect(interval).toBeDisabled();
    expect(interval).toHaveAccessibleDescription(/unity.interval/);
    expect(screen.getByLabelText(/^Name/)).toBeEnabled();
  });
});

describe("user form", () => {
  it("shows the API's field error next to the username", async () => {
    mockFetch({
      "GET /api/v1/users": () => [admin],
      "POST /api/v1/users": () =>
        json({ error: "InvalidInput", detail: "The user is not valid.", fields: { username: "Use letters, digits, dots and dashes." } }, 422),
    });
    renderApp(<UsersPage me={admin} />);
    await userEvent.type(await screen.findByLabelText(/^Username/), "bad name");
    await userEvent.type(screen.getByLabelText(/^Password/), "long-enough-pw");
    await userEvent.click(screen.getByRole("button", { name: "Add user" }));
    const name = screen.getByLabelText(/^Username/);
    await waitFor(() => expect(name).toHaveAttribute("aria-invalid", "true"));
    expect(name).toHaveAccessibleDescription("Use letters, digits, dots and dashes.");
    expect(screen.getByLabelText(/^Password/)).not.toHaveAttribute("aria-invalid");
  });
});

describe("Layout", () => {
  it("folds the navigation behind a Menu button that closes on navigation", async () => {
    window.history.replaceState(null, "", "/");
    mockFetch({ "GET /api/v1/alerts/states": () => [] });
    renderApp(
      <Layout user={admin}>
        <p>content</p>
      </Layout>,
    );
    const menu = screen.getByRole("button", { name: "Menu" });
    expect(menu).toHaveAttribute("aria-expanded", "false");
    expect(menu).toHaveAttribute("aria-controls", "main-nav");
    await userEvent.click(menu);
    expect(menu).toHaveAttribute("aria-expanded", "true");
    expect(document.getElementById("main-nav")).toHaveClass("open");
    await userEvent.click(screen.getByRole("link", { name: "Settings" }));
    expect(window.location.pathname).toBe("/settings");
    expect(menu).toHaveAttribute("aria-expanded", "false");
  });
});
