// The installable app through nginx: the manifest and its icons, the theme colour, and the
// service worker's offline shell (it keeps the shell only, never API data; the UI says offline).
import { expect, test } from "@playwright/test";
import { adminToken, signIn } from "./helpers";

test("the manifest and its icons are served with the types browsers need", async ({ request }) => {
  const r = await request.get("/manifest.webmanifest");
  expect(r.headers()["content-type"]).toBe("application/manifest+json");
  const manifest = (await r.json()) as { display: string; start_url: string; icons: { src: string; type: string; purpose: string }[] };
  expect(manifest.display).toBe("standalone");
  expect(manifest.start_url).toBe("/");
  expect(manifest.icons.some((i) => i.purpose === "maskable" && i.type === "image/png")).toBe(true);
  for (const icon of manifest.icons) {
    const got = await request.get(icon.src);
    expect(got.status(), icon.src).toBe(200);
    expect(got.headers()["content-type"], icon.src).toContain(icon.type);
  }
  expect((await request.get("/sw.js")).headers()["cache-control"]).toBe("no-cache");
});

test("the shell opens offline and says so; the worker keeps no API data", async ({ page, context, request }) => {
  await adminToken(request);
  await signIn(page);
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto("/");
  await expect(page.locator('meta[name="theme-color"]').first()).toHaveAttribute("content", "#151b24");
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await page.reload(); // now under the worker's control
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();

  const cached = await page.evaluate(async () => {
    const paths: string[] = [];
    for (const name of await caches.keys()) {
      for (const req of await (await caches.open(name)).keys()) paths.push(new URL(req.url).pathname);
    }
    return paths;
  });
  expect(cached).toContain("/index.html");
  expect(cached.some((p) => p.startsWith("/assets/") && p.endsWith(".js"))).toBe(true);
  expect(cached.filter((p) => /^\/(api|ws|health|docs)/.test(p))).toEqual([]);

  await context.setOffline(true);
  try {
    await page.reload();
    await expect(page.getByTestId("offline-banner")).toBeVisible();
    await expect(page.getByTestId("offline-banner")).toContainText("You are offline");
  } finally {
    await context.setOffline(false);
  }
});
