"""Soak: 100 `tcp` instances at a 1 s interval for 10 minutes; RSS growth after warm-up.

A fresh `python -m app serve` on a fresh database runs the instances against a loopback listener.
RSS is sampled every 10 s; growth is measured from the end of the warm-up to the end, and a
least-squares slope over the post-warm-up samples says whether memory still climbs.

    cd backend && .venv/bin/python ../bench/bench_soak.py [--instances 100] [--interval 1]
        [--duration 600] [--warmup 120] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import _common  # noqa: F401 - puts backend/ on sys.path
import psutil
from _common import header, pct
from bench_scheduler import Database, Listener, create_all, lateness_since, max_run_id

from tests.live import Backend, backend_env

TARGET_GROWTH = 5.0  # % RSS growth after warm-up


def sample_rss(proc: psutil.Process, seconds: float, every: float) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    t0 = time.monotonic()
    end = t0 + seconds
    while True:
        now = time.monotonic()
        out.append((now - t0, proc.memory_info().rss / 2**20))
        if now >= end:
            return out
        time.sleep(min(every, end - now))


def slope_mb_per_hour(points: list[tuple[float, float]]) -> float:
    n = len(points)
    if n < 2:
        return float("nan")
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    var = sum((t - mx) ** 2 for t, _ in points)
    cov = sum((t - mx) * (v - my) for t, v in points)
    return cov / var * 3600 if var else float("nan")


async def soak(args: argparse.Namespace, listener: Listener) -> None:
    async with Database(args.database, "soak") as (url, data):
        backend = Backend(backend_env(url), data).start()
        try:
            await asyncio.to_thread(backend.wait_healthy, 60)
            proc = psutil.Process(backend.proc.pid)  # type: ignore[union-attr]
            await asyncio.to_thread(
                create_all, backend, args.instances, listener.port, args.interval
            )
            t0, c0 = time.monotonic(), proc.cpu_times()
            warm = await asyncio.to_thread(sample_rss, proc, args.warmup, 10)
            first = await max_run_id(url)
            rest = await asyncio.to_thread(sample_rss, proc, args.duration - args.warmup, 10)
            c1, t1 = proc.cpu_times(), time.monotonic()
            late, statuses = await lateness_since(url, first)
        finally:
            backend.stop()
    start, end = rest[0][1], rest[-1][1]
    growth = (end - start) / start * 100
    tag = f"soak {args.instances} tcp instances @ {args.interval} s for {args.duration:g} s"
    cpu = (c1.user + c1.system - c0.user - c0.system) / (t1 - t0) * 100
    print(
        f"{tag}: RSS after {args.warmup:g} s warm-up {start:.1f} MB (at start "
        f"{warm[0][1]:.1f} MB), at the end {end:.1f} MB, max {max(v for _, v in rest):.1f} MB"
    )
    print(f"{tag}: RSS growth after warm-up {growth:+.2f} % (target < {TARGET_GROWTH:g} %)")
    print(
        f"{tag}: RSS trend after warm-up {slope_mb_per_hour(rest):+.1f} MB/hour "
        "(least squares; no target)"
    )
    print(
        f"{tag}: backend CPU {cpu:.1f} % of one core; start lateness p50 {pct(late, 50):.1f} "
        f"ms, p99 {pct(late, 99):.1f} ms; {len(late)} runs, outcomes {statuses}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=100)
    ap.add_argument("--interval", type=int, default=1)
    ap.add_argument("--duration", type=float, default=600, help="total seconds")
    ap.add_argument("--warmup", type=float, default=120, help="seconds before the baseline RSS")
    ap.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    args = ap.parse_args()
    header(f"bench_soak ({args.database})")
    listener = Listener()
    try:
        asyncio.run(soak(args, listener))
    finally:
        listener.close()


if __name__ == "__main__":
    main()
