#!/usr/bin/env bash
# Lighthouse (mobile, simulated throttling) on the sign-in page, in Debian's Chromium, through the
# project's nginx config. Run from frontend/ after `npm run build`, through the e2e harness:
#   bash e2e/run.sh --exec bash ../bench/lighthouse.sh
# Lighthouse is pinned to 12.2.3 (13 wants Node 22) and fetched by npx on first use.
set -euo pipefail
: "${E2E_BASE_URL:?run me through the e2e harness: bash e2e/run.sh --exec bash ../bench/lighthouse.sh}"
OUT="$(mktemp -d)"
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
rm -rf "$OUT"
