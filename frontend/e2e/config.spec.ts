// Configuration as code round-trips with the UI: what the flows built in the browser (plus one
// more plugin added here), downloaded from Settings → Configuration, applied to an empty
// instance with the CLI and exported there again, is the same file byte for byte; and a dry
// run of it, in the UI and on the new instance, has nothing to do.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect, test } from "@playwright/test";
import { signIn, TARGET } from "./helpers";

const BACKEND = resolve(import.meta.dirname, "../../backend");

/** `python -m app ARGS` on its own SQLite instance in `dataDir`, with only `env` added. */
function unity(dataDir: string, env: Record<string, string>, ...args: string[]): string {
  const run = spawnSync(join(BACKEND, ".venv/bin/python"), ["-m", "app", ...args], {
    cwd: BACKEND,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LANG: "C.UTF-8", DATA_DIR: dataDir, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(run.status, `python -m app ${args.join(" ")}:\n${run.stdout}\n${run.stderr}`).toBe(0);
  return run.stdout;
}

test("a configuration built in the UI exports, applies to an empty instance and exports the same", async ({ page }) => {
  await signIn(page);
  // One more object, typed in the form (the flows made a channel and rules the same way).
  await page.goto("/plugins/new?type=tcp");
  await page.getByRole("textbox", { name: "Name", exact: true }).fill("Round-trip port");
  await page.getByRole("textbox", { name: "Host", exact: true }).fill("127.0.0.1");
  await page.getByRole("spinbutton", { name: "Port", exact: true }).fill(new URL(TARGET).port);
  await page.getByRole("spinbutton", { name: "Timeout (seconds)" }).fill("2.5");
  await page.getByRole("button", { name: "Add plugin" }).click();
  await page.waitForURL(/\/plugins\/\d+$/);

  await page.goto("/settings/configuration");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download unity.yaml" }).click()]);
  const exported = readFileSync((await download.path())!, "utf8");
  expect(exported).toContain("name: Round-trip port");
  expect(exported).toMatch(/timeout_seconds: 2\.5/);

  // The same text, dry-run here: the database already matches it.
  await page.getByLabel("Configuration file (YAML)").fill(exported);
  await page.getByRole("button", { name: "Dry run" }).click();
  await expect(page.getByText("No changes: the database already matches the file.")).toBeVisible();

  // An empty instance. Secrets are ${NAME} references in the file: any value will do, since
  // the export writes the reference again, not the value.
  const dir = mkdtempSync(join(tmpdir(), "unity-roundtrip-"));
  try {
    const names = [...new Set([...exported.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]))];
    expect(names.length).toBeGreaterThan(0); // the flows' channel URL, at least
    const env = Object.fromEntries(names.map((n) => [n, "json://127.0.0.1:9/round-trip"]));
    const file = join(dir, "unity.yaml");
    writeFileSync(file, exported);
    expect(unity(join(dir, "data"), env, "config", "apply", file)).toMatch(/applied \d+ change/);
    const again = unity(join(dir, "data"), {}, "config", "export");
    expect(again).toBe(exported);
    expect(unity(join(dir, "data"), env, "config", "apply", "--dry-run", file)).toContain("no changes");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
