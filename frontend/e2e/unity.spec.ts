// The user journey in a real browser through nginx: first-run setup → login → add an http
// plugin → healthy card with a live value → its chart → disable → delete; plus screenshots.
import { expect, test, type Page } from "@playwright/test";
import { horizontalOverflow, NOTIFY, PASSWORD, TARGET } from "./helpers";

const PLUGIN = "E2E target";

/** A form control by its accessible name (the required "*" is aria-hidden, so not part of it). */
function field(page: Page, name: string) {
  return page.getByRole("textbox", { name, exact: true });
}

function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    const t = m.text();
    if (m.type() === "error" && /Content.Security.Policy|Refused to/i.test(t)) problems.push(t);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  return problems;
}

test.describe.configure({ mode: "serial" });

test("setup, login, add a plugin, watch it live, chart, disable, delete", async ({ page }) => {
  const problems = watchConsole(page);

  // First run: the app offers setup.
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Welcome to Unity" })).toBeVisible();
  await field(page, "Admin username").fill("admin");
  await field(page, "Password").fill(PASSWORD);
  await field(page, "Confirm password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account and sign in" }).click();
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();

  // Sign out, then sign in with the new account (a wrong password first).
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await field(page, "Username").fill("admin");
  await field(page, "Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("Wrong username or password");
  await field(page, "Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(page.locator("[data-live-status=open]")).toBeVisible();

  // Add an http plugin pointed at the loopback target; a bad URL first shows an inline error.
  await page.getByRole("link", { name: "+ Add plugin" }).click();
  await page.locator('[data-type="http"]').click();
  await expect(page.getByRole("heading", { name: /Add .* plugin/ })).toBeVisible();
  await field(page, "Name").fill(PLUGIN);
  await page.getByRole("spinbutton", { name: "Interval (seconds)" }).fill("2");
  await page.getByRole("button", { name: "Add plugin" }).click();
  await expect(page.locator(".field-error").first()).toBeVisible();
  await field(page, "URL").fill(TARGET);
  await page.getByRole("button", { name: "Add plugin" }).click();
  await expect(page.getByRole("heading", { name: PLUGIN })).toBeVisible();

  // The dashboard card turns healthy and its value changes without a reload.
  await page.getByRole("link", { name: "Dashboard" }).first().click();
  const card = page.locator("article.plugin-card", { has: page.getByRole("link", { name: PLUGIN }) });
  await expect(card).toHaveAttribute("data-health", "healthy", { timeout: 30_000 });
  const value = card.locator(".kv-value dd").first();
  await expect(value).not.toHaveText("");
  await page.evaluate(() => ((window as unknown as { __noReload: number }).__noReload = 1));
  const before = await value.innerText();
  await expect(value).not.toHaveText(before, { timeout: 30_000 });
  expect(await page.evaluate(() => (window as unknown as { __noReload?: number }).__noReload)).toBe(1);
  await expect(card.locator(".sparkline canvas")).toBeVisible();

  // Screenshots of the dashboard in both themes (the app follows the OS setting).
  await page.emulateMedia({ colorScheme: "light" });
  await page.waitForTimeout(300);
  await page.screenshot({ path: "test-results/dashboard-light.png", fullPage: true });
  await page.emulateMedia({ colorScheme: "dark" });
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.waitForTimeout(300);
  await page.screenshot({ path: "test-results/dashboard-dark.png", fullPage: true });
  await page.emulateMedia({ colorScheme: "light" });

  // Its chart, on a longer range too.
  await card.getByRole("link", { name: PLUGIN }).click();
  await expect(page.getByTestId("plugin-detail")).toBeVisible();
  await expect(page.locator(".timechart canvas").first()).toBeVisible();
  await expect(page.locator("table.table tbody tr").first()).toBeVisible();
  await page.waitForTimeout(2500); // let a live sample or two land on the chart
  await page.screenshot({ path: "test-results/plugin-detail.png", fullPage: true });
  await page.getByRole("button", { name: "24 h" }).click();
  await expect(page.getByRole("button", { name: "24 h" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator(".timechart canvas").first()).toBeVisible();

  // Disable, with confirmation.
  await page.getByRole("button", { name: "Disable" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Disable" }).click();
  await expect(page.locator(".page-head .badge")).toHaveText(/Disabled/);
  await expect(page.getByRole("button", { name: "Enable" })).toBeVisible();

  // Delete, with confirmation: back on the dashboard without the card.
  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete plugin" }).click();
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(page.getByRole("link", { name: PLUGIN })).toHaveCount(0);

  expect(problems, problems.join("\n")).toEqual([]);
});

test("phone width and deep links work through nginx", async ({ page, request }) => {
  // History fallback and caching headers from nginx.conf.
  const deep = await request.get("/plugins/12345");
  expect(deep.status()).toBe(200);
  expect(deep.headers()["cache-control"]).toBe("no-cache");
  expect(deep.headers()["content-security-policy"]).toContain("connect-src 'self'");
  const html = await deep.text();
  const asset = /\/assets\/[^"]+\.js/.exec(html)![0];
  const js = await request.get(asset, { headers: { "Accept-Encoding": "gzip" } });
  expect(js.headers()["cache-control"]).toContain("immutable");
  expect(js.headers()["content-encoding"]).toBe("gzip");
  expect((await request.get("/assets/missing.js")).status()).toBe(404);

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/");
  await field(page, "Username").fill("admin");
  await field(page, "Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  expect((await horizontalOverflow(page)).px).toBeLessThanOrEqual(1);
  await page.screenshot({ path: "test-results/dashboard-phone.png", fullPage: true });
  // The navigation folds behind the Menu button at phone width.
  await expect(page.getByRole("link", { name: "Settings" })).toBeHidden();
  await page.getByRole("button", { name: "Menu" }).click();
  await page.getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("button", { name: "Menu" })).toHaveAttribute("aria-expanded", "false");
  await expect(page.getByTestId("server-health")).toContainText("status");
});

const RECEIVER = TARGET.replace(/\/$/, "");

async function received(request: import("@playwright/test").APIRequestContext): Promise<{ title?: string }[]> {
  return (await (await request.get(`${RECEIVER}/__notifications`)).json()) as { title?: string }[];
}

async function shoot(page: Page, name: string) {
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await expect(page.locator("html")).toHaveAttribute("data-theme", scheme);
    await page.waitForTimeout(150);
    await page.screenshot({ path: `test-results/${name}-${scheme}.png`, fullPage: true });
  }
  await page.emulateMedia({ colorScheme: "light" });
}

/** Signs in as admin; when a test runs alone (`-g ...`) the first-run setup is still open. */
async function signIn(page: Page) {
  await page.goto("/");
  const setup = page.getByRole("heading", { name: "Welcome to Unity" });
  await expect(setup.or(page.getByRole("heading", { name: "Sign in" }))).toBeVisible();
  if (await setup.isVisible()) {
    await field(page, "Admin username").fill("admin");
    await field(page, "Password").fill(PASSWORD);
    await field(page, "Confirm password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account and sign in" }).click();
  } else {
    await field(page, "Username").fill("admin");
    await field(page, "Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
  }
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
}

test("alerts: a channel gets a test, a health rule fires and shows as an incident", async ({ page, request }) => {
  const problems = watchConsole(page);
  await signIn(page);

  // A plugin to watch (through the API: the UI flow for plugins is covered above).
  // The session is an HttpOnly cookie: nothing in storage, nothing in document.cookie.
  expect(await page.evaluate(() => JSON.stringify(localStorage))).toBe("{}");
  expect(await page.evaluate(() => document.cookie)).not.toContain("unity_session");
  const cookies = await page.context().cookies();
  expect(cookies.find((c) => c.name === "unity_session")).toMatchObject({ httpOnly: true, sameSite: "Lax" });
  // page.request shares the browser's cookies; a write without the CSRF header is refused.
  const forged = await page.request.post("/api/v1/plugins", { data: { name: "forged", type: "http", config: { url: TARGET } } });
  expect(forged.status()).toBe(403);
  const headers = { "X-CSRF-Token": cookies.find((c) => c.name === "unity_csrf")?.value ?? "" };
  const created = await page.request.post("/api/v1/plugins", {
    headers,
    data: { name: "Alert target", type: "http", config: { url: TARGET }, interval_seconds: 1, timeout_seconds: 1 },
  });
  expect(created.status(), await created.text()).toBe(201);

  // Empty states say what to do.
  await page.getByRole("link", { name: "Alerts" }).click();
  await expect(page.getByRole("heading", { name: "Alerts" })).toBeVisible();
  await expect(page.getByText("No incidents yet")).toBeVisible();

  // A channel pointing at the loopback receiver; "Send test" reaches it.
  await page.getByRole("navigation", { name: "Alerts sections" }).getByRole("link", { name: "Channels" }).click();
  await expect(page.getByText("No channels yet")).toBeVisible();
  await page.getByRole("button", { name: "+ Add channel" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Name").fill("E2E receiver");
  // A guided form per service builds the URL; "Other" takes an Apprise URL as typed.
  await dialog.getByLabel("Service").selectOption({ label: "Other (Apprise URL)" });
  await dialog.getByLabel("Apprise URL").fill("not a url");
  await dialog.getByRole("button", { name: "Add channel" }).click();
  await expect(dialog.locator(".field-error")).toContainText("scheme");
  await dialog.getByLabel("Apprise URL").fill(NOTIFY);
  // A short group window: what fires within 5 s goes out as one message.
  await dialog.getByLabel("Group window (seconds)").fill("5");
  await dialog.getByRole("button", { name: "Add channel" }).click();
  await expect(dialog).toHaveCount(0);
  await page.getByRole("button", { name: "Send test to E2E receiver" }).click();
  await expect(page.getByTestId("test-result")).toHaveText(/Test sent/);
  await expect.poll(async () => (await received(request)).length).toBeGreaterThan(0);

  // A health rule on the plugin, notifying the channel.
  await page.getByRole("navigation", { name: "Alerts sections" }).getByRole("link", { name: "Rules" }).click();
  await expect(page.getByText("No rules yet")).toBeVisible();
  await page.getByRole("link", { name: "+ Add rule" }).click();
  await page.getByRole("button", { name: "Add rule" }).click();
  await expect(page.locator("#rule-name-error")).toBeVisible(); // client validation
  await page.getByRole("radio", { name: /Health/ }).check();
  await expect(page.getByLabel("Metric", { exact: true })).toHaveCount(0);
  await field(page, "Name").fill("Alert target down");
  await page.getByLabel("Plugin", { exact: true }).selectOption({ label: "Alert target" });
  await page.getByRole("spinbutton", { name: "Down for (seconds)" }).fill("1");
  await page.getByRole("spinbutton", { name: "Keep firing (seconds)" }).fill("0");
  await page.getByRole("combobox", { name: "Severity", exact: true }).selectOption("critical");
  await page.getByRole("checkbox", { name: /E2E receiver/ }).check();
  await page.getByRole("button", { name: "Add rule" }).click();
  await expect(page.locator("tr[data-rule]")).toContainText("Alert target down");

  // Break the target: the plugin goes down, the rule fires, the incident shows and is announced.
  expect((await request.post(`${RECEIVER}/__fail`)).status()).toBe(204);
  await page.getByRole("navigation", { name: "Alerts sections" }).getByRole("link", { name: "Incidents" }).click();
  const firing = page.locator('tr[data-status="firing"]', { hasText: "Alert target down" });
  await expect(firing).toBeVisible({ timeout: 40_000 });
  await expect(firing).toContainText("critical");
  await expect(page.getByTestId("firing-badge")).toContainText("1");
  await expect
    .poll(async () => (await received(request)).some((n) => /FIRING/.test(n.title ?? "")), { timeout: 15_000 })
    .toBe(true);
  await expect(firing).toContainText("notified", { timeout: 20_000 });
  await shoot(page, "alerts-incidents");

  await firing.getByRole("link", { name: "Alert target down" }).click();
  await expect(page.getByTestId("incident-detail")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Notifications" })).toBeVisible();
  await expect(page.locator("tr[data-delivery]").first()).toBeVisible();
  await page.screenshot({ path: "test-results/alerts-incident-light.png", fullPage: true });

  await page.getByRole("navigation", { name: "Alerts sections" }).getByRole("link", { name: "Rules" }).click();
  await expect(page.getByTestId("rule-counts")).toContainText("1 firing");
  await shoot(page, "alerts-rules");

  // A silence for the plugin, with a quick duration.
  await page.getByRole("navigation", { name: "Alerts sections" }).getByRole("link", { name: "Silences" }).click();
  await page.getByRole("button", { name: "+ New silence" }).click();
  await page.getByRole("combobox", { name: "Plugin", exact: true }).selectOption({ label: "Alert target" });
  await page.getByRole("button", { name: "4 h" }).click();
  await expect(page.locator("#sil-end-help")).toHaveText("Lasts 4 h.");
  await page.getByLabel("Comment", { exact: true }).fill("Router firmware upgrade");
  await page.getByRole("button", { name: "Create silence" }).click();
  await expect(page.locator("tr[data-silence]")).toContainText("active");
  await shoot(page, "alerts-silences");

  await page.getByRole("navigation", { name: "Alerts sections" }).getByRole("link", { name: "Channels" }).click();
  await expect(page.locator("tr[data-channel]")).toBeVisible();
  await shoot(page, "alerts-channels");

  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole("navigation", { name: "Alerts sections" }).getByRole("link", { name: "Incidents" }).click();
  await expect(firing).toBeVisible();
  expect((await horizontalOverflow(page)).px).toBeLessThanOrEqual(1);
  await page.screenshot({ path: "test-results/alerts-phone.png", fullPage: true });

  await request.post(`${RECEIVER}/__ok`);
  expect(problems, problems.join("\n")).toEqual([]);
});

test("a field error from the API shows next to the field it names", async ({ page }) => {
  await signIn(page);
  await page.goto("/plugins/new?type=http");
  await field(page, "Name").fill("E2E field error");
  await field(page, "URL").fill(TARGET);
  await page.getByRole("spinbutton", { name: "Interval (seconds)" }).fill("5");
  const timeout = page.getByRole("spinbutton", { name: "Timeout (seconds)" });
  await timeout.fill("10");
  await page.getByRole("button", { name: "Add plugin" }).click();
  await expect(timeout).toHaveAttribute("aria-invalid", "true");
  await expect(timeout).toHaveAccessibleDescription(/interval/i);
  // Nothing was created: the form is still there to fix.
  await expect(page.getByRole("heading", { name: "Add HTTP(S) check plugin" })).toBeVisible();
});

test("API docs work without internet and robots are turned away, through nginx", async ({ page, request }) => {
  const robots = await request.get("/robots.txt");
  expect(robots.status()).toBe(200);
  expect(robots.headers()["content-type"]).toContain("text/plain");
  expect(await robots.text()).toBe("User-agent: *\nAllow: /status/\nDisallow: /\n");

  const problems = watchConsole(page);
  const foreign: string[] = [];
  const origin = new URL(page.url() === "about:blank" ? (process.env.E2E_BASE_URL ?? "http://127.0.0.1:8080") : page.url()).origin;
  // Everything the docs need comes from this server. ReDoc's bundle also links a "powered by"
  // logo image from its maker's site: the CSP refuses it and nothing depends on it.
  const REDOC_LOGO = /^https:\/\/cdn\.redoc\.ly\/redoc\/logo-mini\.svg$/;
  page.on("request", (r) => {
    const url = r.url();
    if (url.startsWith(origin) || url.startsWith("blob:") || url.startsWith("data:")) return;
    if (r.resourceType() === "image" && REDOC_LOGO.test(url)) return;
    foreign.push(`${r.resourceType()} ${url}`);
  });
  await page.goto("/docs");
  await expect(page.locator(".swagger-ui .info .title")).toContainText("Unity");
  await expect(page.locator(".opblock").first()).toBeVisible();
  await page.goto("/redoc");
  await expect(page.getByRole("heading", { name: /Unity/ }).first()).toBeVisible();
  expect(foreign, foreign.join("\n")).toEqual([]);
  const real = problems.filter((p) => !/cdn\.redoc\.ly\/redoc\/logo-mini\.svg/.test(p));
  expect(real, real.join("\n")).toEqual([]);
});
