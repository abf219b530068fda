// Shared e2e helpers: an admin token and a browser session through the API, theme switching, and the page checks the
// layout spec runs everywhere (horizontal overflow, axe-core, headings).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { expect, type APIRequestContext, type Page } from "@playwright/test";

export const PASSWORD = "correct-horse-battery";
export const TARGET = process.env.E2E_TARGET_URL ?? "http://127.0.0.1:9/";
/** The Apprise URL of the test receiver that notification channels send to. */
export const NOTIFY = process.env.E2E_NOTIFY_URL ?? "json://127.0.0.1:9/notify";

/** Creates the first admin when the instance is fresh, then logs in; answers the bearer token. */
export async function adminToken(request: APIRequestContext): Promise<string> {
  const setup = await request.post("/api/v1/auth/setup", { data: { username: "admin", password: PASSWORD } });
  expect([200, 201, 409], await setup.text()).toContain(setup.status());
  const login = await request.post("/api/v1/auth/login", { form: { username: "admin", password: PASSWORD } });
  expect(login.status(), await login.text()).toBe(200);
  return ((await login.json()) as { access_token: string }).access_token;
}

/** Signs the page's browser in as admin: the HttpOnly session cookie the SPA uses (no token in
 * storage). `page.context().request` shares the browser's cookie jar. */
export async function signIn(page: Page): Promise<void> {
  const r = await page.context().request.post("/api/v1/auth/session", { form: { username: "admin", password: PASSWORD } });
  expect(r.status(), await r.text()).toBe(200);
}

/** Follows the OS colour scheme, as the app does without an explicit choice. */
export async function setScheme(page: Page, scheme: "light" | "dark"): Promise<void> {
  await page.emulateMedia({ colorScheme: scheme, reducedMotion: "reduce" });
  await expect(page.locator("html")).toHaveAttribute("data-theme", scheme);
}

/** How far the document scrolls sideways (0 when nothing sticks out). */
export async function horizontalOverflow(page: Page): Promise<{ px: number; culprits: string[] }> {
  return page.evaluate(() => {
    const px = document.documentElement.scrollWidth - window.innerWidth;
    const culprits: string[] = [];
    if (px > 1) {
      for (const el of Array.from(document.body.querySelectorAll<HTMLElement>("*"))) {
        const r = el.getBoundingClientRect();
        if (r.right > window.innerWidth + 1 && r.width > 0) {
          culprits.push(`${el.tagName.toLowerCase()}.${[...el.classList].join(".")} right=${Math.round(r.right)}`);
          if (culprits.length >= 8) break;
        }
      }
    }
    return { px, culprits };
  });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeProblem {
  id: string;
  impact: string | null | undefined;
  help: string;
  nodes: string[];
}

/** axe-core's serious and critical WCAG 2.1 A/AA violations on the page as it is now. */
export async function axeViolations(page: Page): Promise<AxeProblem[]> {
  // Evaluated through the DevTools protocol, so the page's own CSP stays in force for the app.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: { id: string; impact?: string | null; help: string; nodes: { target: unknown[]; failureSummary?: string }[] }[] }> } }).axe;
    const r = await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
      resultTypes: ["violations"],
    });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 6).map((n) => `${n.target.join(" ")} :: ${(n.failureSummary ?? "").replace(/\s+/g, " ").slice(0, 160)}`),
      }));
  });
}

/** The page's headings as levels: exactly one h1, the first heading, and no level skipped going down. */
export async function headingProblems(page: Page): Promise<string[]> {
  const levels = await page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>("h1, h2, h3, h4, h5, h6, [role=heading]")]
      .filter((h) => h.offsetParent !== null || getComputedStyle(h).position === "fixed")
      .map((h) => ({ level: Number(h.getAttribute("aria-level") ?? h.tagName.slice(1)), text: (h.textContent ?? "").trim().slice(0, 40) })),
  );
  const problems: string[] = [];
  const h1s = levels.filter((h) => h.level === 1).length;
  if (h1s !== 1) problems.push(`${h1s} h1 elements (want exactly one)`);
  if (levels.length && levels[0].level !== 1) problems.push(`first heading is h${levels[0].level} "${levels[0].text}"`);
  for (let i = 1; i < levels.length; i++) {
    if (levels[i].level > levels[i - 1].level + 1)
      problems.push(`h${levels[i - 1].level} "${levels[i - 1].text}" is followed by h${levels[i].level} "${levels[i].text}"`);
  }
  return problems;
}

/** Interactive controls in the page smaller than `min` px in either direction (touch targets). */
export async function smallTargets(page: Page, min = 44): Promise<string[]> {
  return page.evaluate((m) => {
    const sel = "button, .btn, .nav a, .tab, select, input:not([type=checkbox]):not([type=radio]), .segmented button";
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll<HTMLElement>(sel))) {
      const r = el.getBoundingClientRect();
      // Charts are exempt (WCAG 2.5.8's "essential" presentation): the uPlot legend, and the 90-day
      // uptime bar, whose days are one tab stop with arrow keys and whose details show as text.
      if (r.width === 0 || r.height === 0 || el.closest(".sr-only, .skip-link, .u-legend, .uplot, .uptime-bar")) continue;
      if (r.height < m - 0.5 || r.width < m - 0.5) out.push(`${el.tagName.toLowerCase()}.${[...el.classList].join(".")} "${(el.textContent ?? "").trim().slice(0, 24)}" ${Math.round(r.width)}×${Math.round(r.height)}`);
    }
    return out;
  }, min);
}
