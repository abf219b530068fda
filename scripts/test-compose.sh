#!/usr/bin/env bash
# make test-compose: `docker compose up` of the shipped docker-compose.yml (and docker-compose.dev.yml)
# on a sandbox dockerd with local stand-in base images (../shared/compose-standins), checked through
# the published ports by scripts/compose_checks.py. Prints each check with PASS/FAIL and the total time.
#
# The stack runs from a scratch copy of this working tree (tracked + untracked, not ignored files), with
# a .env made there by `make env`: your own .env, backend/data and backups/ are never touched.
# No Docker engine here: says so and exits 0, unless CI=true, where it must run.
set -uo pipefail
T0=$(date +%s)
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
shared=${UNITY_SHARED_DIR:-$repo/../shared}
standins=$shared/compose-standins
ci=false; case "${CI:-}" in true|1|yes) ci=true ;; esac

skip() {
    if [ "$ci" = true ]; then echo "test-compose: FAIL: $* (CI=true: the compose stack must be tested)" >&2; exit 1; fi
    echo "test-compose: SKIPPED: $* (runs in CI; see docs/RUN5_TESTING.md)"; exit 0
}
[ -x "$standins/compose-up.sh" ] || skip "no compose stand-ins at $standins"
[ "$(id -u)" = 0 ] || skip "the sandbox dockerd needs root"
command -v dockerd >/dev/null || command -v apt-get >/dev/null || skip "no Docker engine (dockerd) on this machine"

py=$repo/backend/.venv/bin/python
if [ ! -x "$py" ]; then make -C "$repo" --no-print-directory venv || exit 1; fi

# A scratch copy of the working tree: what you would commit, without .env, data, venvs or node_modules.
work=$(mktemp -d "${TMPDIR:-/tmp}/unity-compose.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
mkdir "$work/repo"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && printf '%s\0' "$f"; done | tar --null -T - -cf -) | tar -xf - -C "$work/repo" || exit 1
cd "$work/repo" || exit 1
make --no-print-directory env >/dev/null || { echo "test-compose: make env failed" >&2; exit 1; }
# Tests send nothing past this machine: the connectivity canary's default target, the
# container's gateway, is left unprobed here.
echo "CANARY_TARGETS=" >>.env

# compose-up.sh FILE CHECK...; retried once when the build lost docker0: a dockerd started elsewhere
# with --bridge=none (the docker plugin tests) deletes that bridge, which only a daemon restart fixes.
stack() {
    local try
    for try in 1 2; do
        "$standins/compose-up.sh" "$@" && return 0
        grep -q "could not find bridge docker0" "${UNITY_DOCKER_DIR:-/tmp/unity-docker}/compose-up.log" 2>/dev/null \
            && [ "$try" = 1 ] || return 1
        echo "test-compose: docker0 vanished during the build (another dockerd ran with --bridge=none); retrying"
        (. "$standins/env.sh" && "$standins/stop-dockerd.sh" >/dev/null && "$standins/clean-iptables.sh")
    done
    return 1
}

rc=0
echo "== docker-compose.yml (production) =="
KEEP_DAEMON=1 stack docker-compose.yml \
    "$py" "$repo/scripts/compose_checks.py" prod --file docker-compose.yml \
    --override "$standins/loopback-ports.override.yml" || rc=1
echo "== docker-compose.yml, profile scale (two backends, Redis, a worker) =="
# The settings the scale profile needs, from the environment (it wins over .env): the dev stack
# after this one reads the same .env and must not get them.
COMPOSE_PROFILES=scale REDIS_URL=redis://redis:6379/0 RUN_WORKERS=true KEEP_DAEMON=1 \
    stack docker-compose.yml \
    "$py" "$repo/scripts/compose_checks.py" scale --file docker-compose.yml \
    --override "$standins/loopback-ports.override.yml" || rc=1
echo "== docker-compose.dev.yml (development) =="
OVERRIDE="$standins/loopback-ports.dev.override.yml" stack docker-compose.dev.yml \
    "$py" "$repo/scripts/compose_checks.py" dev --file docker-compose.dev.yml \
    --override "$standins/loopback-ports.dev.override.yml" || rc=1
[ "$rc" = 0 ] || echo "compose logs: ${UNITY_DOCKER_DIR:-/tmp/unity-docker}/compose-logs.txt"

echo "test-compose: $([ $rc = 0 ] && echo PASS || echo FAIL) in $(( $(date +%s) - T0 ))s"
exit $rc
