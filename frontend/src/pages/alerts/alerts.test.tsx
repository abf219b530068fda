import { beforeEach, describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { renderApp } from "../../test/render";
import { json, mockFetch } from "../../test/fakes";
import { ApiError, toApiError } from "../../api/client";
import { formErrors } from "../../forms/apiErrors";
import { RuleForm } from "./RuleForm";
import { formToBody, ruleFieldMap, ruleToForm, validateRule } from "./ruleFormValues";
import { IncidentsPage } from "./Incidents";
import { IncidentDetailPage } from "./IncidentDetail";
import { filtersToSearch, parseFilters, toQuery } from "./incidentFilters";
import { chartWindow } from "../../components/TimeChart";
import { sparkWindow, sparkYRange } from "../../components/Sparkline";
import { silenceState } from "./Silences";
import { ChannelsPage } from "./Channels";
import { RulesPage, ruleCondition } from "./Rules";
import { user as userOf } from "../../test/fixtures";
import { channel, incident, page, plugin, rule, series as seriesOf } from "../../test/fixtures";

const plugins = [plugin(1, "NAS"), plugin(2, "Router")];
const series = [
  seriesOf(10, 1, "disk_percent", "%", { mount: "/" }),
  seriesOf(11, 1, "disk_percent", "%", { mount: "/data" }),
  seriesOf(12, 1, "cpu_percent", "%"),
];
const channels = [channel(5, "Phone")];

describe("rule form helpers", () => {
  it("validates per kind: a health rule needs no metric or threshold", () => {
    const v = { ...ruleToForm(), name: "" };
    expect(Object.keys(validateRule(v)).sort()).toEqual(["metric", "name", "threshold"]);
    expect(validateRule({ ...v, name: "Down", kind: "health" })).toEqual({});
    expect(validateRule({ ...v, name: "x", kind: "health", for_seconds: "1.5" }).for_seconds).toMatch(/whole seconds/);
    expect(validateRule({ ...v, name: "x", metric: "m", threshold: "1", labels: [{ key: "", value: "/" }] }).labels).toMatch(/needs a name/);
  });

  it("says a rule's threshold in its metric's unit", () => {
    expect(ruleCondition(rule(1, { metric: "response_time", threshold: 2000 }), "ms")).toBe("response_time > 2 s for 1 min");
    expect(ruleCondition(rule(1, { metric: "disk_free", op: "<", threshold: 10e9 }), "bytes")).toBe("disk_free < 10 GB for 1 min");
  });

  it("sends metric fields only for metric rules", () => {
    const base = { ...ruleToForm(), name: " Disk ", metric: "disk_percent", threshold: "90", plugin: "1", labels: [{ key: "mount", value: "/" }, { key: "", value: "" }] };
    expect(formToBody(base)).toMatchObject({ name: "Disk", kind: "metric", plugin_id: 1, metric: "disk_percent", labels: { mount: "/" }, op: ">", threshold: 90 });
    const health = formToBody({ ...base, kind: "health", plugin: "" });
    expect(health.plugin_id).toBeNull();
    expect(health).not.toHaveProperty("metric");
    expect(health).not.toHaveProperty("labels");
  });

  it("puts the API's field messages on the rule form's fields, the rest in the banner", () => {
    const e = toApiError(422, {
      error: "InvalidInput",
      detail: "The rule is not valid.",
      fields: { for_seconds: "Use at most 7 days.", "labels.mount": "Label values cannot be empty.", owner: "Unknown field." },
    });
    expect(formErrors(e, ruleFieldMap)).toEqual({
      fields: { for_seconds: "Use at most 7 days.", labels: "Label values cannot be empty." },
      banner: "Some fields need attention: fix the highlighted values and try again. Unknown field.",
    });
    // No `fields`: the detail is the banner and no field is blamed by guessing from its words.
    const conflict = toApiError(409, { error: "Conflict", detail: "An alert rule named 'x' already exists; pick another name." });
    expect(formErrors(conflict, ruleFieldMap)).toEqual({ fields: {}, banner: "An alert rule named 'x' already exists; pick another name." });
    expect(formErrors(new ApiError(500, "HTTP500", "The server failed."), ruleFieldMap)).toEqual({ fields: {}, banner: "The server failed." });
  });
});

describe("RuleForm", () => {
  beforeEach(() => window.history.replaceState(null, "", "/alerts/rules/new"));

  it("switches between metric and health fields and offers the plugin's metric names", async () => {
    mockFetch({
      "GET /api/v1/plugins": () => plugins,
      "GET /api/v1/channels": () => channels,
      "GET /api/v1/metrics/series": (_r, url) => page(url.searchParams.get("plugin_id") === "1" ? series : []),
    });
    const user = userEvent.setup();
    renderApp(<RuleForm />);
    await screen.findByRole("option", { name: "NAS" });
    await user.selectOptions(screen.getByRole("combobox", { name: "Plugin" }), "NAS");
    const metric = await screen.findByRole("combobox", { name: "Metric" });
    await waitFor(() => expect(within(metric).getAllByRole("option").map((o) => o.textContent)).toEqual(["Choose a metric…", "cpu_percent", "disk_percent", "Another name…"]));
    await user.selectOptions(metric, "disk_percent");
    expect(screen.getByText(/This metric has: mount=\/ · mount=\/data/)).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Threshold" })).toHaveAccessibleDescription(/A percentage/);
    expect(screen.getByRole("spinbutton", { name: "For (seconds)" })).toBeInTheDocument();

    await user.click(screen.getByRole("radio", { name: /Health/ }));
    expect(screen.queryByRole("combobox", { name: "Metric" })).not.toBeInTheDocument();
    expect(screen.queryByRole("textbox", { name: "Threshold" })).not.toBeInTheDocument();
    expect(screen.getByRole("spinbutton", { name: "Down for (seconds)" })).toBeInTheDocument();
    expect(screen.getByRole("checkbox", { name: /Phone/ })).toBeInTheDocument();
  });

  it("takes a threshold in the metric's unit and shows a saved one back the same way", async () => {
    const disk = [seriesOf(20, 1, "disk_free", "bytes", { mount: "/" })];
    const { calls } = mockFetch({
      "GET /api/v1/plugins": () => plugins,
      "GET /api/v1/channels": () => channels,
      "GET /api/v1/metrics/series": () => page(disk),
      "PATCH /api/v1/alerts/rules/3": () => json(rule(3, { metric: "disk_free", op: "<", threshold: 20e9 })),
    });
    const user = userEvent.setup();
    renderApp(<RuleForm rule={rule(3, { metric: "disk_free", op: "<", threshold: 10e9 })} onSaved={() => undefined} />);
    const threshold = screen.getByRole("textbox", { name: "Threshold" });
    await waitFor(() => expect(threshold).toHaveValue("10 GB"));
    expect(threshold).toHaveAccessibleDescription(/500 MB, 10 GB or 2 TiB/);
    await user.clear(threshold);
    await user.type(threshold, "20 parsecs");
    await user.click(screen.getByRole("button", { name: "Save rule" }));
    expect(threshold).toHaveAttribute("aria-invalid", "true");
    await user.clear(threshold);
    await user.type(threshold, "20 GB");
    await user.click(screen.getByRole("button", { name: "Save rule" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PATCH")).toBe(true));
    expect(JSON.parse(calls.find((c) => c.method === "PATCH")!.body!)).toMatchObject({ metric: "disk_free", threshold: 20e9 });
  });

  it("shows client errors, then the API's 422 next to the field it names", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/plugins": () => plugins,
      "GET /api/v1/channels": () => channels,
      "GET /api/v1/metrics/series": () => page([]),
      "POST /api/v1/alerts/rules": () =>
        json({ error: "InvalidInput", detail: "The rule is not valid.", fields: { keep_firing_seconds: "Use 0 seconds or more." } }, 422),
    });
    const user = userEvent.setup();
    renderApp(<RuleForm />);
    await user.click(await screen.findByRole("button", { name: "Add rule" }));
    expect(await screen.findByText(/Give the rule a name/)).toBeInTheDocument();
    expect(screen.getByText("Choose the metric to watch.")).toBeInTheDocument();
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    await user.click(screen.getByRole("radio", { name: /Health/ }));
    await user.type(screen.getByRole("textbox", { name: "Name" }), "NAS down");
    await user.click(screen.getByRole("checkbox", { name: /Phone/ }));
    await user.click(screen.getByRole("button", { name: "Add rule" }));
    const keep = screen.getByRole("spinbutton", { name: "Keep firing (seconds)" });
    await waitFor(() => expect(keep).toHaveAttribute("aria-invalid", "true"));
    expect(keep).toHaveAccessibleDescription(/Use 0 seconds or more/);
    const post = calls.find((c) => c.method === "POST")!;
    expect(JSON.parse(post.body!)).toEqual({
      name: "NAS down",
      description: "",
      kind: "health",
      plugin_id: null,
      for_seconds: 60,
      keep_firing_seconds: 60,
      repeat_seconds: 0,
      severity: "warning",
      enabled: true,
      channel_ids: [5],
      op: ">",
      threshold: 0,
    });
  });
});

describe("channel form", () => {
  it("puts the API's field error on the URL input and keeps the dialog open", async () => {
    mockFetch({
      "GET /api/v1/channels": () => [],
      "POST /api/v1/channels": () =>
        json({ error: "InvalidInput", detail: "The channel is not valid.", fields: { url: "Apprise does not know the scheme 'nope'." } }, 422),
    });
    const user = userEvent.setup();
    renderApp(<ChannelsPage user={userOf(1, "admin", "admin")} />);
    await user.click(await screen.findByRole("button", { name: "+ Add channel" }));
    const dialog = screen.getByRole("dialog");
    await user.type(within(dialog).getByLabelText(/^Name/), "Phone");
    await user.selectOptions(within(dialog).getByLabelText(/^Service/), "Other (Apprise URL)");
    await user.type(within(dialog).getByLabelText(/^Apprise URL/), "nope://x");
    await user.click(within(dialog).getByRole("button", { name: "Add channel" }));
    const url = within(dialog).getByLabelText(/^Apprise URL/);
    await waitFor(() => expect(url).toHaveAttribute("aria-invalid", "true"));
    expect(url).toHaveAccessibleDescription(/does not know the scheme/);
    expect(within(dialog).getByLabelText(/^Name/)).not.toHaveAttribute("aria-invalid");
  });

  it("builds the Apprise URL from a guided form and sends only that", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/channels": () => [],
      "POST /api/v1/channels": () => json(channel(9, "Chat"), 201),
    });
    const user = userEvent.setup();
    renderApp(<ChannelsPage user={userOf(1, "admin", "admin")} />);
    await user.click(await screen.findByRole("button", { name: "+ Add channel" }));
    const dialog = screen.getByRole("dialog");
    await user.type(within(dialog).getByLabelText(/^Name/), "Chat");
    await user.selectOptions(within(dialog).getByLabelText(/^Service/), "Discord");
    const hook = within(dialog).getByLabelText(/^Webhook URL/);
    await user.type(hook, "https://example.com/not-a-hook");
    await user.click(within(dialog).getByRole("button", { name: "Add channel" }));
    expect(hook).toHaveAccessibleDescription(/Paste the whole webhook URL/);
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);
    await user.clear(hook);
    await user.type(hook, "https://discord.com/api/webhooks/123/abc-DEF");
    await user.click(within(dialog).getByRole("button", { name: "Add channel" }));
    await waitFor(() => expect(calls.filter((c) => c.method === "POST")).toHaveLength(1));
    expect(JSON.parse(calls.find((c) => c.method === "POST")?.body ?? "{}")).toMatchObject({ name: "Chat", url: "discord://123/abc-DEF" });
  });
});

describe("incident filters", () => {
  it("round-trips through the URL and ignores junk", () => {
    const f = parseFilters("?status=resolved&plugin=2&severity=critical&silenced=false&page=3");
    expect(f).toEqual({ status: "resolved", plugin: "2", severity: "critical", silenced: "false", page: 3 });
    expect(parseFilters(filtersToSearch(f))).toEqual(f);
    expect(parseFilters("?status=bogus&plugin=x&severity=loud&page=-4")).toEqual({ status: "", plugin: "", severity: "", silenced: "", page: 0 });
    expect(toQuery(f, "resolved", 25, 75)).toEqual({ status: "resolved", plugin_id: 2, severity: "critical", silenced: false, limit: 25, offset: 75 });
  });

  it("lists firing first, then history, and a filter change refetches with it", async () => {
    window.history.replaceState(null, "", "/alerts");
    const { calls } = mockFetch({
      "GET /api/v1/plugins": () => plugins,
      "GET /api/v1/alerts/rules": () => [rule(3)],
      "GET /api/v1/metrics/series": () => page(series),
      "GET /api/v1/alerts/incidents": (_r, url) => {
        const st = url.searchParams.get("status");
        const items =
          st === "firing"
            ? [incident(1, "firing", { acknowledged_at: "2030-05-01T10:00:00Z", acknowledged_by: "admin" })]
            : [incident(2, "resolved"), incident(3, "resolved", { rule_name: "Behind the router", notified: false, suppressed_by: "router", suppressed_by_id: 2 })];
        return page(items);
      },
    });
    const user = userEvent.setup();
    renderApp(<IncidentsPage />);
    const firing = await screen.findByRole("region", { name: /Firing now/ });
    expect(await within(firing).findByText("Disk almost full")).toBeInTheDocument();
    // Values carry the unit of the series that fired.
    expect(await within(firing).findByText("93.5%")).toBeInTheDocument();
    const history = screen.getByRole("region", { name: "History" });
    expect(await within(history).findByText("NAS down")).toBeInTheDocument();
    expect(within(history).getAllByText("resolved")).toHaveLength(2);
    expect(within(history).getByText("notified")).toBeInTheDocument();
    expect(within(history).getByText("suppressed")).toHaveAttribute("title", "router, which this depends on, was down: nothing was sent");
    expect(within(firing).getByText("acknowledged")).toHaveAttribute("title", expect.stringMatching(/^By admin at /));

    await user.selectOptions(screen.getByRole("combobox", { name: "Severity" }), "critical");
    expect(window.location.search).toBe("?severity=critical");
    await waitFor(() =>
      expect(calls.some((c) => c.path === "/api/v1/alerts/incidents" && /severity=critical/.test(c.search))).toBe(true),
    );
    await user.selectOptions(screen.getByRole("combobox", { name: "Status" }), "resolved");
    await waitFor(() => expect(screen.queryByRole("region", { name: /Firing now/ })).not.toBeInTheDocument());
    expect(window.location.search).toBe("?status=resolved&severity=critical");
  });

  it("says what to do when there are no rules", async () => {
    window.history.replaceState(null, "", "/alerts");
    mockFetch({
      "GET /api/v1/plugins": () => plugins,
      "GET /api/v1/alerts/rules": () => [],
      "GET /api/v1/alerts/incidents": () => page([]),
    });
    renderApp(<IncidentsPage />);
    expect(await screen.findByText("No incidents yet")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Add a rule" })).toHaveAttribute("href", "/alerts/rules/new");
    expect(await screen.findByTestId("all-clear")).toHaveTextContent("Nothing is firing");
  });
});

describe("chart ranges", () => {
  it("spans the selected window, sliding when live data passes its end", () => {
    expect(chartWindow([1000, 4600], [4000, 4500], 3600)).toEqual([1000, 4600]);
    expect(chartWindow([1000, 4600], [], null)).toEqual([1000, 4600]);
    expect(chartWindow([1000, 4600], [4000, 4700], 3600)).toEqual([1100, 4700]);
    expect(chartWindow(undefined, [1, 2], 3600)).toBeNull();
  });

  it("gives sparklines a sensible span and padding with few points", () => {
    expect(sparkWindow([9990, 10000], 3600, 10000)).toEqual([10000 - 200, 10000]); // 20 intervals of 10 s
    expect(sparkWindow([9996, 9998, 10000], 3600, 10000)).toEqual([9940, 10000]); // at least a minute
    expect(sparkWindow([10000], 3600, 10000)).toEqual([8800, 10000]);
    expect(sparkWindow([5000, 10000], 3600, 10000)).toEqual([6400, 10000]); // at most the window
    expect(sparkYRange(5, 5)).toEqual([4.5, 5.5]);
    expect(sparkYRange(0, 0)).toEqual([0, 1]);
    expect(sparkYRange(10, 20)).toEqual([8, 22]);
    expect(sparkYRange(1, 100)[0]).toBe(0);
  });

  it("knows a silence's state", () => {
    const t = Date.parse("2026-01-01T12:00:00Z");
    expect(silenceState({ starts_at: "2026-01-01T11:00:00Z", ends_at: "2026-01-01T13:00:00Z" }, t)).toBe("active");
    expect(silenceState({ starts_at: "2026-01-01T12:30:00Z", ends_at: "2026-01-01T13:00:00Z" }, t)).toBe("upcoming");
    expect(silenceState({ starts_at: "2026-01-01T10:00:00Z", ends_at: "2026-01-01T12:00:00Z" }, t)).toBe("expired");
  });
});

describe("incident page", () => {
  const at = "2030-05-01T10:00:00Z";
  const detail = (extra: Record<string, unknown> = {}) => ({
    ...incident(7, "firing", { kind: "health", plugin_name: "router", rule_name: "anything down", series_id: null, metric: null }),
    deliveries: [],
    affected: [
      { id: 8, plugin_id: 2, plugin_name: "nas", status: "firing", summary: "nas is down", fired_at: at, resolved_at: null },
      { id: 9, plugin_id: 3, plugin_name: "pi", status: "resolved", summary: "pi is down", fired_at: at, resolved_at: at },
    ],
    timeline: [
      { at, kind: "opened", detail: "router is down" },
      { at, kind: "notified", detail: "firing notice to 1 channel(s)" },
      { at, kind: "affected", detail: "nas: nas is down (suppressed)" },
    ],
    ...extra,
  });

  it("names the blast radius, shows the timeline and acknowledges with a comment", async () => {
    window.history.replaceState(null, "", "/alerts/incidents/7");
    let acked = false;
    const { calls } = mockFetch({
      "GET /api/v1/metrics/series": () => page(series),
      "GET /api/v1/alerts/incidents/7": () =>
        acked
          ? detail({ acknowledged_at: at, acknowledged_by: "admin", ack_comment: "rebooting it", timeline: [...detail().timeline, { at, kind: "acknowledged", detail: "by admin: rebooting it" }] })
          : detail(),
      "POST /api/v1/alerts/incidents/7/ack": () => {
        acked = true;
        return incident(7, "firing", { acknowledged_at: at, acknowledged_by: "admin", ack_comment: "rebooting it" });
      },
    });
    const user = userEvent.setup();
    renderApp(<IncidentDetailPage id={7} canAck />);
    const affected = await screen.findByRole("region", { name: "router down: 2 checks affected" });
    expect(within(affected).getByRole("link", { name: "nas" })).toHaveAttribute("href", "/alerts/incidents/8");
    const timeline = screen.getByRole("region", { name: "Timeline" });
    expect(within(timeline).getByText("nas: nas is down (suppressed)")).toBeInTheDocument();

    await user.type(screen.getByRole("textbox", { name: /Comment/ }), "rebooting it");
    await user.click(screen.getByRole("button", { name: "Acknowledge" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    expect(JSON.parse(calls.find((c) => c.method === "POST")!.body!)).toEqual({ comment: "rebooting it" });
    const ack = await screen.findByRole("region", { name: "Acknowledgement" });
    expect(ack).toHaveTextContent(/by admin at .*: “rebooting it”/);
    expect(screen.queryByRole("button", { name: "Acknowledge" })).toBeNull();
  });

  it("says a suppressed incident sent nothing because its parent was down, and viewers get no button", async () => {
    window.history.replaceState(null, "", "/alerts/incidents/8");
    mockFetch({
      "GET /api/v1/metrics/series": () => page(series),
      "GET /api/v1/alerts/incidents/8": () =>
        detail({ id: 8, plugin_name: "nas", notified: false, suppressed_by: "router", suppressed_by_id: 1, affected: [], timeline: [] }),
    });
    renderApp(<IncidentDetailPage id={8} canAck={false} />);
    expect(await screen.findByText("None: router, which this depends on, was down.")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "router" })).toHaveAttribute("href", "/plugins/1");
    expect(screen.queryByRole("button", { name: "Acknowledge" })).toBeNull();
    expect(screen.queryByRole("region", { name: /checks affected/ })).toBeNull();
  });
});

describe("objects the UNITY_CONFIG file manages", () => {
  it("are listed without Edit or Delete; the others keep them", async () => {
    mockFetch({
      "GET /api/v1/plugins": () => plugins,
      "GET /api/v1/channels": () => [channel(5, "Phone"), channel(6, "Mail")],
      "GET /api/v1/alerts/rules": () => [rule(1, { name: "Disk full" }), rule(2, { name: "Mine" })],
      "GET /api/v1/config/managed": () => ({ file: "unity.yaml", objects: { channels: ["Phone"], alert_rules: ["Disk full"] } }),
    });
    const admin = userOf(1, "admin", "admin");
    const { unmount } = renderApp(<ChannelsPage user={admin} />);
    expect(await screen.findByText("managed by unity.yaml")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Edit Phone" })).toBeNull();
    expect(screen.getByRole("button", { name: "Edit Mail" })).toBeInTheDocument();
    unmount();

    renderApp(<RulesPage user={admin} />);
    expect(await screen.findByText("Edit it in unity.yaml")).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Edit Disk full" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Delete Disk full" })).toBeNull();
    expect(screen.getByRole("link", { name: "Edit Mine" })).toBeInTheDocument();
  });
});
