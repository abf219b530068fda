#!/usr/bin/env bash
# Lighthouse in Debian's Chromium, through the project's nginx config: the sign-in page and the
# signed-in dashboard (mobile, simulated throttling) and a published status page (desktop
# preset, issue 19). Run from frontend/ after `npm run build`, through the e2e harness:
#   bash e2e/run.sh --exec bash ../bench/lighthouse.sh
# Lighthouse is pinned to 12.2.3 (13 wants Node 22) and fetched by npx on first use.
set -euo pipefail
: "${E2E_BASE_URL:?run me through the e2e harness: bash e2e/run.sh --exec bash ../bench/lighthouse.sh}"
# LIGHTHOUSE_OUT=DIR keeps the reports (signin.json, status.json, dashboard.json) there.
OUT="${LIGHTHOUSE_OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
curl -fsS -X POST "$E2E_BASE_URL/api/v1/auth/setup" -H 'Content-Type: application/json' \
  -d '{"username":"admin","password":"correct-horse-battery"}' >/dev/null  # so the page is sign-in
CHROME_PATH=/usr/bin/chromium npx -y lighthouse@12.2.3 "$E2E_BASE_URL/" --quiet \
  --chrome-flags="--headless=new --no-sandbox --disable-gpu" --output=json \
  --output-path="$OUT/signin.json" --only-categories=performance,accessibility,best-practices,seo
node -e '
const r = require(process.argv[1]);
const cats = Object.values(r.categories).map((c) => `${c.id} ${Math.round(c.score * 100)}`).join(", ");
const a = (k) => r.audits[k].displayValue;
console.log(`sign-in page: ${cats} | FCP ${a("first-contentful-paint")}, LCP ${a("largest-contentful-paint")}, TBT ${a("total-blocking-time")}`);
console.log(`load average: ${require("os").loadavg().map((x) => x.toFixed(2)).join(" ")}`);
' "$OUT/signin.json"

# A published status page with two monitors (push monitors: nothing to reach) and a note.
TOKEN="$(curl -fsS -X POST "$E2E_BASE_URL/api/v1/auth/login" -d 'username=admin&password=correct-horse-battery' | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')"
AUTH="Authorization: Bearer $TOKEN"
ids=()
for name in "Nightly backup" "Photo sync"; do
  ids+=("$(curl -fsS -X POST "$E2E_BASE_URL/api/v1/plugins" -H "$AUTH" -H 'Content-Type: application/json' \
    -d "{\"name\": \"lh $name\", \"type\": \"push\", \"config\": {\"heartbeat_interval_seconds\": 3600}}" | node -pe 'JSON.parse(require("fs").readFileSync(0)).id')")
done
curl -fsS -X POST "$E2E_BASE_URL/api/v1/status-pages" -H "$AUTH" -H 'Content-Type: application/json' -d "{
  \"slug\": \"lighthouse\", \"title\": \"Home lab status\", \"description\": \"What works at home.\", \"published\": true,
  \"groups\": [{\"name\": \"Jobs\", \"items\": [{\"plugin_id\": ${ids[0]}, \"name\": \"Nightly backup\"}, {\"plugin_id\": ${ids[1]}, \"name\": \"Photo sync\"}]}],
  \"announcements\": [{\"title\": \"New router on Monday\", \"body\": \"Expect a short outage.\"}]}" >/dev/null
CHROME_PATH=/usr/bin/chromium npx -y lighthouse@12.2.3 "$E2E_BASE_URL/status/lighthouse" --quiet --preset=desktop \
  --chrome-flags="--headless=new --no-sandbox --disable-gpu" --output=json \
  --output-path="$OUT/status.json" --only-categories=performance,accessibility,best-practices,seo
node -e '
const r = require(process.argv[1]);
const cats = Object.values(r.categories).map((c) => `${c.id} ${Math.round(c.score * 100)}`).join(", ");
const a = (k) => r.audits[k].displayValue;
console.log(`status page (desktop): ${cats} | FCP ${a("first-contentful-paint")}, LCP ${a("largest-contentful-paint")}, TBT ${a("total-blocking-time")}`);
const failed = Object.values(r.audits).filter((x) => x.score !== null && x.score < 0.9 && x.scoreDisplayMode !== "informative" && x.scoreDisplayMode !== "manual");
for (const x of failed) console.log(`  below 0.9: ${x.id} (${x.score}) ${x.displayValue ?? ""}`);
console.log(`load average: ${require("os").loadavg().map((x) => x.toFixed(2)).join(" ")}`);
' "$OUT/status.json"

# The dashboard, signed in: a Chromium profile gets the session cookies from a real sign-in,
# and Lighthouse runs in that profile without resetting its storage.
PROFILE="$OUT/profile"
node -e '
const { chromium } = require("playwright-core");
(async () => {
  const ctx = await chromium.launchPersistentContext(process.argv[1], { executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });
  const page = await ctx.newPage();
  const r = await page.request.post(`${process.env.E2E_BASE_URL}/api/v1/auth/session`, { form: { username: "admin", password: "correct-horse-battery" } });
  if (r.status() !== 200) throw new Error(`sign-in answered ${r.status()}`);
  await ctx.close(); // no page was loaded: Lighthouse starts with the cookies and a cold cache
})().catch((e) => { console.error(e); process.exit(1); });
' "$PROFILE"
CHROME_PATH=/usr/bin/chromium npx -y lighthouse@12.2.3 "$E2E_BASE_URL/" --quiet --disable-storage-reset \
  --chrome-flags="--headless=new --no-sandbox --disable-gpu --user-data-dir=$PROFILE" --output=json \
  --output-path="$OUT/dashboard.json" --only-categories=performance,accessibility,best-practices,seo
node -e '
const r = require(process.argv[1]);
const cats = Object.values(r.categories).map((c) => `${c.id} ${Math.round(c.score * 100)}`).join(", ");
const a = (k) => r.audits[k].displayValue;
const api = r.audits["network-requests"].details.items.filter((i) => i.url.includes("/api/v1/plugins") && i.statusCode === 200);
if (!api.length) throw new Error("Lighthouse saw the sign-in page, not the dashboard: no signed-in /api/v1/plugins answer");
console.log(`dashboard (signed in, mobile): ${cats} | FCP ${a("first-contentful-paint")}, LCP ${a("largest-contentful-paint")}, TBT ${a("total-blocking-time")}`);
const failed = Object.values(r.audits).filter((x) => x.score !== null && x.score < 0.9 && x.scoreDisplayMode !== "informative" && x.scoreDisplayMode !== "manual");
for (const x of failed) console.log(`  below 0.9: ${x.id} (${x.score}) ${x.displayValue ?? ""}`);
console.log(`load average: ${require("os").loadavg().map((x) => x.toFixed(2)).join(" ")}`);
' "$OUT/dashboard.json"
rm -rf "$PROFILE"
[ -n "${LIGHTHOUSE_OUT:-}" ] || rm -rf "$OUT"
