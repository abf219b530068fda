"""The footprint floor: the least a FastAPI + psutil host monitor costs.

A FastAPI app under uvicorn (uvloop, as `python -m app serve` uses) that reads the host values the
`system` plugin reads (CPU times in total and per core, load, memory, swap, disk usage per real
filesystem, disk and network I/O counters, uptime, process count) in a worker thread every
`--interval` seconds, turns counters into rates, and serves the latest values as JSON at
`GET /latest`. `PUT /interval?seconds=N` changes the period, so the benchmark can move it in step
with Unity's host plugin. Nothing is stored and nothing is authenticated.

    python _floor_app.py --port 8123 [--interval 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import psutil
import uvicorn
from fastapi import FastAPI

SKIP_FSTYPES = {"tmpfs", "devtmpfs", "overlay", "squashfs", "proc", "sysfs", "cgroup2", "nsfs"}


def cpu() -> list[tuple[float, float]]:
    out = []
    for t in [psutil.cpu_times(), *psutil.cpu_times(percpu=True)]:
        idle = t.idle + getattr(t, "iowait", 0.0)
        out.append((sum(t) - idle, idle))
    return out


class Sampler:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.latest: dict[str, Any] = {}
        self.prev: tuple[float, list[tuple[float, float]], Any, dict[str, Any]] | None = None
        self.wake = asyncio.Event()

    def read(self) -> dict[str, Any]:
        now = time.monotonic()
        cpus = cpu()
        disk = psutil.disk_io_counters(perdisk=False, nowrap=True)
        net = psutil.net_io_counters(pernic=True, nowrap=True)
        vm, sw = psutil.virtual_memory(), psutil.swap_memory()
        values: dict[str, Any] = {
            "load_average": os.getloadavg(),
            "memory": [vm.total, vm.total - vm.available, vm.available, vm.percent],
            "swap": [sw.total, sw.used, sw.percent],
            "uptime": time.time() - psutil.boot_time(),
            "process_count": len(psutil.pids()),
            "disks": {},
        }
        for part in psutil.disk_partitions(all=False):
            if part.fstype not in SKIP_FSTYPES:
                du = psutil.disk_usage(part.mountpoint)
                values["disks"][part.mountpoint] = [du.total, du.used, du.free, du.percent]
        if self.prev is not None:
            at, pcpus, pdisk, pnet = self.prev
            span = max(now - at, 1e-6)
            values["cpu_percent"] = [
                100 * (b - pb) / max((b - pb) + (i - pi), 1e-9)
                for (b, i), (pb, pi) in zip(cpus, pcpus, strict=True)
            ]
            if disk is not None and pdisk is not None:
                values["disk_rates"] = [
                    (disk.read_bytes - pdisk.read_bytes) / span,
                    (disk.write_bytes - pdisk.write_bytes) / span,
                ]
            values["network_rates"] = {
                nic: [
                    (c.bytes_recv - pnet[nic].bytes_recv) / span,
                    (c.bytes_sent - pnet[nic].bytes_sent) / span,
                ]
                for nic, c in net.items()
                if nic != "lo" and nic in pnet
            }
        self.prev = (now, cpus, disk, net)
        return values

    async def run(self) -> None:
        while True:
            self.latest = await asyncio.to_thread(self.read)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.interval)
            self.wake.clear()


def create_app(interval: float) -> FastAPI:
    sampler = Sampler(interval)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(sampler.run())
        yield
        task.cancel()

    app = FastAPI(lifespan=lifespan)

    @app.get("/latest")
    async def latest() -> dict[str, Any]:
        return sampler.latest

    @app.put("/interval")
    async def set_interval(seconds: float) -> dict[str, float]:
        sampler.interval = seconds
        sampler.wake.set()
        return {"interval": seconds}

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--interval", type=float, default=30.0)
    args = parser.parse_args()
    uvicorn.run(create_app(args.interval), host="127.0.0.1", port=args.port, log_level="warning")
