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
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn

from app.core.config import Settings
from app.core.security import SecretBox
from app.core.worker import ShutdownClock, bounded
from app.db.session import Database
from app.plugins.registry import PluginRegistry
from app.services.live.hub import Hub

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
    from app.services.plugins.runworker import RunWorker, TrackingRecorder, TrackingWriter
    from app.services.plugins.scheduler import PluginScheduler

    db = Database(settings.db_url, timeouts=settings.db_timeouts)
    executor = ThreadPoolExecutor(settings.plugin_threads, thread_name_prefix="plugin")
    registry = PluginRegistry().load()
    hub = Hub(settings)  # run, health and metrics events reach the servers' clients via Redis
    writer = TrackingWriter(db, settings, publish=hub.publish_metrics)
    recorder = TrackingRecorder(db, settings, hub)
    runs = PluginScheduler(
        db, settings, registry, SecretBox(settings.encryption_keys), writer, recorder, executor
    )
    worker = RunWorker(settings, runs, name)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # Windows' loops have no signal handlers
            loop.add_signal_handler(sig, stop.set)
    await writer.start()
    await recorder.start()
    await hub.start(listen=False)
    log.info("worker started", extra={"worker": name, "queue": settings.run_queue_key})
    try:
        await worker.run(stop)
    finally:
        log.info("worker stopping", extra={"worker": name})
        clock = ShutdownClock(settings.shutdown_timeout_seconds)
        await worker.drain(clock.left(3.0))
        await bounded(runs.stop(), clock.left(2.0), "the runs")
        await asyncio.gather(recorder.stop(clock.left(1.0)), writer.stop(clock.left(1.0)))
        await worker.close()
        await bounded(hub.stop(), clock.left(), "the event hub")
        executor.shutdown(wait=False, cancel_futures=True)
        await bounded(db.dispose(), clock.left(), "closing database connections")
        log.info(
            "worker stopped",
            extra={
                "worker": name,
                "ran": worker.ran,
                "duplicates": worker.duplicates,
                "taken_over": worker.taken_over,
            },
        )
