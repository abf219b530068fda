// A heartbeat monitor from first call to public outage, through nginx in Chromium: a job reports
// in with curl, then stops; after interval + grace the monitor goes down, a health rule fires to a
// real webhook (a loopback HTTP server this test starts, reached through Apprise's json://), and
// the published status page shows the outage in today's bar. axe-core checks the page, and its
// password prompt, for serious and critical violations.
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { adminToken, axeViolations } from "./helpers";

type Notice = { title?: string; message?: string; type?: string };

/** A webhook receiver on 127.0.0.1: records every JSON body POSTed to it. */
async function webhook(): Promise<{ server: Server; url: string; notices: Notice[] }> {
  const notices: Notice[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      try {
        notices.push(JSON.parse(body) as Notice);
      } catch {
        notices.push({ message: body });
      }
      res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `json://127.0.0.1:${port}/hook`, notices };
}

async function post(request: APIRequestContext, token: string, path: string, data: unknown): Promise<{ id: number } & Record<string, unknown>> {
  const r = await request.post(path, { data, headers: { Authorization: `Bearer ${token}` } });
  expect(r.status(), await r.text()).toBe(201);
  return (await r.json()) as { id: number };
}

test("a push monitor that stops reporting goes down, alerts a webhook and shows on the status page", async ({ page, request, baseURL, browser }) => {
  test.setTimeout(240_000);
  const hook = await webhook();
  try {
    const token = await adminToken(request);
    const auth = { Authorization: `Bearer ${token}` };
    // Expected every 10 s with 2 s grace, checked every 2 s.
    const monitor = await post(request, token, "/api/v1/plugins", {
      name: "Nightly backup (e2e)",
      type: "push",
      config: { heartbeat_interval_seconds: 10, grace_seconds: 2 },
      interval_seconds: 2,
    });
    const channel = await post(request, token, "/api/v1/channels", { name: "E2E webhook", url: hook.url, send_resolved: false });
    await post(request, token, "/api/v1/alerts/rules", {
      name: "Backup stopped reporting",
      kind: "health",
      plugin_id: monitor.id,
      for_seconds: 0,
      keep_firing_seconds: 0,
      severity: "critical",
      channel_ids: [channel.id],
    });
    await post(request, token, "/api/v1/status-pages", {
      slug: "e2e-backups",
      title: "Backups",
      description: "Whether the nightly jobs report in.",
      published: true,
      groups: [{ name: "Jobs", items: [{ plugin_id: monitor.id, name: "Nightly backup", key: "nightly" }] }],
    });

    // The job reports in with curl, through nginx, as a crontab line would.
    const push = await request.get(`/api/v1/plugins/${monitor.id}/push-token`, { headers: auth });
    expect(push.status(), await push.text()).toBe(200);
    const pushUrl = `${baseURL}${((await push.json()) as { url_path: string }).url_path}`;
    for (let i = 0; i < 3; i++) {
      const out = execFileSync("curl", ["-fsS", `${pushUrl}?status=up&msg=backup%20done&ping=${40 + i}`], { encoding: "utf8" });
      expect(JSON.parse(out)).toEqual({ ok: true });
      await new Promise((r) => setTimeout(r, 1000));
    }
    const health = async () => ((await (await request.get(`/api/v1/plugins/${monitor.id}/health`, { headers: auth })).json()) as { status: string }).status;
    await expect.poll(health, { timeout: 15_000 }).toBe("healthy");

    // Then it stops: after 10 s + 2 s without a call the monitor is down.
    await expect.poll(health, { timeout: 60_000, intervals: [1000] }).toBe("down");
    // The rule fires and the webhook hears it.
    await expect
      .poll(() => hook.notices.some((n) => /FIRING/.test(n.title ?? "") && /Backup stopped reporting/.test(`${n.title} ${n.message}`)), { timeout: 60_000 })
      .toBe(true);

    // The public page, signed out, in Chromium through nginx: down now, and today's bar shows it.
    const today = new Date().toISOString().slice(0, 10);
    await page.goto("/status/e2e-backups");
    await expect(page.getByRole("heading", { name: "Backups", level: 1 })).toBeVisible();
    const row = page.locator('li[data-monitor="nightly"]');
    await expect(row.locator('[data-status="down"]')).toBeVisible();
    await expect(page.locator(".status-overall")).toHaveText("Some systems are down");
    const todayBar = row.locator(`.uptime-day[data-date="${today}"]`);
    await expect(async () => {
      await page.reload();
      await expect(todayBar).toHaveAttribute("aria-label", /down [1-9]/, { timeout: 2000 });
      await expect(todayBar).toHaveClass(/uptime-(bad|major|minor)/, { timeout: 1000 });
    }).toPass({ timeout: 120_000, intervals: [5000] });
    // The page says nothing of the plugin's setup: no push token, no plugin id in what it fetched.
    const view = await (await request.get("/api/v1/public/status/e2e-backups")).text();
    expect(view).not.toContain(pushUrl.split("/").pop()!);
    expect(view).not.toContain('"plugin_id"');

    expect(await axeViolations(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: "dark" });
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: "test-results/status-page-outage.png", fullPage: true });

    // Behind a password, the same page first asks for it; the prompt passes axe too.
    const pages = (await (await request.get("/api/v1/status-pages", { headers: auth })).json()) as { id: number; slug: string }[];
    const id = pages.find((p) => p.slug === "e2e-backups")!.id;
    const locked = await request.patch(`/api/v1/status-pages/${id}`, { data: { password: "family-secret-1" }, headers: auth });
    expect(locked.status(), await locked.text()).toBe(200);
    // A new visitor (a fresh browser: the public answer above may stay in a cache for 30 s).
    const visitor = await browser.newPage({ baseURL });
    await visitor.goto("/status/e2e-backups");
    await expect(visitor.getByRole("heading", { name: "This status page is protected" })).toBeVisible();
    expect(await axeViolations(visitor)).toEqual([]);
    await visitor.getByLabel("Password").fill("not-the-password");
    await visitor.getByRole("button", { name: "Open the page" }).click();
    await expect(visitor.getByRole("alert")).toHaveText("That password does not open this status page.");
    await visitor.getByLabel("Password").fill("family-secret-1");
    await visitor.getByRole("button", { name: "Open the page" }).click();
    await expect(visitor.getByRole("heading", { name: "Backups", level: 1 })).toBeVisible();
    await visitor.close();
  } finally {
    hook.server.close();
  }
});
