"""Footprint: memory, CPU and read latency of Unity as `make run` serves it, beside a bare floor.

Two processes run in the same window, each on its own loopback port:
- Unity: `python -m app serve` from backend/ (the built SPA is served if frontend/dist exists),
  on a fresh temp DATA_DIR, so the SQLite default; `--database postgres` gives it a throw-away
  PostgreSQL database instead. The admin comes from first-run setup (POST /api/v1/auth/setup),
  the token from login. The default "This host" plugin runs at its default interval.
- the floor (`_floor_app.py`): FastAPI + uvicorn reading the same psutil values in a thread and
  serving the latest as JSON, with no storage and no authentication.

Windows, both processes sampled together once a second: `--idle` seconds as started (host
plugin and floor at the plugin's default interval), then `--busy` seconds with both reading the
host every second (the plugin's interval PATCHed to 1 s), then `--busy` seconds more with the
plugin's top processes off (`top_processes: 0`): the same values as the floor reads, which is
what issue 18's CPU target compares (the default config adds a /proc/<pid> scan). RSS and PSS
come from /proc/PID/smaps_rollup, CPU seconds from /proc/PID/stat (utime + stime, plus
children: live descendants and the reaped ones in cutime + cstime). Then read latency with 4
keep-alive clients (wrk -c4 when installed, else a Python client in its own process) for Unity's
`GET /api/v1/metrics/latest?plugin_id=<host>`, `/health`, `/api/v1/auth/me` and the floor's
`/latest`, and with 1 client for the unloaded p50. Last, 99 `tcp` instances (10 s) against a
loopback listener: RSS with 100 plugins. glances, netdata and prometheus-node-exporter join the
table where installed (never installed by this script).

    cd backend && .venv/bin/python ../bench/bench_footprint.py [--database sqlite|postgres]
        [--idle 60] [--busy 60] [--load-seconds 5] [--plugins 100]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common
import httpx
import psutil
from bench_scheduler import Listener, create_tcp
from cryptography.fernet import Fernet

from tests.live import Backend, stop_process

HERE = Path(__file__).resolve().parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
TARGETS = {
    "idle_rss": 72.0,  # MB
    "rss_100": 100.0,  # MB
    "latest_p50": 0.5,  # ms
    "latest_rps": 3000.0,
    "health_p50": 0.5,  # ms
    "cpu_vs_floor": 1.5,
}


def say(message: str) -> None:
    print(f"   [{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- /proc sampling ---------------------------------------------------------------------------


def tree(pid: int) -> list[int]:
    try:
        return [pid] + [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process and its live descendants, plus its reaped children."""
    total = 0.0
    for i, p in enumerate(tree(pid)):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
            ticks = int(fields[11]) + int(fields[12])
            if i == 0:
                ticks += int(fields[13]) + int(fields[14])
            total += ticks / CLK_TCK
    return total


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MB, summed over the process tree, from smaps_rollup."""
    rss = pss = 0
    for p in tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                key, _, rest = line.partition(":")
                if key == "Rss":
                    rss += int(rest.split()[0])
                elif key == "Pss":
                    pss += int(rest.split()[0])
    return rss / 1024, pss / 1024


def window(pids: dict[str, int], seconds: float) -> dict[str, dict[str, float]]:
    """Sample every process together once a second; CPU s/min and median RSS/PSS per process."""
    cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
    t0 = time.monotonic()
    mem: dict[str, list[tuple[float, float]]] = {name: [] for name in pids}
    next_report = t0 + 15
    while (now := time.monotonic()) < t0 + seconds:
        for name, pid in pids.items():
            mem[name].append(memory_mb(pid))
        if now >= next_report:
            say(f"  {now - t0:.0f}/{seconds:.0f} s")
            next_report += 15
        time.sleep(max(0.0, min(1.0, t0 + seconds - time.monotonic())))
    took = time.monotonic() - t0
    out = {}
    for name, pid in pids.items():
        rss = [m[0] for m in mem[name]] or [float("nan")]
        pss = [m[1] for m in mem[name]] or [float("nan")]
        out[name] = {
            "cpu_per_min": (cpu_seconds(pid) - cpu0[name]) / took * 60,
            "rss": statistics.median(rss),
            "rss_max": max(rss),
            "pss": statistics.median(pss),
        }
    return out


# --- load clients -----------------------------------------------------------------------------

WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, token: str | None, seconds: float, conns: int) -> dict[str, float]:
    cmd = ["wrk", f"-t{min(conns, 2)}", f"-c{conns}", f"-d{seconds:.0f}s", "--latency", url]
    if token:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout  # noqa: S603
    got: dict[str, float] = {}
    for q, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        got[f"p{q}"] = float(value) * WRK_UNITS[unit]
    got["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    got["errors"] = float(bad.group(1)) if bad else 0.0
    return got


async def _client_loop(host: str, port: int, path: str, token: str | None, until: float) -> Any:
    reader, writer = await asyncio.open_connection(host, port)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}\r\n".encode()
    took, errors = [], 0
    while time.monotonic() < until:
        t0 = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
        await reader.readexactly(length)
        took.append((time.perf_counter() - t0) * 1000)
        errors += not head.startswith((b"HTTP/1.1 2", b"HTTP/1.1 3"))
    writer.close()
    return took, errors


async def _python_load(url: str, token: str | None, seconds: float, conns: int) -> dict[str, float]:
    u = httpx.URL(url)
    path = u.raw_path.decode()
    until = time.monotonic() + seconds
    t0 = time.monotonic()
    results = await asyncio.gather(
        *(_client_loop(u.host, u.port or 80, path, token, until) for _ in range(conns))
    )
    took = [t for r in results for t in r[0]]
    return {
        "p50": _common.pct(took, 50),
        "p99": _common.pct(took, 99),
        "rps": len(took) / (time.monotonic() - t0),
        "errors": float(sum(r[1] for r in results)),
    }


def load(url: str, token: str | None, seconds: float, conns: int) -> dict[str, float]:
    """Closed-loop keep-alive GETs from another process: wrk, or this script's own client."""
    if shutil.which("wrk"):
        return wrk(url, token, seconds, conns)
    cmd = [sys.executable, __file__, "--client", url, str(seconds), str(conns)]
    env = {**os.environ, "BENCH_CLIENT_TOKEN": token or ""}
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)  # noqa: S603
    return dict(json.loads(out.stdout))


# --- the processes ----------------------------------------------------------------------------


class Floor:
    def __init__(self, data_dir: Path, interval: float) -> None:
        self.port = _common.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = (data_dir / "floor.log").open("wb")
        cmd = [sys.executable, str(HERE / "_floor_app.py"), "--port", str(self.port)]
        # The environment Unity gets from tests.live.Backend: no PYTHONDONTWRITEBYTECODE or
        # other settings from the caller's shell, so both run from the same bytecode caches.
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
        self.proc = subprocess.Popen(  # noqa: S603 - our own script
            [*cmd, "--interval", str(interval)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, within: float = 30) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"floor exited {self.proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/latest", timeout=2).json():
                    return
            time.sleep(0.1)
        raise TimeoutError("floor not ready")

    def set_interval(self, seconds: float) -> None:
        httpx.put(self.url + "/interval", params={"seconds": seconds}).raise_for_status()

    def stop(self) -> None:
        stop_process(self.proc)
        self._log.close()


class Peer:
    """An installed host monitor, started as a user would, or a note why it is not here."""

    def __init__(self, name: str, cmd: list[str], url_path: str) -> None:
        self.name, self.cmd, self.url_path = name, cmd, url_path
        self.proc: subprocess.Popen[bytes] | None = None


def peers(tmp: Path) -> tuple[list[Peer], list[str]]:
    found, notes = [], []
    candidates = [
        (
            "glances",
            ["glances", "-w", "--disable-webui", "-B", "127.0.0.1", "-p", "{port}"],
            "/api/4/all",
        ),
        (
            "netdata",
            ["netdata", "-D", "-i", "127.0.0.1", "-p", "{port}"],
            "/api/v1/allmetrics?format=json",
        ),
        (
            "prometheus-node-exporter",
            ["prometheus-node-exporter", "--web.listen-address=127.0.0.1:{port}"],
            "/metrics",
        ),
    ]
    for name, cmd, path in candidates:
        if shutil.which(cmd[0]):
            found.append(Peer(name, cmd, path))
        else:
            notes.append(f"{name}: not installed, skipped")
    return found, notes


def start_peer(peer: Peer, tmp: Path) -> str:
    port = _common.free_port()
    cmd = [part.replace("{port}", str(port)) for part in peer.cmd]
    log = (tmp / f"{peer.name}.log").open("wb")
    peer.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    return f"http://127.0.0.1:{port}{peer.url_path}"


def first_run(base: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=30)
    body = {"username": "admin", "password": _common.PASSWORD}
    c.post("/api/v1/auth/setup", json=body).raise_for_status()
    r = c.post("/api/v1/auth/login", data=body)
    r.raise_for_status()
    c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return c


def host_plugin(c: httpx.Client) -> dict[str, Any]:
    items = c.get("/api/v1/plugins").json()
    items = items["items"] if isinstance(items, dict) else items
    return next(p for p in items if p["type"] == "system")


def set_timing(c: httpx.Client, plugin_id: int, interval: int, timeout: int) -> None:
    r = c.patch(
        f"/api/v1/plugins/{plugin_id}",
        json={"interval_seconds": interval, "timeout_seconds": timeout},
    )
    if r.status_code != 200:
        raise RuntimeError(f"PATCH plugin {plugin_id}: {r.status_code} {r.text}")


def set_config(c: httpx.Client, host: dict[str, Any], **changes: Any) -> None:
    """The host plugin's config as created, with `changes` on top."""
    r = c.patch(f"/api/v1/plugins/{host['id']}", json={"config": {**host["config"], **changes}})
    if r.status_code != 200:
        raise RuntimeError(f"PATCH plugin {host['id']} config: {r.status_code} {r.text}")


@contextlib.contextmanager
def database(kind: str) -> Any:
    """Environment for Unity: nothing for the SQLite default, a throw-away PostgreSQL otherwise."""
    if kind == "sqlite":
        yield {}
        return
    loop = asyncio.new_event_loop()
    cm = _common.bench_database("footprint")
    dsn = loop.run_until_complete(cm.__aenter__())
    try:
        yield {
            "DATABASE_URL": dsn,
            "ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        }
    finally:
        loop.run_until_complete(cm.__aexit__(None, None, None))
        loop.close()


# --- the run ----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def run(args: argparse.Namespace) -> None:
    _common.header(f"footprint ({args.database})")
    tmp = Path(tempfile.mkdtemp(prefix="unity-bench-footprint-"))
    others, notes = peers(tmp)
    notes.append(
        "Prometheus + node_exporter: prometheus is installed, node_exporter "
        + ("is too (see above)" if shutil.which("prometheus-node-exporter") else "is not: skipped")
    )
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, tmp, True)
        env = stack.enter_context(database(args.database))
        backend = Backend(env, tmp / "unity")
        backend.env["LOG_LEVEL"] = "info"  # as `make run`
        stack.callback(backend.stop)
        backend.start()
        floor = Floor(tmp, 30)
        stack.callback(floor.stop)
        started = time.monotonic()
        backend.wait_healthy(60)
        floor.wait_ready()
        say(
            f"Unity ready in {time.monotonic() - started:.1f} s on {backend.url}; "
            f"floor on {floor.url}"
        )
        c = first_run(backend.url)
        stack.callback(c.close)
        token = c.headers["Authorization"].removeprefix("Bearer ")
        host = host_plugin(c)
        default_interval = host["interval_seconds"]
        floor.set_interval(default_interval)
        pids = {"unity": backend.proc.pid, "floor": floor.proc.pid}  # type: ignore[union-attr]
        peer_urls = {}
        for peer in others:
            peer_urls[peer.name] = start_peer(peer, tmp)
            stack.callback(stop_process, peer.proc)
            pids[peer.name] = peer.proc.pid  # type: ignore[union-attr]
        time.sleep(args.settle)
        say(f"idle window {args.idle:.0f} s (host plugin at its default {default_interval} s)")
        idle = window(pids, args.idle)
        set_timing(c, host["id"], 1, 1)  # a timeout may not exceed the interval
        floor.set_interval(1)
        time.sleep(3)
        say(f"busy window {args.busy:.0f} s (host plugin and floor every 1 s)")
        busy = window(pids, args.busy)
        # The same values as the floor reads (it has no top processes): like for like.
        set_config(c, host, top_processes=0)
        time.sleep(3)
        say(f"busy window {args.busy:.0f} s, host plugin with top_processes 0 (the floor's values)")
        same = window(pids, args.busy)
        set_config(c, host)
        latest = c.get("/api/v1/metrics/latest", params={"plugin_id": host["id"]})
        series = len(latest.json()["items"])
        tool = "wrk" if shutil.which("wrk") else "python client"
        say(f"read latency with {tool}, {args.load_seconds:.0f} s per figure")
        routes = {
            "unity latest": (f"{backend.url}/api/v1/metrics/latest?plugin_id={host['id']}", token),
            "unity /health": (f"{backend.url}/health", None),
            "unity /auth/me": (f"{backend.url}/api/v1/auth/me", token),
            "floor latest": (f"{floor.url}/latest", None),
            **{f"{name} read": (url, None) for name, url in peer_urls.items()},
        }
        reads: dict[str, dict[str, float]] = {}
        for name, (url, tok) in routes.items():
            reads[name] = load(url, tok, args.load_seconds, 4)
            reads[name]["p50_1"] = load(url, tok, args.load_seconds, 1)["p50"]
            say(
                f"  {name}: p50 {reads[name]['p50']:.2f} ms p99 {reads[name]['p99']:.2f} ms "
                f"{reads[name]['rps']:,.0f} req/s (4 clients); 1 client p50 "
                f"{reads[name]['p50_1']:.2f} ms; non-2xx {reads[name]['errors']:.0f}"
            )
        set_timing(c, host["id"], default_interval, host["timeout_seconds"])
        floor.set_interval(default_interval)
        listener = Listener()
        stack.callback(listener.close)
        say(f"creating {args.plugins - 1} tcp instances (10 s) against a loopback listener")
        create_tcp(c, args.plugins - 1, listener.port, 10)
        time.sleep(args.settle + 10)
        many = window({"unity": pids["unity"]}, 15)["unity"]
        runs = listener.accepted
        print_table(args, idle, busy, same, reads, many, series, runs, notes, list(peer_urls))


def print_table(
    args: argparse.Namespace,
    idle: dict[str, dict[str, float]],
    busy: dict[str, dict[str, float]],
    same: dict[str, dict[str, float]],
    reads: dict[str, dict[str, float]],
    many: dict[str, float],
    series: int,
    runs: int,
    notes: list[str],
    peer_names: list[str],
) -> None:
    u, f = "unity", "floor"
    cpu_ratio = same[u]["cpu_per_min"] / max(same[f]["cpu_per_min"], 1e-9)
    cpu_ratio_all = busy[u]["cpu_per_min"] / max(busy[f]["cpu_per_min"], 1e-9)
    lat, health = reads["unity latest"], reads["unity /health"]
    me, fl = reads["unity /auth/me"], reads["floor latest"]

    def r(d: dict[str, float]) -> str:
        return (
            f"{d['p50']:.2f} / {d['p99']:.2f} ms, {d['rps']:,.0f} req/s "
            f"(1 client: {d['p50_1']:.2f} ms)"
        )

    rows = [
        (
            "idle RSS / PSS (MB)",
            f"{idle[u]['rss']:.1f} / {idle[u]['pss']:.1f}",
            f"{idle[f]['rss']:.1f} / {idle[f]['pss']:.1f}",
            "RSS <= 72 MB",
            verdict(idle[u]["rss"] <= TARGETS["idle_rss"]),
        ),
        (
            "RSS / PSS with host at 1 s (MB)",
            f"{busy[u]['rss']:.1f} / {busy[u]['pss']:.1f}",
            f"{busy[f]['rss']:.1f} / {busy[f]['pss']:.1f}",
            "",
            "",
        ),
        (
            f"RSS / PSS with {args.plugins} plugins (MB)",
            f"{many['rss']:.1f} / {many['pss']:.1f}",
            "",
            "RSS <= 100 MB",
            verdict(many["rss"] <= TARGETS["rss_100"]),
        ),
        (
            "CPU s/min idle",
            f"{idle[u]['cpu_per_min']:.2f}",
            f"{idle[f]['cpu_per_min']:.2f}",
            "",
            "",
        ),
        (
            "CPU s/min, host every 1 s, the floor's values (top_processes 0)",
            f"{same[u]['cpu_per_min']:.2f}",
            f"{same[f]['cpu_per_min']:.2f}",
            f"<= 1.5 x floor = {1.5 * same[f]['cpu_per_min']:.2f} (is {cpu_ratio:.2f} x)",
            verdict(cpu_ratio <= TARGETS["cpu_vs_floor"]),
        ),
        (
            "CPU s/min, host every 1 s, default config (+ top processes)",
            f"{busy[u]['cpu_per_min']:.2f}",
            f"{busy[f]['cpu_per_min']:.2f}",
            f"({cpu_ratio_all:.2f} x floor)",
            "",
        ),
        (
            "latest p50 / p99, req/s (4 clients)",
            r(lat),
            r(fl),
            "p50 <= 0.5 ms, >= 3,000 req/s",
            verdict(lat["p50"] <= TARGETS["latest_p50"] and lat["rps"] >= TARGETS["latest_rps"]),
        ),
        (
            "/health p50 / p99, req/s",
            r(health),
            "",
            "p50 <= 0.5 ms",
            verdict(health["p50"] <= TARGETS["health_p50"]),
        ),
        ("/auth/me p50 / p99, req/s", r(me), "", "", ""),
    ]
    for name in peer_names:
        rows.append(
            (
                f"{name}: idle RSS, CPU s/min at 1 s, read",
                f"{idle[name]['rss']:.1f} MB",
                f"{busy[name]['cpu_per_min']:.2f}",
                r(reads[f"{name} read"]),
                "",
            )
        )
    print(
        f"\nfootprint ({args.database}), {series} series in the host plugin's latest; "
        f"{runs} tcp checks seen by the listener; load average {_common.loadavg()}"
    )
    widths = [max(len(str(row[i])) for row in [*rows, HEAD]) for i in range(5)]
    for row in [HEAD, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))
    for note in notes:
        print(f"note: {note}")
    print(
        f"footprint ({args.database}): idle RSS {idle[u]['rss']:.1f} MB (floor "
        f"{idle[f]['rss']:.1f}), {args.plugins} plugins {many['rss']:.1f} MB, CPU at 1 s "
        f"{same[u]['cpu_per_min']:.2f} s/min with the floor's values ({cpu_ratio:.2f} x floor), "
        f"{busy[u]['cpu_per_min']:.2f} with top processes ({cpu_ratio_all:.2f} x), latest p50 "
        f"{lat['p50']:.2f} ms {lat['rps']:,.0f} req/s (floor {fl['p50']:.2f} ms "
        f"{fl['rps']:,.0f} req/s), /health p50 {health['p50']:.2f} ms"
    )


HEAD = ("figure", "Unity", "floor (FastAPI + psutil)", "target (issue 18)", "result")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":  # the Python load client, in-process
        url, seconds, conns = sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
        token = os.environ.get("BENCH_CLIENT_TOKEN") or None
        print(json.dumps(asyncio.run(_python_load(url, token, seconds, conns))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--idle", type=float, default=60, help="idle window, seconds")
    parser.add_argument("--busy", type=float, default=60, help="window at 1 s sampling")
    parser.add_argument("--load-seconds", type=float, default=5, help="per latency figure")
    parser.add_argument("--plugins", type=int, default=100, help="plugins for the RSS figure")
    parser.add_argument("--settle", type=float, default=10, help="seconds before a window")
    args = parser.parse_args()

    def on_term(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)  # unwinds the ExitStack: every process is stopped

    signal.signal(signal.SIGTERM, on_term)
    run(args)


if __name__ == "__main__":
    main()
