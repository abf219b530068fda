// Playwright drives Debian's Chromium (no browser download) against nginx started by e2e/run.sh.
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "e2e",
  testMatch: "**/*.spec.ts",
  outputDir: "test-results/artifacts",
  timeout: 90_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  // The flows start from a fresh instance (first-run setup); the layout checks sign in to the
  // admin the flows created, so they run after them.
  projects: [
    { name: "flows", testMatch: "unity.spec.ts" },
    { name: "layout", testMatch: "layout.spec.ts", dependencies: ["flows"] },
    // After the flows (they need a fresh instance); it signs in as their admin.
    { name: "install", testMatch: "install.spec.ts", dependencies: ["flows"] },
    // After the flows too: the provider's users must not be the instance's first.
    { name: "sso", testMatch: "sso.spec.ts", dependencies: ["flows"] },
    // After the flows: it exports what they built in the UI.
    { name: "config", testMatch: "config.spec.ts", dependencies: ["flows"] },
    // A push monitor's outage end to end (alert to a webhook, the public status page).
    { name: "status", testMatch: "status.spec.ts", dependencies: ["flows"] },
  ],
  use: {
    baseURL: process.env.E2E_BASE_URL ?? "http://127.0.0.1:8080",
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    viewport: { width: 1360, height: 900 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
