"""`python -m app worker`: run the plugin runs the leader queues on Redis (RUN_WORKERS=true)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable
from typing import Any, NoReturn

from app.core.config import Settings

log = logging.getLogger("app.worker")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "worker",
        help="run plugin runs queued on Redis by the scheduler leader (RUN_WORKERS=true)",
        description="Needs the servers' DATABASE_URL, ENCRYPTION_KEY and REDIS_URL. Start any "
        "number, on any host: each claims due runs from the queue, runs them and records them.",
    )
    p.add_argument("--name", help="this worker's name in the queue (default: host-pid)")


def run(args: argparse.Namespace, settings: Settings, fail: Callable[[str], NoReturn]) -> None:
    if not settings.redis_url:
        fail(
            "a worker takes its runs from Redis: set REDIS_URL (and RUN_WORKERS=true on the "
            "servers, so their scheduler leader queues the runs instead of running them)"
        )
    if not settings.run_workers:
        log.warning(
            "RUN_WORKERS is not true here: make sure it is on the servers, or no run is queued"
        )
    name = args.name or f"{socket.gethostname()}-{os.getpid()}"
    asyncio.run(_main(settings, name))


async def _main(settings: Settings, name: str) -> None:
    from app.services.plugins.runworker import WorkerService

    service = WorkerService(settings, name)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # Windows' loops have no signal handlers
            loop.add_signal_handler(sig, stop.set)
    await service.run(stop)
