"""Checks a running Unity compose stack through its published ports, as a user of the stack would.

Run by scripts/test-compose.sh inside ../shared/compose-standins/compose-up.sh (which has started
the stack with `up -d --build --wait` and ports rebound to 127.0.0.1:18000 / :18080 / :18173), with
the backend venv's Python (httpx, websockets, asyncpg). Prints one PASS/FAIL line per check and
exits non-zero if any failed.

    compose_checks.py prod --file docker-compose.yml --override OVERRIDE.yml
    compose_checks.py dev  --file docker-compose.dev.yml --override OVERRIDE.dev.yml
    compose_checks.py scale --file docker-compose.yml --override OVERRIDE.yml
        (with COMPOSE_PROFILES=scale REDIS_URL=redis://redis:6379/0 RUN_WORKERS=true set)
"""

# ruff: noqa: S603, S607 - a test driver running docker/bash with fixed arguments
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import websockets

API = "http://127.0.0.1:18000"
WEB = "http://127.0.0.1:18080"
VITE = "http://127.0.0.1:18173"
PASSWORD = "compose-check-password"  # noqa: S105 - a throwaway stack's admin
T0 = time.monotonic()


class CheckFailed(AssertionError):
    pass


class Skipped(Exception):
    pass


def expect(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


class Runner:
    def __init__(self, compose: list[str]) -> None:
        self.compose = compose
        self.results: list[tuple[str, bool, float]] = []
        self.state: dict[str, Any] = {}
        self.skipped: list[str] = []

    def dc(
        self, *args: str, timeout: float = 180, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*self.compose, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            raise CheckFailed(f"`docker compose {' '.join(args)}` failed:\n{result.stderr[-2000:]}")
        return result

    def check(self, name: str, fn: Callable[[], str | None]) -> bool:
        start = time.monotonic()
        try:
            detail = fn() or ""
            ok = True
        except CheckFailed as exc:
            ok, detail = False, str(exc)
        except Skipped as exc:
            self.skipped.append(name)
            print(f"[{time.monotonic() - T0:6.1f}s] SKIP {name} - {exc}")
            return True
        except Exception as exc:  # a crash in a check is a failed check, not a traceback
            ok, detail = False, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
        took = time.monotonic() - start
        self.results.append((name, ok, took))
        mark = "PASS" if ok else "FAIL"
        first, *rest = (detail or "").splitlines() or [""]
        suffix = f" - {first}" if first else ""
        print(f"[{time.monotonic() - T0:6.1f}s] {mark} {name} ({took:.1f}s){suffix}")
        for line in rest[:30]:
            print(f"         {line}")
        sys.stdout.flush()
        return ok

    # --- helpers ------------------------------------------------------------------------------
    def services_health(self) -> dict[str, str]:
        out = self.dc("ps", "--all", "--format", "json").stdout.strip()
        rows = (
            json.loads(out)
            if out.startswith("[")
            else [json.loads(x) for x in out.splitlines() if x]
        )
        return {r["Service"]: (r.get("Health") or r.get("State") or "?") for r in rows}

    def wait_healthy(self, url: str, timeout: float = 90) -> httpx.Response:
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            try:
                r = httpx.get(url, timeout=5)
                if r.status_code == 200:
                    return r
                last = f"HTTP {r.status_code}"
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.5)
        raise CheckFailed(f"{url} not 200 within {timeout:.0f} s (last: {last})")

    def login(self, base: str = WEB) -> dict[str, str]:
        r = httpx.post(
            f"{base}/api/v1/auth/login",
            data={"username": "admin", "password": PASSWORD},
            timeout=15,
        )
        expect(r.status_code == 200, f"login: HTTP {r.status_code} {r.text[:200]}")
        token = r.json()["access_token"]
        self.state["token"] = token
        return {"Authorization": f"Bearer {token}"}

    def plugin_runs(self, auth: dict[str, str], plugin_id: int) -> list[dict[str, Any]]:
        r = httpx.get(f"{WEB}/api/v1/plugins/{plugin_id}/runs", headers=auth, timeout=15)
        expect(r.status_code == 200, f"runs: HTTP {r.status_code} {r.text[:200]}")
        items: list[dict[str, Any]] = r.json()["items"]
        return items


# --- production checks -------------------------------------------------------------------------
def check_health(_: Runner) -> str:
    r = httpx.get(f"{API}/health", timeout=10)
    expect(r.status_code == 200, f"HTTP {r.status_code}")
    body = r.json()
    expect(body.get("status") == "healthy" and body.get("scheduler") == "running", f"body {body}")
    return f'{{"status": "{body["status"]}", "scheduler": "{body["scheduler"]}", ...}}'


def check_all_healthy(
    run: Runner, services: tuple[str, ...] = ("db", "backend", "frontend")
) -> str:
    health = run.services_health()
    for name in services:
        expect(health.get(name) == "healthy", f"{name} is {health.get(name)!r} (all: {health})")
    return ", ".join(f"{k}={v}" for k, v in sorted(health.items()))


def check_spa(_: Runner) -> str:
    index = httpx.get(f"{WEB}/", timeout=10)
    expect(index.status_code == 200, f"/ HTTP {index.status_code}")
    expect('id="root"' in index.text, "/ is not the SPA shell")
    scripts = re.findall(r'src="(/assets/[^"]+\.js)"', index.text)
    expect(scripts, "index.html references no /assets/*.js bundle")
    bundle = httpx.get(f"{WEB}{scripts[0]}", timeout=10)
    expect(bundle.status_code == 200, f"{scripts[0]} HTTP {bundle.status_code}")
    expect("javascript" in bundle.headers.get("content-type", ""), "bundle is not JavaScript")
    route = httpx.get(f"{WEB}/plugins/1", timeout=10)
    expect(route.status_code == 200 and route.text == index.text, "client route is not the shell")
    return f"index + {scripts[0]} ({len(bundle.content)} bytes) + history fallback"


def check_api(run: Runner) -> str:
    web = httpx.Client(base_url=WEB, timeout=30)
    # Setup through nginx comes from "another machine": it needs the code the server logged.
    code = run.dc("exec", "-T", "backend", "python", "-m", "app", "setup-code").stdout.strip()
    setup = {"username": "admin", "password": PASSWORD, "setup_code": code}
    r = web.post("/api/v1/auth/setup", json=setup)
    expect(r.status_code == 201, f"setup: HTTP {r.status_code} {r.text[:200]}")
    auth = run.login()
    # The db service's port, checked from inside the backend container over homelab-net.
    r = web.post(
        "/api/v1/plugins",
        json={
            "name": "database port",
            "type": "tcp",
            "config": {"host": "db", "port": 5432},
            "interval_seconds": 3600,
        },
        headers=auth,
    )
    expect(r.status_code == 201, f"create plugin: HTTP {r.status_code} {r.text[:300]}")
    plugin_id = r.json()["id"]
    run.state["plugin_id"] = plugin_id
    r = web.post(f"/api/v1/plugins/{plugin_id}/run", headers=auth)
    expect(r.status_code == 200, f"run now: HTTP {r.status_code} {r.text[:300]}")
    expect(r.json()["status"] == "success", f"run: {r.json()}")
    items = run.plugin_runs(auth, plugin_id)
    expect(items and items[0]["status"] == "success", f"runs: {items}")
    return f"setup 201, login, plugin {plugin_id} (tcp db:5432), {len(items)} run(s): success"


def check_host_view(run: Runner) -> str:
    """*This host* measures the box, not the backend container: the compose file's read-only
    `/proc` and `/` views (HOST_PROC, HOST_ROOT) reach the system plugin."""
    auth = run.login()
    plugins = httpx.get(f"{WEB}/api/v1/plugins", headers=auth, timeout=15).json()
    host = next((p for p in plugins if p["type"] == "system"), None)
    expect(host is not None, f"no system plugin among {[p['name'] for p in plugins]}")
    for _ in range(2):  # rates need two runs
        r = httpx.post(f"{WEB}/api/v1/plugins/{host['id']}/run", headers=auth, timeout=60)
        expect(r.status_code == 200 and r.json()["status"] == "success", f"run: {r.text[:300]}")
        time.sleep(1)
    r = httpx.get(
        f"{WEB}/api/v1/metrics/latest", params={"plugin_id": host["id"]}, headers=auth, timeout=15
    )
    items = r.json()["items"]
    values = {i["name"]: i["value"] for i in items if not i["labels"]}
    nics = {i["labels"]["interface"] for i in items if i["name"] == "network_receive_rate"}
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    mem_total = int(meminfo["MemTotal"].split()[0]) * 1024
    host_pids = sum(name.isdigit() for name in os.listdir("/proc"))
    expect(
        values.get("memory_total") == mem_total,
        f"memory_total {values.get('memory_total')} != this machine's {mem_total}",
    )
    # The container alone has a handful of processes; through /host/proc it sees the box's.
    seen = values.get("process_count", 0)
    expect(seen >= host_pids / 2, f"process_count {seen}: the host has {host_pids}")
    # The container's own namespace has one interface besides lo; the host has at least the
    # compose network's bridge and veths besides its own.
    table = Path("/proc/1/net/dev").read_text().splitlines()[2:]
    host_nics = {line.split(":")[0].strip() for line in table}
    expect(len(nics) >= 2 and nics <= host_nics, f"interfaces {nics}, host {host_nics}")
    # The host's own uplink (its default route's interface) is what a user looks for first.
    routes = [line.split() for line in Path("/proc/1/net/route").read_text().splitlines()[1:]]
    uplinks = {r[0] for r in routes if len(r) > 1 and r[1] == "00000000"}
    expect(not uplinks or uplinks & nics, f"interfaces {nics} miss the host's uplink {uplinks}")
    return (
        f"memory_total {mem_total} bytes as on the host; {seen:.0f} processes (host {host_pids}); "
        f"interfaces {sorted(nics)}"
    )


async def _metrics_event(token: str, trigger: Callable[[], None]) -> dict[str, Any]:
    url = WEB.replace("http://", "ws://") + f"/ws/metrics?token={token}"
    async with websockets.connect(url, origin=WEB, open_timeout=10) as ws:  # type: ignore[arg-type]
        hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
        expect(hello.get("type") == "hello", f"first message {hello}")
        await asyncio.to_thread(trigger)
        deadline = time.monotonic() + 30
        while (left := deadline - time.monotonic()) > 0:
            event = json.loads(await asyncio.wait_for(ws.recv(), left))
            if event.get("type") == "metrics":
                return event  # type: ignore[no-any-return]
    raise CheckFailed("no metrics event within 30 s")


def check_ws(run: Runner) -> str:
    expect("plugin_id" in run.state, "needs the API check's plugin")
    auth = {"Authorization": f"Bearer {run.state['token']}"}

    def trigger() -> None:
        httpx.post(f"{WEB}/api/v1/plugins/{run.state['plugin_id']}/run", headers=auth, timeout=30)

    event = asyncio.run(_metrics_event(run.state["token"], trigger))
    names = sorted({s["name"] for s in event.get("samples", [])})
    return f"metrics event for plugin {event.get('plugin_id')}: {names}"


def check_db_port(run: Runner, env: dict[str, str]) -> str:
    db = run.dc("ps", "-q", "db").stdout.strip()
    ports = json.loads(
        subprocess.run(
            ["docker", "inspect", "-f", "{{json .NetworkSettings.Ports}}", db],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    )
    published = {k: v for k, v in (ports or {}).items() if v}
    expect(not published, f"db publishes {published}")
    # Whatever listens on the host's 5432 (this machine runs its own PostgreSQL) must not be ours.
    import asyncpg

    async def attempt() -> str:
        try:
            conn = await asyncpg.connect(
                host="127.0.0.1",
                port=5432,
                user="homelab_user",
                database="homelab_db",
                password=env["POSTGRES_PASSWORD"],
                timeout=5,
            )
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            return type(exc).__name__
        await conn.close()
        raise CheckFailed("homelab_db answered on the host's 127.0.0.1:5432")

    return f"no published ports; host 127.0.0.1:5432 -> {asyncio.run(attempt())}"


PROCS = (
    "import pathlib\n"
    "for p in pathlib.Path('/proc').iterdir():\n"
    "    if p.name.isdigit():\n"
    "        cmd = (p / 'cmdline').read_bytes().replace(b'\\0', b' ').decode().strip()\n"
    "        lines = (p / 'status').read_text().splitlines()\n"
    "        st = dict(line.split(':', 1) for line in lines if ':' in line)\n"
    "        print(st['Uid'].split()[0], st['NoNewPrivs'].strip(), cmd)\n"
)


def check_non_root(run: Runner) -> str:
    out = run.dc("exec", "-T", "backend", "python", "-c", PROCS).stdout
    rows = [line.split(maxsplit=2) for line in out.splitlines()]
    app = [r for r in rows if len(r) == 3 and "app serve" in r[2] and "docker-init" not in r[2]]
    expect(app, f"no `python -m app serve` process in:\n{out}")
    expect(all(r[0] != "0" for r in app), f"the app runs as root:\n{out}")
    expect(all(r[1] == "1" for r in app), f"the app may regain privileges (NoNewPrivs=0):\n{out}")
    return (
        f"`python -m app serve` runs as uid {', '.join(sorted({r[0] for r in app}))}, no_new_privs"
    )


def check_logs(run: Runner) -> str:
    logs = run.dc("logs", "--no-color", "backend").stdout
    expect(
        re.search(r"Unity \S+ started", logs), "no start-up line in `docker compose logs backend`"
    )
    expect("plugin run success" in logs, "no plugin run in `docker compose logs backend`")
    return "start-up and plugin runs on stdout"


def check_stop(run: Runner) -> str:
    start = time.monotonic()
    run.dc("stop", timeout=60)
    took = time.monotonic() - start
    logs = run.dc("logs", "--no-color", "--tail", "30", "backend").stdout
    expect(took < 10, f"docker compose stop took {took:.1f} s")
    expect("Unity stopped" in logs, f"backend did not shut down cleanly:\n{logs[-1500:]}")
    return f"stopped in {took:.1f} s, backend logged 'Unity stopped'"


def check_persistence(run: Runner) -> str:
    expect("plugin_id" in run.state, "needs the API check's plugin")
    run.dc("down", timeout=120)  # no -v: volumes stay
    left = run.dc("ps", "--all", "-q").stdout.strip()
    expect(not left, "containers left after down")
    run.dc("up", "-d", "--wait", "--wait-timeout", "180", timeout=240)
    auth = run.login()  # the admin from before the restart
    r = httpx.get(f"{WEB}/api/v1/plugins/{run.state['plugin_id']}", headers=auth, timeout=15)
    expect(r.status_code == 200, f"plugin gone after down/up: HTTP {r.status_code}")
    items = run.plugin_runs(auth, run.state["plugin_id"])
    expect(len(items) >= 2, f"run history gone after down/up: {items}")
    return f"admin, plugin {run.state['plugin_id']} and {len(items)} runs survived down + up"


def check_backup_restore(run: Runner, repo: Path, compose_cmd: list[str]) -> str:
    env = {**os.environ, "COMPOSE": " ".join(compose_cmd), "BACKUP_DIR": str(repo / "backups")}
    backup = subprocess.run(
        ["bash", str(repo / "scripts" / "backup.sh"), "backup"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if "server version mismatch" in backup.stderr:
        # The postgres:16-alpine stand-in pairs a PostgreSQL 16 server with Debian's pg_dump 15;
        # the real image ships pg_dump 16. tests/deploy/test_backup.py covers the script itself.
        raise Skipped("stand-in image's pg_dump is older than its server (real image: same major)")
    expect(backup.returncode == 0, f"backup failed:\n{backup.stdout}{backup.stderr}")
    files = sorted((repo / "backups").glob("unity-pg-*.sql.gz"))
    expect(files, f"no backup file: {backup.stdout}")
    auth = run.login()
    r = httpx.post(
        f"{WEB}/api/v1/plugins",
        json={"name": "after backup", "type": "tcp", "config": {"host": "db", "port": 5432}},
        headers=auth,
        timeout=15,
    )
    expect(r.status_code == 201, f"create: HTTP {r.status_code}")
    later = r.json()["id"]
    restore = subprocess.run(
        ["bash", str(repo / "scripts" / "backup.sh"), "restore", str(files[-1])],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    expect(restore.returncode == 0, f"restore failed:\n{restore.stdout}{restore.stderr}")
    run.wait_healthy(f"{API}/health")
    auth = run.login()
    gone = httpx.get(f"{WEB}/api/v1/plugins/{later}", headers=auth, timeout=15).status_code
    kept = httpx.get(f"{WEB}/api/v1/plugins/{run.state['plugin_id']}", headers=auth, timeout=15)
    expect(gone == 404 and kept.status_code == 200, f"after restore: later={gone}, kept={kept}")
    return f"{files[-1].name}: restore brought back the state at backup time"


# --- scale-profile checks (two backends, Redis, a worker) --------------------------------------
SCALE_SERVICES = ("db", "redis", "backend", "backend-2", "frontend")
ROLE = (
    "import json, urllib.request\n"
    "print(json.load(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=10))['role'])"
)


def check_scale_services(run: Runner) -> str:
    health = run.services_health()
    for name in (*SCALE_SERVICES, "worker"):  # the worker: its alive file is fresh
        expect(health.get(name) == "healthy", f"{name} is {health.get(name)!r} (all: {health})")
    return ", ".join(f"{k}={v}" for k, v in sorted(health.items()))


def check_one_leader(run: Runner) -> str:
    roles = {
        name: run.dc("exec", "-T", name, "python", "-c", ROLE).stdout.strip()
        for name in ("backend", "backend-2")
    }
    expect(sorted(roles.values()) == ["leader", "standby"], f"roles: {roles}")
    return ", ".join(f"{k}: {v}" for k, v in roles.items())


def check_worker_runs(run: Runner) -> str:
    code = run.dc("exec", "-T", "backend", "python", "-m", "app", "setup-code").stdout.strip()
    setup = {"username": "admin", "password": PASSWORD, "setup_code": code}
    r = httpx.post(f"{WEB}/api/v1/auth/setup", json=setup, timeout=30)
    expect(r.status_code == 201, f"setup: HTTP {r.status_code} {r.text[:200]}")
    auth = run.login()
    r = httpx.post(
        f"{WEB}/api/v1/plugins",
        json={
            "name": "database port, every 5 s",
            "type": "tcp",
            "config": {"host": "db", "port": 5432},
            "interval_seconds": 5,
        },
        headers=auth,
        timeout=30,
    )
    expect(r.status_code == 201, f"create plugin: HTTP {r.status_code} {r.text[:300]}")
    plugin_id = r.json()["id"]
    run.state["plugin_id"] = plugin_id
    deadline = time.monotonic() + 60
    items: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        items = run.plugin_runs(auth, plugin_id)
        if len(items) >= 3:
            break
        time.sleep(1)
    expect(len(items) >= 3, f"fewer than 3 scheduled runs in 60 s: {items}")
    expect(all(i["status"] == "success" for i in items), f"runs: {items}")
    mark = f"plugin_id={plugin_id} "
    worker = run.dc("logs", "--no-color", "worker").stdout
    expect(
        any("plugin run success" in line and mark in line for line in worker.splitlines()),
        f"no run of plugin {plugin_id} in `docker compose logs worker`:\n{worker[-1500:]}",
    )
    for name in ("backend", "backend-2"):
        logs = run.dc("logs", "--no-color", name).stdout
        here = [ln for ln in logs.splitlines() if "plugin run" in ln and mark in ln]
        expect(not here, f"{name} ran plugin {plugin_id} itself: {here[:3]}")
        expect("run queue unreachable" not in logs, f"{name} fell back to running in process")
    return f"plugin {plugin_id}: {len(items)} runs, all by the worker; no backend ran it"


async def _event_of(token: str, plugin_id: int) -> dict[str, Any]:
    url = WEB.replace("http://", "ws://") + f"/ws/metrics?token={token}"
    async with websockets.connect(url, origin=WEB, open_timeout=10) as ws:  # type: ignore[arg-type]
        deadline = time.monotonic() + 30
        while (left := deadline - time.monotonic()) > 0:
            event = json.loads(await asyncio.wait_for(ws.recv(), left))
            if event.get("type") == "metrics" and event.get("plugin_id") == plugin_id:
                return event  # type: ignore[no-any-return]
    raise CheckFailed(f"no metrics event of plugin {plugin_id} within 30 s")


def check_worker_events(run: Runner) -> str:
    expect("plugin_id" in run.state, "needs the worker check's plugin")
    event = asyncio.run(_event_of(run.state["token"], run.state["plugin_id"]))
    names = sorted({s["name"] for s in event.get("samples", [])})
    return f"metrics event of the worker's run of plugin {event['plugin_id']}: {names}"


# --- dev checks --------------------------------------------------------------------------------
def check_vite(_: Runner) -> str:
    index = httpx.get(f"{VITE}/", timeout=30)
    expect(index.status_code == 200 and "/@vite/client" in index.text, "Vite did not serve index")
    proxied = httpx.get(f"{VITE}/health", timeout=15)
    expect(proxied.status_code == 200 and proxied.json()["status"] == "healthy", "no /health proxy")
    return "Vite dev server serves the SPA and proxies /health to the backend"


def read_dotenv(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["prod", "dev", "scale"])
    parser.add_argument("--file", required=True)
    parser.add_argument("--override", required=True)
    args = parser.parse_args()
    repo = Path.cwd()
    compose_cmd = ["docker", "compose", "-f", args.file, "-f", args.override]
    run = Runner(compose_cmd)
    if args.mode == "prod":
        env = read_dotenv(repo / ".env")
        run.check("/health answers the seed's body", lambda: check_health(run))
        run.check("every service is healthy", lambda: check_all_healthy(run))
        run.check("SPA loads through nginx on :18080", lambda: check_spa(run))
        run.check("setup, login, plugin, runs through nginx /api", lambda: check_api(run))
        run.check("WebSocket metrics event through nginx /ws/metrics", lambda: check_ws(run))
        run.check("This host reports the host, not the container", lambda: check_host_view(run))
        run.check("database port not reachable from the host", lambda: check_db_port(run, env))
        run.check("backend runs as a non-root user", lambda: check_non_root(run))
        run.check("backend logs go to stdout", lambda: check_logs(run))
        run.check("docker compose stop within the 10 s grace period", lambda: check_stop(run))
        run.check("data survives down (no -v) and up", lambda: check_persistence(run))
        run.check(
            "backup and restore (scripts/backup.sh)",
            lambda: check_backup_restore(run, repo, compose_cmd),
        )
    elif args.mode == "scale":
        run.check("/health answers the seed's body", lambda: check_health(run))
        run.check("scale profile: every service is up", lambda: check_scale_services(run))
        run.check("scale profile: exactly one scheduler leader", lambda: check_one_leader(run))
        run.check("scale profile: runs executed by the worker", lambda: check_worker_runs(run))
        run.check("scale profile: the worker's events reach /ws", lambda: check_worker_events(run))
    else:
        run.check("/health answers the seed's body", lambda: check_health(run))
        run.check("every service is healthy", lambda: check_all_healthy(run))
        run.check("Vite dev server on :18173", lambda: check_vite(run))
    failed = [name for name, ok, _ in run.results if not ok]
    skipped = f", {len(run.skipped)} skipped" if run.skipped else ""
    print(
        f"{args.mode}: {len(run.results) - len(failed)}/{len(run.results)} checks passed{skipped}"
        f" in {time.monotonic() - T0:.1f}s"
    )
    if failed:
        logs = run.dc("logs", "--no-color", "--tail", "60", check=False).stdout
        print("--- last compose logs ---\n" + logs)
    return 1 if failed else 0


if __name__ == "__main__":
    socket.setdefaulttimeout(30)
    sys.exit(main())
