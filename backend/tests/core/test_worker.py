"""The workers' shared retry shape: backoff with jitter, and an outage logged in a few lines.

The writer test cuts a real PostgreSQL off behind a loopback proxy (refused, then silent) and
checks what a user sees: every sample written once it is back, and a handful of log lines.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.core.worker import BACKOFF_MAX_SECONDS, Backoff, Outage
from app.main import create_app
from app.models import PluginInstance
from app.models import Sample as SampleRow
from app.plugins.base import Sample
from tests.conftest import _pg_dsn, make_settings
from tests.faults.conftest import TcpProxy, via


def test_backoff_doubles_from_half_a_second_to_thirty_with_jitter_and_resets() -> None:
    backoff = Backoff()
    bases = [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    delays = [backoff.failed() for _ in bases]
    for base, delay in zip(bases, delays, strict=True):
        assert base * 0.8 <= delay <= base * 1.2
    assert BACKOFF_MAX_SECONDS == 30
    backoff.reset()
    assert 0.4 <= backoff.failed() <= 0.6
    # Jitter: two workers failing together do not retry in step.
    assert len({round(Backoff().failed(), 6) for _ in range(20)}) > 1


def test_an_outage_is_three_kinds_of_line_not_one_per_retry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("tests.outage")
    buffered = [0]
    outage = Outage(log, "metrics writes", lambda: f"{buffered[0]} samples buffered", every=0.2)
    with caplog.at_level(logging.WARNING, "tests.outage"):
        for i in range(50):
            buffered[0] = i
            outage.failed(ConnectionRefusedError(111, "Connect call failed"), 0.5)
        assert [r.getMessage()[:30] for r in caplog.records] == ["metrics writes failing, retryi"]
        assert "ConnectionRefusedError" in caplog.records[0].getMessage()
        time.sleep(0.25)
        outage.failed(TimeoutError(), 1.0)
        outage.failed(TimeoutError(), 2.0)
        assert len(caplog.records) == 2
        assert "still failing after" in caplog.records[1].getMessage()
        assert "49 samples buffered" in caplog.records[1].getMessage()
        outage.recovered()
        outage.recovered()  # nothing more: the outage is over
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3
    assert "recovered after" in messages[2] and "52 failed attempts" in messages[2]
    assert all(r.exc_info is None for r in caplog.records)  # no tracebacks


@pytest.mark.postgres
@pytest.mark.parametrize("mode", ["refused", "silent"])
async def test_the_writer_backs_off_keeps_every_sample_and_logs_a_handful_of_lines(
    pg_url: str, tmp_path: Path, mode: str
) -> None:
    target = make_url(_pg_dsn("postgres"))
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    settings = make_settings(
        via(proxy, pg_url), tmp_path, db_connect_timeout_seconds=1, db_statement_timeout_seconds=3
    )
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            state = app.state.unity
            async with state.db.session() as s:
                plugin = PluginInstance(
                    name="p", type="system", config={}, interval_seconds=1, enabled=False
                )
                s.add(plugin)
                await s.commit()
            t0 = datetime.now(UTC) - timedelta(hours=1)
            writer = state.writer
            writer.submit(plugin.id, t0, [Sample("v", 0)])
            await writer.flushed(10)
            # Our own handler: create_app's logging set-up replaced pytest's on the root.
            records: list[logging.LogRecord] = []
            handler = logging.Handler(logging.WARNING)
            handler.emit = records.append  # type: ignore[method-assign]
            logger = logging.getLogger("app.services.metrics.writer")
            logger.addHandler(handler)
            try:
                proxy.cut() if mode == "refused" else proxy.silence()
                n = 1
                outage_started = time.monotonic()
                while time.monotonic() - outage_started < 6:  # samples keep coming meanwhile
                    writer.submit(plugin.id, t0 + timedelta(seconds=n), [Sample("v", n)])
                    n += 1
                    await asyncio.sleep(0.1)
                failures = writer.stats.failures
                proxy.restore()
                await writer.flushed(60)
            finally:
                logger.removeHandler(handler)
            async with state.db.session() as s:
                stored = await s.scalar(select(func.count()).select_from(SampleRow))
            assert stored == n, "samples were lost across the outage"
            assert writer.stats.dropped == 0
            # Backoff: 0.5 + 1 + 2 + 4 s covers the outage in a few attempts, where a fixed
            # half-second delay would have made a dozen.
            assert failures <= 6
            lines = [r.getMessage() for r in records]
            assert 1 <= len(lines) <= 3, lines
            assert "metrics writes failing" in lines[0]
            assert "metrics writes recovered after" in lines[-1]
            assert all(r.exc_info is None for r in records)
    finally:
        proxy.close()
