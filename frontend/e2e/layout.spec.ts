// Every page, signed out and in, at phone widths (360, 390) and desktop (1440), light and dark:
// nothing scrolls sideways, axe-core finds no serious or critical WCAG A/AA violation, there is
// one h1 and headings do not skip levels, and at phone width controls are at least 44 px.
import { expect, test, type Page } from "@playwright/test";
import { adminToken, axeViolations, headingProblems, horizontalOverflow, NOTIFY, setScheme, signIn, smallTargets, TARGET } from "./helpers";

const WIDTHS = [360, 390, 1440] as const;
const SCHEMES = ["light", "dark"] as const;

let token = "";
const ids: Record<string, number> = {};

test.beforeAll(async ({ request }) => {
  token = await adminToken(request);
  const headers = { Authorization: `Bearer ${token}` };
  // A failed test restarts the worker and so this hook: seed once, then find what was seeded.
  const existing = (await (await request.get("/api/v1/plugins", { headers })).json()) as { id: number; name: string; type: string }[];
  // The "This host" plugin a fresh install starts with (made here if this install has none).
  ids.host = existing.find((p) => p.type === "system")?.id ?? 0;
  const seeded = existing.find((p) => p.name === "Layout web check");
  if (seeded) {
    ids.ok = seeded.id;
    ids.bad = existing.find((p) => p.name === "Layout broken check")!.id;
    const channels = (await (await request.get("/api/v1/channels", { headers })).json()) as { id: number; name: string }[];
    ids.channel = channels.find((c) => c.name === "Layout receiver")!.id;
    return;
  }
  const post = async (path: string, data: object) => {
    const r = await request.post(path, { headers, data });
    expect(r.status(), `${path}: ${await r.text()}`).toBeLessThan(300);
    return (await r.json()) as { id: number };
  };
  if (!ids.host) ids.host = (await post("/api/v1/plugins", { name: "This host", type: "system", config: {}, interval_seconds: 30 })).id;
  await request.post(`/api/v1/plugins/${ids.host}/run`, { headers });
  ids.ok = (await post("/api/v1/plugins", { name: "Layout web check", type: "http", config: { url: TARGET }, interval_seconds: 5 })).id;
  // Nothing listens on port 9: this one never succeeds.
  ids.bad = (await post("/api/v1/plugins", { name: "Layout broken check", type: "http", config: { url: "http://127.0.0.1:9/" }, interval_seconds: 3600, timeout_seconds: 2 })).id;
  await request.post(`/api/v1/plugins/${ids.ok}/run`, { headers });
  await request.post(`/api/v1/plugins/${ids.bad}/run`, { headers });
  ids.channel = (await post("/api/v1/channels", { name: "Layout receiver", url: NOTIFY })).id;
  ids.rule = (await post("/api/v1/alerts/rules", { name: "Layout check down", kind: "health", plugin_id: ids.bad, severity: "critical", channel_ids: [ids.channel] })).id;
  const now = Date.now();
  await post("/api/v1/alerts/silences", { plugin_id: ids.ok, starts_at: new Date(now).toISOString(), ends_at: new Date(now + 3600_000).toISOString(), comment: "Router firmware upgrade" });
  await post("/api/v1/tokens", { name: "Layout script" });
});

// A published status page over the seeded checks (made once; found again after a restart).
test.beforeAll(async ({ request }) => {
  const headers = { Authorization: `Bearer ${token}` };
  const pages = (await (await request.get("/api/v1/status-pages", { headers })).json()) as { slug: string }[];
  if (pages.some((p) => p.slug === "layout")) return;
  const r = await request.post("/api/v1/status-pages", {
    headers,
    data: {
      slug: "layout",
      title: "Layout lab status",
      description: "What works in the layout lab.",
      footer: "Questions? Ask the layout admin.",
      published: true,
      groups: [
        { name: "Web", items: [{ plugin_id: ids.ok, name: "Web check", show_response_time: true }] },
        { name: "Broken things", items: [{ plugin_id: ids.bad, name: "A check that fails" }, { plugin_id: ids.host, name: "This host" }] },
      ],
      announcements: [{ title: "Planned router swap", body: "Expect a short outage on Monday." }],
    },
  });
  expect(r.status(), await r.text()).toBe(201);
});

const PAGES: { name: string; path: () => string; ready?: (page: Page) => Promise<void> }[] = [
  { name: "dashboard", path: () => "/", ready: (p) => expect(p.locator("article.plugin-card").first()).toBeVisible() },
  { name: "plugin detail", path: () => `/plugins/${ids.ok}`, ready: (p) => expect(p.locator("table.table tbody tr").first()).toBeVisible() },
  { name: "host", path: () => `/plugins/${ids.host}`, ready: (p) => expect(p.getByRole("region", { name: "Overview" })).toBeVisible() },
  { name: "failing plugin", path: () => `/plugins/${ids.bad}`, ready: (p) => expect(p.locator("table.table tbody tr").first()).toBeVisible() },
  { name: "plugin types", path: () => "/plugins/new" },
  { name: "add plugin", path: () => "/plugins/new?type=http", ready: (p) => expect(p.getByRole("button", { name: "Add plugin" })).toBeVisible() },
  { name: "edit plugin", path: () => `/plugins/${ids.ok}/edit`, ready: (p) => expect(p.getByRole("button", { name: /Save/ })).toBeVisible() },
  { name: "incidents", path: () => "/alerts" },
  { name: "rules", path: () => "/alerts/rules", ready: (p) => expect(p.locator("tr[data-rule]").first()).toBeVisible() },
  { name: "add rule", path: () => "/alerts/rules/new", ready: (p) => expect(p.getByRole("button", { name: "Add rule" })).toBeVisible() },
  { name: "silences", path: () => "/alerts/silences", ready: (p) => expect(p.locator("tr[data-silence]").first()).toBeVisible() },
  { name: "channels", path: () => "/alerts/channels", ready: (p) => expect(p.locator("tr[data-channel]").first()).toBeVisible() },
  { name: "channel log", path: () => `/alerts/channels/${ids.channel}` },
  { name: "users", path: () => "/users", ready: (p) => expect(p.locator("table.table tbody tr").first()).toBeVisible() },
  { name: "tokens", path: () => "/tokens", ready: (p) => expect(p.locator("table.table tbody tr").first()).toBeVisible() },
  { name: "maintenance", path: () => "/maintenance" },
  { name: "status pages", path: () => "/status-pages", ready: (p) => expect(p.locator("tr[data-status-page]").first()).toBeVisible() },
  { name: "settings", path: () => "/settings", ready: (p) => expect(p.getByTestId("server-health")).toBeVisible() },
  { name: "not found", path: () => "/no/such/page" },
];

async function settle(page: Page) {
  await expect(page.locator("h1").first()).toBeVisible();
  await expect(page.locator(".state-loading")).toHaveCount(0);
  // Let fonts, charts and transitions finish before measuring.
  await page.evaluate(() => document.fonts.ready.then(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))));
}

async function checkEverywhere(page: Page, path: string, ready?: (page: Page) => Promise<void>) {
  const failures: string[] = [];
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: width < 500 ? 844 : 900 });
    await page.goto(path);
    for (const scheme of SCHEMES) {
      await setScheme(page, scheme);
      if (ready) await ready(page);
      await settle(page);
      const where = `${path} @${width}px ${scheme}`;
      const o = await horizontalOverflow(page);
      if (o.px > 1) failures.push(`${where}: scrolls sideways by ${o.px}px: ${o.culprits.join(", ")}`);
      for (const v of await axeViolations(page)) failures.push(`${where}: axe ${v.impact} ${v.id} (${v.help}):\n    ${v.nodes.join("\n    ")}`);
      if (scheme === "light") {
        for (const h of await headingProblems(page)) failures.push(`${where}: headings: ${h}`);
        if (width < 500) for (const s of await smallTargets(page)) failures.push(`${where}: small target ${s}`);
      }
    }
  }
  expect(failures, failures.join("\n")).toEqual([]);
}

test("sign-in page", async ({ page }) => {
  await checkEverywhere(page, "/", (p) => expect(p.getByRole("heading", { name: "Sign in" })).toBeVisible());
});

test("public status page (signed out)", async ({ page }) => {
  await checkEverywhere(page, "/status/layout", (p) => expect(p.getByRole("heading", { name: "Web check" })).toBeVisible());
});

for (const p of PAGES) {
  test(`${p.name} page`, async ({ page }) => {
    await signIn(page);
    await checkEverywhere(page, p.path(), p.ready);
  });
}

test("the phone menu opens, lists every section and closes on navigation", async ({ page }) => {
  await signIn(page);
  await page.setViewportSize({ width: 360, height: 780 });
  await page.goto("/");
  const menu = page.getByRole("button", { name: "Menu" });
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(page.getByRole("navigation", { name: "Main" })).toBeHidden();
  await menu.click();
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const name of ["Dashboard", "Alerts", "Users", "API tokens", "Settings"]) await expect(nav.getByRole("link", { name })).toBeVisible();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  expect((await horizontalOverflow(page)).px).toBeLessThanOrEqual(1);
  await nav.getByRole("link", { name: "API tokens" }).click();
  await expect(page.getByRole("heading", { name: "API tokens", level: 1 })).toBeVisible();
  await expect(menu).toHaveAttribute("aria-expanded", "false");
});

test("honest state and charts: a failed first run says so; charts have a legend and zoom by drag", async ({ page }) => {
  await signIn(page);
  await page.goto("/");
  const broken = page.locator("article.plugin-card", { has: page.getByRole("link", { name: "Layout broken check" }) });
  await expect(broken.getByText("No data yet: the first run failed.")).toBeVisible();
  await expect(broken.locator(".kv-values")).toHaveCount(0);

  await page.goto(`/plugins/${ids.ok}`);
  const chart = page.locator(".timechart").first();
  await expect(chart.locator("canvas")).toBeVisible();
  await expect(page.locator(".u-legend").first()).toBeVisible();
  // the up/down series is a state band with its own short chart
  await expect(page.locator(".timechart-bool").first()).toBeVisible();
  const box = (await chart.locator(".u-over").boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  const reset = page.getByRole("button", { name: "Reset zoom" });
  await expect(reset).toBeVisible();
  await reset.click();
  await expect(reset).toHaveCount(0);
});

test("a host page opens with an overview: key values with units, disks as bars", async ({ page }) => {
  await signIn(page);
  await page.goto(`/plugins/${ids.host}`);
  const overview = page.getByRole("region", { name: "Overview" });
  await expect(overview).toBeVisible();
  await expect(overview.locator(".host-tile", { hasText: "CPU" }).locator(".host-value")).toHaveText(/^\d+(\.\d+)?%$/);
  await expect(overview.locator(".host-tile", { hasText: "Memory" })).toContainText(/B of .*B/);
  await expect(overview.locator(".host-tile", { hasText: "Uptime" }).locator(".host-value")).toHaveText(/^[\d.]+ (s|min|h|d)$/);
  await expect(overview.getByRole("meter").first()).toBeVisible();
  await expect(overview.getByRole("heading", { name: "Disks" })).toBeVisible();
  // the charts follow in collapsible groups, and totals are said in the overview, not charted
  await expect(page.locator("details.chart-group > summary", { hasText: "Memory" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Memory percent" })).toBeVisible();
  await expect(page.getByRole("region", { name: /^(Memory|Disk|Swap) total$/ })).toHaveCount(0);
  // the overview comes before the detailed charts
  const [ov, charts] = await Promise.all([overview.boundingBox(), page.getByRole("heading", { name: "Metrics" }).boundingBox()]);
  expect(ov!.y).toBeLessThan(charts!.y);
});

test("a threshold is typed in the metric's units, stored in base units and shown back the same way", async ({ page, request }) => {
  await signIn(page);
  await page.goto("/alerts/rules/new");
  await page.getByRole("textbox", { name: "Name", exact: true }).fill("Layout disk almost full");
  const host = await (await request.get(`/api/v1/plugins/${ids.host}`, { headers: { Authorization: `Bearer ${token}` } })).json();
  await page.getByRole("combobox", { name: "Plugin", exact: true }).selectOption({ label: host.name });
  await page.getByRole("combobox", { name: "Metric", exact: true }).selectOption("disk_free");
  await expect(page.getByText("Unit: bytes")).toBeVisible();
  await page.getByRole("combobox", { name: "Comparison", exact: true }).selectOption("<");
  await page.getByRole("textbox", { name: "Threshold", exact: true }).fill("10 GB");
  await page.getByRole("button", { name: "Add rule" }).click();
  await page.waitForURL(/\/alerts\/rules(\?|$)/);
  const rules = (await (await request.get("/api/v1/alerts/rules", { headers: { Authorization: `Bearer ${token}` } })).json()) as { id: number; name: string; threshold: number }[];
  const rule = rules.find((r) => r.name === "Layout disk almost full")!;
  expect(rule.threshold).toBe(10e9);
  await expect(page.getByRole("row", { name: /Layout disk almost full/ })).toContainText("disk_free < 10 GB");
  await page.goto(`/alerts/rules/${rule.id}/edit`);
  await expect(page.getByRole("textbox", { name: "Threshold", exact: true })).toHaveValue("10 GB");
  await request.delete(`/api/v1/alerts/rules/${rule.id}`, { headers: { Authorization: `Bearer ${token}` } });
});
