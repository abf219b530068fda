"""Scheduler scale: N `tcp` instances against a loopback listener, in a real backend process.

For each size (default 100 and 1,000 instances at a 10 s interval) a fresh `python -m app serve`
runs on a fresh database; after one interval of warm-up the backend's CPU (% of one core) is
measured over --duration seconds, with its RSS at the end and the start lateness (p50/p99) of
every run in the window, read from the runs table. An idle backend (no plugins) measured the same
way is the baseline.

    cd backend && .venv/bin/python ../bench/bench_scheduler.py [--sizes 100,1000] [--duration 180]
        [--interval 10] [--database sqlite|postgresql] [--create apply|api] [--skip-idle]

Instances are created with one `POST /api/v1/config/apply` (issue 18: 10,000 in < 20 s), or with
`--create api` one `POST /api/v1/plugins` each. Issue 18's scale target: 10,000 instances at 10 s
with start lateness p99 < 150 ms and < 35 % of one core (`--sizes 10000`).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import _common
import httpx
import psutil
from _common import PASSWORD, bench_database, header, pct

from tests.live import Backend, backend_env

TARGET_CPU_100 = 2.0  # % of one core at 100 instances
TARGET_RSS_100 = 150.0  # MB at 100 instances


class Listener:
    """A loopback TCP port that accepts and closes connections, on its own thread."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


def admin_client(backend: Backend) -> httpx.Client:
    c = httpx.Client(base_url=backend.url, timeout=30)
    r = c.post("/api/v1/auth/login", data={"username": "admin", "password": PASSWORD})
    r.raise_for_status()
    c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return c


def create_tcp(c: httpx.Client, n: int, port: int, interval: int) -> None:
    for i in range(n):
        r = c.post(
            "/api/v1/plugins",
            json={
                "name": f"tcp-{i}",
                "type": "tcp",
                "config": {"host": "127.0.0.1", "port": port, "timeout_seconds": 2},
                "interval_seconds": interval,
                "timeout_seconds": min(interval, 5),
            },
        )
        r.raise_for_status()


def apply_tcp(c: httpx.Client, n: int, port: int, interval: int) -> None:
    """The same instances in one `POST /api/v1/config/apply` (configuration as code).

    Written as a person would write 10,000 alike: one anchored block, merged into each entry
    (~30 bytes an instance, well under the API's 1 MiB file limit).
    """
    common = (
        f"{{type: tcp, interval_seconds: {interval}, timeout_seconds: {min(interval, 5)}, "
        f"config: {{host: 127.0.0.1, port: {port}, timeout_seconds: 2}}}}"
    )
    lines = [f"x-tcp: &tcp {common}", "plugins:"]
    lines += [f"  - {{<<: *tcp, name: tcp-{i}}}" for i in range(n)]
    r = c.post(
        "/api/v1/config/apply",
        params={"dry_run": "false"},
        content="\n".join(lines) + "\n",
        headers={"Content-Type": "application/yaml"},
        timeout=300,
    )
    if r.status_code != 200:
        raise RuntimeError(f"config apply: {r.status_code} {r.text[:500]}")
    added = sum(1 for ch in r.json()["changes"] if ch["action"] == "add")
    if added != n:
        raise RuntimeError(f"config apply added {added} plugins, not {n}")


def create_all(backend: Backend, n: int, port: int, interval: int, how: str = "apply") -> None:
    c = admin_client(backend)
    try:
        (apply_tcp if how == "apply" else create_tcp)(c, n, port, interval)
    finally:
        c.close()


def measure(proc: psutil.Process, seconds: float, every: float = 5.0) -> dict[str, float]:
    """CPU % of one core over the window, and RSS (MB) sampled through it."""
    t0, c0 = time.monotonic(), proc.cpu_times()
    rss: list[float] = []
    end = t0 + seconds
    while (now := time.monotonic()) < end:
        rss.append(proc.memory_info().rss / 2**20)
        time.sleep(min(every, end - now))
    c1, t1 = proc.cpu_times(), time.monotonic()
    rss.append(proc.memory_info().rss / 2**20)
    cpu = (c1.user + c1.system - c0.user - c0.system) / (t1 - t0) * 100
    return {"cpu": cpu, "rss": rss[-1], "rss_max": max(rss), "rss_series": rss}  # type: ignore[dict-item]


async def lateness_since(database_url: str, first_id: int) -> tuple[list[float], dict[str, int]]:
    from tests.faults.conftest import query

    rows = await query(
        database_url,
        "SELECT lateness_ms, status FROM plugin_runs WHERE id > $1 AND trigger = 'schedule'",
        first_id,
    )
    statuses: dict[str, int] = {}
    for _, st in rows:
        statuses[st] = statuses.get(st, 0) + 1
    return [float(r[0]) for r in rows if r[0] is not None], statuses


async def max_run_id(database_url: str) -> int:
    from tests.faults.conftest import query

    rows = await query(database_url, "SELECT COALESCE(MAX(id), 0) FROM plugin_runs")
    return int(rows[0][0])


class Database:
    """A fresh database per backend: SQLite in a temp dir, or a throw-away PostgreSQL one."""

    def __init__(self, kind: str, tag: str) -> None:
        self.kind, self.tag = kind, tag
        self._cm: Any = None

    async def __aenter__(self) -> tuple[str, Path]:
        self.dir = Path(tempfile.mkdtemp(prefix=f"unity-bench-{self.tag}-"))
        if self.kind == "sqlite":
            return f"sqlite:///{self.dir / 'homelab.db'}", self.dir
        self._cm = bench_database(self.tag)
        return await self._cm.__aenter__(), self.dir

    async def __aexit__(self, *exc: Any) -> None:
        if self._cm is not None:
            await self._cm.__aexit__(*exc)


async def run_size(
    kind: str, n: int, interval: int, duration: float, listener: Listener, how: str = "apply"
) -> dict[str, Any]:
    async with Database(kind, f"sched{n}") as (url, data):
        backend = Backend(backend_env(url), data).start()
        try:
            await asyncio.to_thread(backend.wait_healthy, 60)
            proc = psutil.Process(backend.proc.pid)  # type: ignore[union-attr]
            if n == 0:
                await asyncio.sleep(5)
                return await asyncio.to_thread(measure, proc, duration)
            t = time.monotonic()
            await asyncio.to_thread(create_all, backend, n, listener.port, interval, how)
            created_s = time.monotonic() - t
            await asyncio.sleep(
                interval + 2
            )  # every instance has run once: caches, connections warm
            first = await max_run_id(url)
            m = await asyncio.to_thread(measure, proc, duration)
            late, statuses = await lateness_since(url, first)
            m.update(
                late_p50=pct(late, 50),
                late_p99=pct(late, 99),
                late_max=max(late) if late else float("nan"),
                runs=len(late),
                expected=n * duration / interval,
                statuses=statuses,  # type: ignore[dict-item]
                created_s=created_s,
            )
            return m
        finally:
            backend.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000", help="instance counts, comma-separated")
    ap.add_argument("--duration", type=float, default=180, help="measured seconds per size")
    ap.add_argument("--interval", type=int, default=10, help="plugin interval (s)")
    ap.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    ap.add_argument(
        "--create",
        choices=["apply", "api"],
        default="apply",
        help="one POST /api/v1/config/apply (default), or one POST /api/v1/plugins each",
    )
    ap.add_argument("--skip-idle", action="store_true", help="no idle baseline (quick runs)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    header(f"bench_scheduler ({args.database}, {args.duration:g} s per size)")
    listener = Listener()
    try:
        base = (
            {"cpu": float("nan"), "rss": float("nan")}
            if args.skip_idle
            else asyncio.run(
                run_size(args.database, 0, args.interval, min(args.duration, 60), listener)
            )
        )
        print(
            f"idle backend (no plugins, baseline): CPU {base['cpu']:.2f} % of one core, "
            f"RSS {base['rss']:.1f} MB",
            flush=True,
        )
        for n in sizes:
            m = asyncio.run(
                run_size(args.database, n, args.interval, args.duration, listener, args.create)
            )
            cpu_t = f"target < {TARGET_CPU_100:g} %" if n == 100 else "no target"
            rss_t = f"target < {TARGET_RSS_100:g} MB" if n == 100 else "no target"
            tag = f"{n} tcp instances @ {args.interval} s"
            print(
                f"{tag}: backend CPU {m['cpu']:.2f} % of one core ({cpu_t}; idle "
                f"baseline {base['cpu']:.2f} %)",
                flush=True,
            )
            print(
                f"{tag}: backend RSS {m['rss']:.1f} MB, max {m['rss_max']:.1f} MB ({rss_t}; "
                f"idle baseline {base['rss']:.1f} MB)",
                flush=True,
            )
            print(
                f"{tag}: start lateness p50 {m['late_p50']:.1f} ms, p99 {m['late_p99']:.1f} ms, "
                f"max {m['late_max']:.1f} ms (target p99 < 1000 ms)",
                flush=True,
            )
            print(
                f"{tag}: {m['runs']} scheduled runs in {args.duration:g} s (expected "
                f"~{m['expected']:.0f}), outcomes {m['statuses']}; creating them "
                f"({'one config apply' if args.create == 'apply' else 'one POST each'}) took "
                f"{m['created_s']:.1f} s (target < 20 s at 10,000); load average "
                f"{_common.loadavg()}",
                flush=True,
            )
    finally:
        listener.close()


if __name__ == "__main__":
    main()
