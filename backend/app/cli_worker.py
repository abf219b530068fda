"""`python -m app worker`: run the plugin runs the leader queues on Redis (RUN_WORKERS=true)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from typing import Any, NoReturn

from app.core.config import Settings
from app.core.signals import stop_on_signals

log = logging.getLogger("app.worker")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "worker",
        help="run plugin runs queued on Redis by the scheduler leader (RUN_WORKERS=true)",
        description="Needs the servers' DATABASE_URL, ENCRYPTION_KEY and REDIS_URL. Start any "
        "number, on any host: each claims due runs from the queue, runs them and records them.",
    )
    p.add_argument("--name", help="this worker's name in the queue (default: host-pid)")
    p.add_argument(
        "--alive-file",
        help="touch this file every few seconds while the worker's loop runs (for a health check "
        "that tests its age, as the compose file's does)",
    )


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
    asyncio.run(_main(settings, name, args.alive_file))


ALIVE_EVERY_SECONDS = 5.0


async def _keep_alive(path: str, stop: asyncio.Event) -> None:
    """Touch `path` while the event loop turns: a stuck loop lets the file age."""
    while not stop.is_set():
        try:
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
            os.utime(path)  # a local file: microseconds, fine on the loop
        except OSError as exc:
            log.warning("cannot touch the alive file %s: %s", path, exc)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), ALIVE_EVERY_SECONDS)


async def _main(settings: Settings, name: str, alive_file: str | None = None) -> None:
    from app.services.plugins.runworker import WorkerService

    service = WorkerService(settings, name)
    stop = asyncio.Event()
    stop_on_signals(stop)
    beat = asyncio.create_task(_keep_alive(alive_file, stop)) if alive_file else None
    try:
        await service.run(stop)
    finally:
        if beat is not None:
            beat.cancel()
