// Screenshots for the README and docs/screenshots/: the dashboard, a host page and the alerts at
// 1440 and 390 px, light and dark, from a real stack with a few plugins collecting for a while.
// Run it through the e2e harness, which starts backend, nginx and a loopback target:
//   npm run build && npm run screenshots
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, request as http } from "@playwright/test";

const BASE = process.env.E2E_BASE_URL;
const TARGET = process.env.E2E_TARGET_URL ?? "http://127.0.0.1:9/";
const NOTIFY = process.env.E2E_NOTIFY_URL ?? "json://127.0.0.1:9/notify";
if (!BASE) {
  console.error("screenshots: run me through the e2e harness: npm run screenshots");
  process.exit(2);
}
const OUT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs", "screenshots");
const WARMUP_MS = Number(process.env.SCREENSHOT_WARMUP_MS ?? 45_000);
const MAX_HEIGHT = 2400;
const PASSWORD = "correct-horse-battery";

const api = await http.newContext({ baseURL: BASE });
await api.post("/api/v1/auth/setup", { data: { username: "admin", password: PASSWORD } });
const login = await api.post("/api/v1/auth/login", { form: { username: "admin", password: PASSWORD } });
if (!login.ok()) throw new Error(`login: ${login.status()} ${await login.text()}`);
const token = (await login.json()).access_token;
const headers = { Authorization: `Bearer ${token}` };
async function post(path, data) {
  const r = await api.post(path, { headers, data });
  if (!r.ok()) throw new Error(`${path}: ${r.status()} ${await r.text()}`);
  return r.json();
}

const existing = await (await api.get("/api/v1/plugins", { headers })).json();
const host = existing.find((p) => p.type === "system") ?? (await post("/api/v1/plugins", { name: "This host", type: "system", config: {}, interval_seconds: 5 }));
// Sample the host often enough that a short warm-up already draws lines.
const faster = await api.patch(`/api/v1/plugins/${host.id}`, { headers, data: { interval_seconds: 5, timeout_seconds: 4 } });
if (!faster.ok()) console.warn(`screenshots: could not speed up "${host.name}": ${await faster.text()}`);
await post("/api/v1/plugins", { name: "NAS web UI", type: "http", config: { url: TARGET }, interval_seconds: 3 });
await post("/api/v1/plugins", { name: "Home Assistant", type: "http", config: { url: TARGET }, interval_seconds: 5 });
await post("/api/v1/plugins", { name: "Printer", type: "tcp", config: { host: "127.0.0.1", port: 9 }, interval_seconds: 10, timeout_seconds: 2 }).catch(() => null);
const router = await post("/api/v1/plugins", { name: "Old router", type: "http", config: { url: "http://127.0.0.1:9/" }, interval_seconds: 10, timeout_seconds: 2 });
const channel = await post("/api/v1/channels", { name: "Phone (ntfy)", url: NOTIFY });
await post("/api/v1/alerts/rules", { name: "Old router down", kind: "health", plugin_id: router.id, severity: "critical", for_seconds: 1, channel_ids: [channel.id] });
await post("/api/v1/alerts/rules", { name: "NAS slow", kind: "threshold", plugin_id: null, metric: "http_response_time", op: ">", threshold: 2000, for_seconds: 60, severity: "warning", channel_ids: [channel.id] }).catch(() => null);
console.log(`screenshots: collecting for ${WARMUP_MS / 1000} s…`);
await new Promise((r) => setTimeout(r, WARMUP_MS));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update"],
});
mkdirSync(OUT, { recursive: true });
const pages = [
  { name: "dashboard", path: "/", ready: "article.plugin-card" },
  { name: "host", path: `/plugins/${host.id}`, ready: ".timechart canvas" },
  { name: "alerts", path: "/alerts", ready: "table.table, .state-empty" },
];
for (const width of [1440, 390]) {
  const context = await browser.newContext({ viewport: { width, height: width > 500 ? 900 : 844 }, deviceScaleFactor: 1 });
  // The SPA signs in to an HttpOnly session cookie; the context's request shares its cookie jar.
  await context.request.post(BASE + "/api/v1/auth/session", { form: { username: "admin", password: PASSWORD } });
  const page = await context.newPage();
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme, reducedMotion: "reduce" });
    for (const p of pages) {
      await page.goto(BASE + p.path);
      await page.locator(p.ready).first().waitFor({ timeout: 30_000 });
      await page.locator(".state-loading").first().waitFor({ state: "detached", timeout: 30_000 }).catch(() => null);
      await page.waitForTimeout(1200);
      const height = await page.evaluate(() => globalThis.document.documentElement.scrollHeight);
      const file = join(OUT, `${p.name}-${width}-${scheme}.png`);
      await page.screenshot({ path: file, fullPage: true, clip: { x: 0, y: 0, width, height: Math.min(height, MAX_HEIGHT) } });
      console.log(`screenshots: ${file}`);
    }
  }
  await context.close();
}
await browser.close();
await api.dispose();
