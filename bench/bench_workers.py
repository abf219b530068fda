"""Runs spread over workers (issue 24): one leader plus 2 workers against loopback `tcp` targets.

For each size (default 20,000 instances at 10 s), on one fresh PostgreSQL database:
1. baseline: one `python -m app serve` runs every plugin itself (no queue), measured over
   --duration seconds: its CPU, and the start lateness (p50/p99) of every run in the window;
2. workers: the same backend with RUN_WORKERS=true (the leader only enqueues) and two
   `python -m app worker` processes, measured the same way (CPU of each process, and of the
   Redis server), plus runs lost (due times in the window with no run) and run twice;
3. kill -9 of one worker mid-run; the other takes its claimed runs over after the claim
   timeout (RUN_CLAIM_TIMEOUT_SECONDS, --claim-timeout) and carries on alone. Due times from
   the kill until the end (less one claim timeout) are checked: lost, and run twice.

A run's due time is its start less its lateness (both recorded); due times are whole seconds
(each instance's start offset is), so "the same due time" is exact.

    cd backend && .venv/bin/python ../bench/bench_workers.py [--sizes 20000,5000]
        [--duration 60] [--interval 10] [--claim-timeout 10] [--after-kill 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _common
import psutil
from _common import bench_database, header, pct
from bench_scheduler import Listener as OneThreadListener

from tests.faults.conftest import query
from tests.live import BACKEND, Backend, backend_env

REDIS_URL = os.environ.get("UNITY_BENCH_REDIS", "redis://127.0.0.1:6379/0")
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


class Listener(OneThreadListener):
    """The loopback target, accepting on 4 threads with a deep backlog: thousands of connects
    a second from the workers must not queue at the target (a check would time out there)."""

    def __init__(self) -> None:
        super().__init__()
        self.sock.listen(4096)
        for _ in range(3):
            threading.Thread(target=self._serve, daemon=True).start()


class Worker:
    """`python -m app worker` as a child process."""

    def __init__(self, env: dict[str, str], data_dir: Path, name: str) -> None:
        self.name = name
        self.log = data_dir / f"worker-{name}.log"
        base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
        env = {**base, "PYTHONPATH": str(BACKEND), "DATA_DIR": str(data_dir), **env}
        env.setdefault("CANARY_TARGETS", "")
        self._fh = self.log.open("ab")
        self.proc = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, "-m", "app", "worker", "--name", name],
            cwd=BACKEND,
            env=env,
            stdout=self._fh,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._fh.close()


def redis_process() -> psutil.Process | None:
    for p in psutil.process_iter(["name", "cmdline"]):
        if p.info["name"] == "redis-server" and "6379" in " ".join(p.info["cmdline"] or []):
            return p
    return None


def cpu_of(procs: dict[str, psutil.Process], seconds: float) -> dict[str, float]:
    """CPU % of one core of each process over the same window."""
    t0 = time.monotonic()
    c0 = {k: p.cpu_times() for k, p in procs.items()}
    time.sleep(seconds)
    t1 = time.monotonic()
    out = {}
    for k, p in procs.items():
        try:
            c1 = p.cpu_times()
        except psutil.NoSuchProcess:
            out[k] = float("nan")
            continue
        out[k] = (c1.user + c1.system - c0[k].user - c0[k].system) / (t1 - t0) * 100
    return out


async def grid(url: str) -> dict[int, tuple[float, int]]:
    """Each plugin's first due time (epoch s) and interval, as the scheduler's `_stagger`."""
    rows = await query(url, "SELECT id, interval_seconds FROM plugins WHERE enabled")
    return {pid: (EPOCH.timestamp() + pid * 7919 % iv, iv) for pid, iv in rows}


async def runs_between(
    url: str, plan: dict[int, tuple[float, int]], start: datetime, end: datetime
) -> list[tuple[int, int, float]]:
    """(plugin, due second, lateness ms) of the scheduled runs due in [start, end). A run's due
    time is its start less its lateness, snapped to its plugin's grid of due times (the two are
    taken a moment apart, more on a busy loop)."""
    rows = await query(
        url,
        "SELECT plugin_id, started_at, lateness_ms FROM plugin_runs WHERE trigger = 'schedule' "
        "AND status <> 'interrupted' AND started_at >= $1",
        start,
    )
    out = []
    for plugin_id, started, lateness in rows:
        first, interval = plan[plugin_id]
        estimate = started.timestamp() - (lateness or 0) / 1000
        due = round(first + round((estimate - first) / interval) * interval)
        if start.timestamp() <= due < end.timestamp():
            out.append((plugin_id, due, float(lateness or 0)))
    return out


def expected_dues(
    plan: dict[int, tuple[float, int]], start: datetime, end: datetime
) -> set[tuple[int, int]]:
    """Every (plugin, due second) in [start, end)."""
    due: set[tuple[int, int]] = set()
    a, b = start.timestamp(), end.timestamp()
    for plugin_id, (first, interval) in plan.items():
        t = first + max(0, int((a - first) // interval)) * interval
        while t < b:
            if t >= a:
                due.add((plugin_id, round(t)))
            t += interval
    return due


async def audit(url: str, start: datetime, end: datetime) -> dict[str, Any]:
    plan = await grid(url)
    runs = await runs_between(url, plan, start, end)
    expected = expected_dues(plan, start, end)
    seen = Counter((p, d) for p, d, _ in runs)
    late = [lat for *_, lat in runs]
    return {
        "expected": len(expected),
        "runs": len(runs),
        "lost": len(expected - set(seen)),
        "twice": sum(1 for c in seen.values() if c > 1),
        "p50": pct(late, 50),
        "p99": pct(late, 99),
    }


async def create_all(url: str, n: int, port: int, interval: int) -> None:
    """N `tcp` rows written straight into the database before the backend starts: what is
    measured is running them, not creating them (a config apply of 20,000 on a busy 2-core box
    outlasts the API's 120 s request limit)."""
    config = json.dumps({"host": "127.0.0.1", "port": port, "timeout_seconds": 2})
    await query(
        url,
        "INSERT INTO plugins (name, type, config, interval_seconds, timeout_seconds, enabled, "
        "created_at, updated_at) SELECT 'tcp-' || i, 'tcp', $1::json, $2, $3, true, now(), now() "
        "FROM generate_series(0, $4 - 1) AS i",
        config,
        interval,
        min(interval, 5),
        n,
    )


async def warm_up(url: str, n: int, interval: int, limit: float) -> float:
    """Seconds until one interval's worth of runs (90 %) lands, or `limit` (a box too busy)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        await asyncio.sleep(interval)
        rows = await query(
            url,
            "SELECT count(*) FROM plugin_runs WHERE started_at > now() - make_interval(secs => $1)",
            float(interval),
        )
        if rows[0][0] >= 0.9 * n:
            break
    return time.monotonic() - t0


def now() -> datetime:
    return datetime.now(UTC)


async def run_size(n: int, args: argparse.Namespace, listener: Listener) -> None:
    tag = f"{n} tcp instances @ {args.interval} s"
    async with bench_database(f"workers{n}") as url:
        data = Path(tempfile.mkdtemp(prefix="unity-bench-workers-"))
        await create_all(url, n, listener.port, args.interval)
        # 1. baseline: one process runs everything
        backend = Backend(backend_env(url), data).start()
        try:
            await asyncio.to_thread(backend.wait_healthy, 300)
            took = await warm_up(url, n, args.interval, args.warmup)
            print(f"{tag}: single process: warm-up {took:.0f} s", flush=True)
            procs = {"server": psutil.Process(backend.proc.pid)}  # type: ignore[union-attr]
            start = now()
            cpu = await asyncio.to_thread(cpu_of, procs, args.duration)
            end = now()
            await asyncio.sleep(3)  # the window's last records saved
            a = await audit(url, start, end)
            print(
                f"{tag}: single process: server CPU {cpu['server']:.1f} % of one core; start "
                f"lateness p50 {a['p50']:.0f} ms, p99 {a['p99']:.0f} ms; {a['runs']} runs of "
                f"{a['expected']} due, lost {a['lost']}, twice {a['twice']}; load average "
                f"{_common.loadavg()}",
                flush=True,
            )
        finally:
            backend.stop()
        # 2. the same plugins, queued by the leader and run by two workers
        key = f"unity-bench:{uuid.uuid4().hex[:8]}"
        queue = {
            "redis_url": REDIS_URL,
            "redis_channel": f"{key}:events",
            "run_workers": "true",
            "run_queue_key": key,
            "run_claim_timeout_seconds": str(args.claim_timeout),
        }
        env = backend_env(url, **queue)
        backend = Backend(env, data).start()
        workers: list[Worker] = []
        try:
            await asyncio.to_thread(backend.wait_healthy, 300)
            workers = [Worker(env, data, f"w{i}") for i in (1, 2)]
            await asyncio.sleep(args.interval)  # the baseline's last runs out of the count
            took = await warm_up(url, n, args.interval, args.warmup)
            print(f"{tag}: leader + 2 workers: warm-up {took:.0f} s", flush=True)
            procs = {"leader": psutil.Process(backend.proc.pid)}  # type: ignore[union-attr]
            procs |= {w.name: psutil.Process(w.proc.pid) for w in workers}
            if (redis := redis_process()) is not None:
                procs["redis-server"] = redis
            start = now()
            cpu = await asyncio.to_thread(cpu_of, procs, args.duration)
            end = now()
            await asyncio.sleep(3)
            a = await audit(url, start, end)
            cpus = ", ".join(f"{k} {v:.1f} %" for k, v in cpu.items())
            print(
                f"{tag}: leader + 2 workers: CPU {cpus} (of one core each; redis-server is "
                f"shared with other work); start lateness p50 {a['p50']:.0f} ms, p99 "
                f"{a['p99']:.0f} ms; {a['runs']} runs of {a['expected']} due, lost {a['lost']}, "
                f"twice {a['twice']}; load average {_common.loadavg()}",
                flush=True,
            )
            # 3. kill -9 one worker mid-run
            killed_at = now()
            workers[0].proc.kill()
            workers[0].proc.wait(10)
            procs.pop("w1")
            cpu = await asyncio.to_thread(cpu_of, procs, args.after_kill)
            await asyncio.sleep(3)
            end = now()
            window_end = datetime.fromtimestamp(
                end.timestamp() - args.claim_timeout - args.interval, UTC
            )
            start = datetime.fromtimestamp(killed_at.timestamp() - args.interval, UTC)
            a = await audit(url, start, window_end)
            cpus = ", ".join(f"{k} {v:.1f} %" for k, v in cpu.items())
            print(
                f"{tag}: kill -9 of w1: due times from {args.interval} s before the kill to "
                f"{(window_end - killed_at).total_seconds():.0f} s after: {a['runs']} runs of "
                f"{a['expected']} due, lost {a['lost']}, twice {a['twice']}; start lateness "
                f"p50 {a['p50']:.0f} ms, p99 {a['p99']:.0f} ms; CPU after the kill {cpus}; "
                f"load average {_common.loadavg()}",
                flush=True,
            )
            taken = [
                line
                for line in (data / "worker-w2.log").read_text().splitlines()
                if "took over" in line or "duplicate delivery" in line
            ]
            print(f"{tag}: w2's takeover lines: {len(taken)}; first: {taken[:1]}", flush=True)
        finally:
            for w in workers:
                w.stop()
            backend.stop()
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            client.delete(key, f"{key}:done")
            client.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="20000", help="instance counts, comma-separated")
    ap.add_argument("--duration", type=float, default=60, help="measured seconds per phase")
    ap.add_argument("--interval", type=int, default=10, help="plugin interval (s)")
    ap.add_argument("--claim-timeout", type=float, default=10, help="RUN_CLAIM_TIMEOUT_SECONDS")
    ap.add_argument("--after-kill", type=float, default=40, help="seconds after the kill")
    ap.add_argument(
        "--warmup", type=float, default=240, help="most seconds to wait for runs to flow"
    )
    args = ap.parse_args()
    header(f"bench_workers ({args.duration:g} s per phase, claim timeout {args.claim_timeout:g})")
    listener = Listener()
    try:
        for n in [int(s) for s in args.sizes.split(",") if s]:
            asyncio.run(run_size(n, args, listener))
    finally:
        listener.close()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up (children, database)
    main()
