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
import { filtersToSearch, parseFilters, toQuery } from "./incidentFilters";
import { chartWindow } from "../../components/TimeChart";
import { sparkWindow, sparkYRange } from "../../components/Sparkline";
import { silenceState } from "./Silences";
import { ChannelsPage } from "./Channels";
import { RulesPage } from "./Rules";
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
    expect(screen.getByRole("spinbutton", { name: "Threshold" })).toBeInTheDocument();
    expect(screen.getByRole("spinbutton", { name: "For (seconds)" })).toBeInTheDocument();

    await user.click(screen.getByRole("radio", { name: /Health/ }));
    expect(screen.queryByRole("combobox", { name: "Metric" })).not.toBeInTheDocument();
    expect(screen.queryByRole("spinbutton", { name: "Threshold" })).not.toBeInTheDocument();
    expect(screen.getByRole("spinbutton", { name: "Down for (seconds)" })).toBeInTheDocument();
    expect(screen.getByRole("checkbox", { name: /Phone/ })).toBeInTheDocument();
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
    await user.type(within(dialog).getByLabelText(/^Apprise URL/), "nope://x");
    await user.click(within(dialog).getByRole("button", { name: "Add channel" }));
    const url = within(dialog).getByLabelText(/^Apprise URL/);
    await waitFor(() => expect(url).toHaveAttribute("aria-invalid", "true"));
    expect(url).toHaveAccessibleDescription(/does not know the scheme/);
    expect(within(dialog).getByLabelText(/^Name/)).not.toHaveAttribute("aria-invalid");
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
        const items = st === "firing" ? [incident(1, "firing")] : [incident(2, "resolved")];
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
    expect(within(history).getByText("resolved")).toBeInTheDocument();
    expect(within(history).getByText("notified")).toBeInTheDocument();

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
