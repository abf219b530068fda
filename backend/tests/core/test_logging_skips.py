"""APScheduler's "skipped: maximum number of running instances" warnings stay out of the log.

A job still running when its next slot comes (a slow plugin, a leader job waiting on a silent
database) would otherwise add a line per missed slot; Unity logs the cause itself.
"""

from __future__ import annotations

import asyncio
import io
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.core.logging import setup_logging


async def test_a_job_outlasting_its_interval_adds_no_line_per_missed_slot() -> None:
    out = io.StringIO()
    setup_logging("info", stream=out)
    scheduler = AsyncIOScheduler()
    runs = 0

    async def slow() -> None:
        nonlocal runs
        runs += 1
        await asyncio.sleep(2.5)

    scheduler.add_job(slow, "interval", seconds=0.5, max_instances=1)
    scheduler.start()
    try:
        await asyncio.sleep(2)
    finally:
        scheduler.shutdown(wait=False)
    assert runs == 1  # the slots in between were skipped
    logging.getLogger("apscheduler.scheduler").warning("another scheduler warning")
    text = out.getvalue()
    assert "maximum number of running instances" not in text
    assert "another scheduler warning" in text  # the logger still speaks otherwise
