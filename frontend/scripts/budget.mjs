// Frontend budgets: initial JavaScript (gzipped, as nginx serves it) ≤ 250 KB, and the dashboard
// with 50 plugin instances interactive within 1.5 s in headless Chromium (through e2e/run.sh's
// real stack). Prints the figures and rewrites the "## Frontend budgets" section of docs/BENCHMARKS.md.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const JS_BUDGET_KB = 250;
const TTI_BUDGET_MS = 1500;

if (!existsSync(join(dist, "index.html")) || process.argv.includes("--build")) {
  execFileSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
}

// Initial JS = the entry script plus every modulepreload the HTML asks for up front.
const html = readFileSync(join(dist, "index.html"), "utf8");
const srcs = [...html.matchAll(/<script[^>]+src="([^"]+\.js)"/g), ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g)].map((m) => m[1]);
let raw = 0;
let gz = 0;
for (const src of new Set(srcs)) {
  const buf = readFileSync(join(dist, src.replace(/^\//, "")));
  raw += buf.length;
  gz += gzipSync(buf, { level: 6 }).length; // nginx.conf: gzip_comp_level 6
}
const gzKB = gz / 1024;
console.log(`initial JS: ${(raw / 1024).toFixed(1)} KB raw, ${gzKB.toFixed(1)} KB gzipped (budget ${JS_BUDGET_KB} KB) in ${srcs.length} file(s)`);

const loadBefore = loadavg()[0];
let tti = null;
let ttiNote = "";
if (!process.argv.includes("--size-only")) {
  const dir = mkdtempSync(join(tmpdir(), "unity-budget-"));
  const out = join(dir, "tti.json");
  const r = spawnSync("bash", [join(root, "e2e/run.sh"), "--exec", "node", join(root, "scripts/budget-tti.mjs"), out], {
    cwd: root,
    stdio: "inherit",
  });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    console.error("budget: the dashboard measurement failed");
    process.exit(1);
  }
  if (existsSync(out)) tti = JSON.parse(readFileSync(out, "utf8"));
  else ttiNote = "not measured: the e2e stack was skipped (see the message above for what to install)";
  rmSync(dir, { recursive: true, force: true });
}
if (tti) {
  console.log(`dashboard TTI with ${tti.instances} plugins: median ${tti.median} ms, best ${tti.best} ms, worst ${tti.worst} ms over ${tti.runs.length} runs (budget ${TTI_BUDGET_MS} ms)`);
}

const ok = gzKB <= JS_BUDGET_KB && (!tti || tti.median <= TTI_BUDGET_MS);
const cpu = cpus()[0]?.model?.trim() ?? "unknown CPU";
const chromium = (() => {
  try {
    return execFileSync(process.env.CHROMIUM_PATH || "/usr/bin/chromium", ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "Chromium (version unknown)";
  }
})();
const lines = [
  "## Frontend budgets",
  "",
  `Measured by \`cd frontend && npm run budget\` on ${new Date().toISOString().slice(0, 10)} (${cpus().length} × ${cpu}, Node ${process.version}, ${chromium}; 1-min load average ${loadBefore.toFixed(1)} before the run, so other work shared the 2 cores).`,
  "",
  "| budget | limit | measured | result |",
  "|---|---|---|---|",
  `| initial JavaScript, gzipped (level 6, as nginx serves it) | ≤ ${JS_BUDGET_KB} KB | ${gzKB.toFixed(1)} KB (${(raw / 1024).toFixed(1)} KB raw) | ${gzKB <= JS_BUDGET_KB ? "pass" : "FAIL"} |`,
  tti
    ? `| dashboard interactive with ${tti.instances} plugin instances, headless Chromium | ≤ ${TTI_BUDGET_MS} ms | median ${tti.median} ms (best ${tti.best}, worst ${tti.worst}; ${tti.runs.length} cold-cache runs) | ${tti.median <= TTI_BUDGET_MS ? "pass" : "FAIL"} |`
    : `| dashboard interactive with 50 plugin instances | ≤ ${TTI_BUDGET_MS} ms | ${ttiNote || "not measured (--size-only)"} | — |`,
  "",
  "How the dashboard figure is taken: `e2e/run.sh` starts a fresh PostgreSQL database, the real backend and the",
  "project's `nginx.conf` serving `dist/`; the script creates 50 `http` plugins against a loopback server and waits",
  "until all are healthy. Each run opens a new browser context (empty cache) with a stored session and measures,",
  "from navigation start, the moment all 50 cards show a value and the main thread has returned to the event loop",
  "(or the end of any long task overlapping that moment, if later). Typing in the search box is then checked to respond.",
  "",
];
if (tti) {
  lines.push("| run | interactive (ms) | cards rendered (ms) | API answers done (ms) | DOMContentLoaded (ms) | long tasks | search responds (ms) |", "|---|---|---|---|---|---|---|");
  tti.runs.forEach((r, i) => lines.push(`| ${i + 1} | ${r.tti} | ${r.cardsReady} | ${r.apiDone} | ${r.domContentLoaded} | ${r.longTasks} | ${r.filterMs} |`));
  lines.push("");
}
const section = lines.join("\n");

const bench = join(root, "..", "docs", "BENCHMARKS.md");
let doc = existsSync(bench) ? readFileSync(bench, "utf8") : "# Benchmarks\n\n";
const start = doc.search(/^## Frontend budgets[ \t]*$/m);
if (start >= 0) {
  const rest = doc.slice(start + 1);
  const next = rest.search(/^## /m);
  const end = next >= 0 ? start + 1 + next : doc.length;
  doc = doc.slice(0, start) + section + "\n" + doc.slice(end).replace(/^\n+/, "");
} else {
  doc = doc.replace(/\n*$/, "\n\n") + section;
}
if (!process.argv.includes("--no-write")) {
  writeFileSync(bench, doc.replace(/\n*$/, "\n"));
  console.log(`wrote the "## Frontend budgets" section of ${bench}`);
}
if (!ok) {
  console.error("budget: OVER BUDGET");
  process.exit(1);
}
