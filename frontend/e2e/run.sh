#!/usr/bin/env bash
# End-to-end harness: fresh PostgreSQL database → real backend → the project's own nginx.conf
# (only upstream, listen and root replaced) serving dist/ → a loopback HTTP target → Playwright
# in Debian's Chromium. Everything it starts is stopped and the database dropped on exit.
#
# The alerts test gets a fast alert timer (ALERT_EVAL_SECONDS=2) and uses the target server as its
# Apprise json:// receiver too (E2E_NOTIFY_URL). Uptime rolls up every 10 s so the status page spec
# sees today's bar change within the test.
#
# Outside CI a missing nginx/Chromium/PostgreSQL/backend prints what to install and exits 0;
# with CI=true it fails instead.  Extra arguments go to `playwright test`; with `--exec CMD...`
# the stack runs CMD instead (the budget script uses this), with E2E_BASE_URL, E2E_BACKEND_URL
# and E2E_TARGET_URL in its environment.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
FRONTEND="$(dirname "$HERE")"
ROOT="$(dirname "$FRONTEND")"
BACKEND="$ROOT/backend"
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
PGHOST="${E2E_PGHOST:-127.0.0.1}"
PGPORT="${E2E_PGPORT:-5432}"
PGUSER="${E2E_PGUSER:-root}"

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=("nginx: apt-get install -y nginx")
[ -x "$CHROMIUM" ] || missing+=("chromium: apt-get install -y chromium  (never 'npx playwright install')")
command -v createdb >/dev/null 2>&1 || missing+=("PostgreSQL client: apt-get install -y postgresql-client")
[ -x "$BACKEND/.venv/bin/uvicorn" ] || missing+=("backend venv: run 'make venv' at the repository root")
[ -d "$FRONTEND/node_modules/@playwright/test" ] || missing+=("node modules: cd frontend && npm ci")
if [ ${#missing[@]} -eq 0 ] && ! pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; then
  missing+=("a PostgreSQL server on $PGHOST:$PGPORT (trust auth for user $PGUSER)")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "e2e: cannot run the browser tests; missing:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  if [ "${CI:-}" = "true" ]; then
    echo "e2e: CI=true, so this is a failure" >&2
    exit 1
  fi
  echo "e2e: skipped (install the above and re-run 'npm run test:e2e')" >&2
  exit 0
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

if [ ! -f "$FRONTEND/dist/index.html" ]; then
  echo "e2e: building dist/"
  (cd "$FRONTEND" && npm run build >/dev/null)
fi

WORK="$(mktemp -d /tmp/unity-e2e.XXXXXX)"
DB="unity_e2e_$(date +%s)_$$"
PIDS=()
cleanup() {
  local rc=$?
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  [ -f "$WORK/nginx.pid" ] && "$NGINX" -c "$WORK/nginx.conf" -p "$WORK" -s stop 2>/dev/null
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  dropdb -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" --if-exists "$DB" 2>/dev/null
  if [ $rc -ne 0 ]; then
    echo "e2e: failed; backend log tail ($WORK/backend.log):" >&2
    tail -n 40 "$WORK/backend.log" >&2 2>/dev/null
    tail -n 20 "$WORK/nginx-error.log" >&2 2>/dev/null
  fi
  [ "${E2E_KEEP:-}" = "1" ] || rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT INT TERM

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
BPORT="$(free_port)"
NPORT="$(free_port)"
TPORT="$(free_port)"
OPORT="$(free_port)"

createdb -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" "$DB"
echo "e2e: database $DB, backend :$BPORT, nginx :$NPORT, target :$TPORT, OpenID provider :$OPORT, work $WORK"

ENC_KEY="$("$BACKEND/.venv/bin/python" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
JWT_KEY="$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))')"
(
  cd "$BACKEND"
  DATABASE_URL="postgresql://$PGUSER@$PGHOST:$PGPORT/$DB" \
  ENCRYPTION_KEY="$ENC_KEY" JWT_SECRET_KEY="$JWT_KEY" DEBUG=true LOG_LEVEL=info \
  ALERT_EVAL_SECONDS=2 NOTIFY_RETRY_BASE_SECONDS=2 UPTIME_ROLLUP_SECONDS=10 CANARY_TARGETS= \
  OIDC_ISSUER="http://127.0.0.1:$OPORT" OIDC_CLIENT_ID=unity OIDC_CLIENT_SECRET=unity-test-secret \
  OIDC_NAME="Test IdP" OIDC_SCOPES="openid profile email groups" OIDC_ADMIN_GROUPS=unity-admins \
  OIDC_REDIRECT_URL="http://127.0.0.1:$NPORT/api/v1/auth/oidc/callback" \
  DATA_DIR="$WORK/data" \
    exec .venv/bin/uvicorn app.main:create_app --factory --host 127.0.0.1 --port "$BPORT" --no-access-log
) >"$WORK/backend.log" 2>&1 &
PIDS+=($!)

node "$HERE/target-server.mjs" "$TPORT" >"$WORK/target.log" 2>&1 &
PIDS+=($!)

# A real OpenID provider for the single sign-on spec (e2e/sso.spec.ts).
node "$HERE/oidc-provider.mjs" "$OPORT" "http://127.0.0.1:$NPORT/api/v1/auth/oidc/callback" \
  >"$WORK/oidc.log" 2>&1 &
PIDS+=($!)

# The project's nginx.conf, with only the upstream, listen address and root replaced.
sed -e "s#http://backend:8000#http://127.0.0.1:$BPORT#" \
    -e "s#^\(\s*\)listen 80;#\1listen 127.0.0.1:$NPORT;#" \
    -e "/^\s*listen \[::\]:80;/d" \
    -e "s#root /usr/share/nginx/html;#root $FRONTEND/dist;#" \
    "$FRONTEND/nginx.conf" >"$WORK/default.conf"
mkdir -p "$WORK/tmp"
cat >"$WORK/nginx.conf" <<NGINX
daemon on;
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log $WORK/nginx-access.log;
  client_body_temp_path $WORK/tmp/body;
  proxy_temp_path $WORK/tmp/proxy;
  fastcgi_temp_path $WORK/tmp/fastcgi;
  uwsgi_temp_path $WORK/tmp/uwsgi;
  scgi_temp_path $WORK/tmp/scgi;
  sendfile on;
  include $WORK/default.conf;
}
NGINX
"$NGINX" -t -q -c "$WORK/nginx.conf" -p "$WORK"
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK"

echo -n "e2e: waiting for the backend"
for i in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$BPORT/health" >/dev/null 2>&1; then echo " ok"; break; fi
  if ! kill -0 "${PIDS[0]}" 2>/dev/null; then echo; echo "e2e: the backend exited" >&2; exit 1; fi
  [ "$i" = 120 ] && { echo; echo "e2e: backend not healthy after 60 s" >&2; exit 1; }
  echo -n "."; sleep 0.5
done
curl -fsS "http://127.0.0.1:$NPORT/health" >/dev/null || { echo "e2e: nginx does not proxy /health" >&2; exit 1; }

cd "$FRONTEND"
export E2E_BASE_URL="http://127.0.0.1:$NPORT" E2E_BACKEND_URL="http://127.0.0.1:$BPORT" \
  E2E_TARGET_URL="http://127.0.0.1:$TPORT/" E2E_NOTIFY_URL="json://127.0.0.1:$TPORT/notify" CHROMIUM_PATH="$CHROMIUM"
if [ "${1:-}" = "--exec" ]; then
  shift
  "$@"
else
  npx playwright test "$@"
fi
