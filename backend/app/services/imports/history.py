"""What every import shares: the writer it goes through, roll-up marks, uptime, progress lines.

Samples go through the metrics writer like a plugin run's, so series are found or created the
same way, a sample already stored is overwritten rather than repeated (re-running an import
never duplicates), and a sample older than a roll-up tier's mark marks its bucket dirty, so
the next maintenance pass rolls the imported history up.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.core.config import Settings
from app.db.session import Database
from app.models import (
    PluginInstance,
    PluginRun,
    RollupState,
    UptimeCursor,
    UptimeDaily,
    UptimeHourly,
)
from app.plugins.base import Sample
from app.services.alerts import maintenance
from app.services.metrics.partitions import ensure_partitions
from app.services.metrics.tiers import ROLLUPS, floor_to
from app.services.metrics.uptime import (
    CURSOR,
    HOUR,
    KINDS,
    Durations,
    by_bucket,
    floor_day,
    floor_hour,
    fold_plugin,
)
from app.services.metrics.writer import MetricsWriter

# What the first maintenance pass of a new database rolls up (see maintenance.rollup): a mark
# set there changes nothing for data already stored, and makes older imported data late.
FIRST_PASS = timedelta(days=2)
FLUSH_WITHIN = 600.0  # seconds one chunk may take to commit before the import gives up
GIVE_UP_AFTER = 5  # failed writes of one chunk in a row


@contextlib.asynccontextmanager
async def history_writer(db: Database, settings: Settings) -> AsyncIterator[MetricsWriter]:
    """A metrics writer for an import, its roll-up marks in place first."""
    await ensure_rollup_marks(db, datetime.now(UTC))
    writer = MetricsWriter(db, settings)
    await writer.start()
    try:
        yield writer
    finally:
        await writer.stop(FLUSH_WITHIN)


async def write_chunk(
    db: Database, writer: MetricsWriter, batches: Iterable[tuple[int, datetime, list[Sample]]]
) -> None:
    """Hand one chunk to the writer and wait until it is committed.

    The days' partitions (PostgreSQL) are made first: a chunk that both repeats stored rows
    and opens a new day would otherwise meet two conflicts in one write. A database that
    keeps refusing the chunk stops the import with its error instead of retrying forever.
    """
    batches = list(batches)
    if not db.is_sqlite:
        async with db.engine.connect() as conn:
            await ensure_partitions(conn, {ts.astimezone(UTC).date() for _, ts, _ in batches})
            await conn.commit()
    for plugin_id, ts, samples in batches:
        writer.submit(plugin_id, ts, samples)
    failures = writer.stats.failures
    deadline = time.monotonic() + FLUSH_WITHIN
    while True:
        try:
            await writer.flushed(within=1.0)
            break
        except TimeoutError:
            if writer.stats.failures - failures >= GIVE_UP_AFTER or time.monotonic() > deadline:
                raise WriteFailed(
                    f"the database does not take the samples: {writer.stats.last_error}"
                ) from None
    if writer.stats.dropped or writer.stats.discarded:
        raise WriteFailed(
            f"{writer.stats.dropped + writer.stats.discarded} samples were not written "
            "(a plugin deleted meanwhile?)"
        )


class WriteFailed(Exception):
    """The writer could not store a chunk; what was committed before is kept."""


async def ensure_rollup_marks(db: Database, now: datetime) -> None:
    """Give each roll-up tier a mark if it has none yet (a database no server has maintained).

    Without one the writer cannot tell imported history is late, and the first maintenance
    pass would roll up only its last two days.
    """
    async with db.engine.connect() as conn:
        have = set(await conn.scalars(select(RollupState.name)))
        missing = [
            {"name": t.name, "done_until": floor_to(now - FIRST_PASS, t.seconds)}
            for t in ROLLUPS
            if t.name not in have
        ]
        if missing:
            ins = sqlite_insert if db.is_sqlite else pg_insert
            await conn.execute(ins(RollupState).on_conflict_do_nothing(), missing)
            await conn.commit()


async def add_runs(db: Database, rows: list[dict[str, Any]]) -> None:
    """Insert run records (plugin_runs rows) in pieces of 1,000."""
    if not rows:
        return
    async with db.session() as session:
        for i in range(0, len(rows), 1000):
            await session.execute(insert(PluginRun), rows[i : i + 1000])
        await session.commit()


async def refold_uptime(db: Database, plugin_ids: Collection[int]) -> None:
    """Recompute the uptime roll-ups of these plugins up to the uptime cursor.

    Imported runs lie behind the cursor, where the scheduled roll-up never looks again.
    Until the cursor exists (no roll-up ran yet) there is nothing to do: its first pass
    starts at the oldest run. Each plugin is replaced whole, in one transaction.
    """
    if not plugin_ids:
        return
    async with db.session() as session:
        cursor = await session.get(UptimeCursor, CURSOR, with_for_update=not db.is_sqlite)
        if cursor is None:
            await session.commit()
            return
        hi = cursor.position
        for pid in plugin_ids:
            plugin = await session.get(PluginInstance, pid)
            if plugin is None:
                continue
            lo = min(plugin.created_at, hi)
            runs = [
                (start, status)
                for start, status in await session.execute(
                    select(PluginRun.started_at, PluginRun.status)
                    .where(PluginRun.plugin_id == pid, PluginRun.started_at < hi)
                    .order_by(PluginRun.started_at)
                )
            ]
            windows = await maintenance.windows_between(session, lo, hi)
            spans = maintenance.by_plugin(windows, [pid], lo, hi).get(pid, ())
            segments = fold_plugin(runs, lo, hi, plugin.interval_seconds, spans)
            hourly = by_bucket(segments, floor_hour, HOUR)
            await session.execute(delete(UptimeHourly).where(UptimeHourly.plugin_id == pid))
            await session.execute(delete(UptimeDaily).where(UptimeDaily.plugin_id == pid))
            await _insert(session, UptimeHourly, _hourly_rows(pid, hourly))
            await _insert(session, UptimeDaily, _daily_rows(pid, hourly))
        await session.commit()


def _hourly_rows(pid: int, hourly: dict[datetime, Durations]) -> list[dict[str, Any]]:
    return [{"plugin_id": pid, "hour": h, **_cols(d)} for h, d in sorted(hourly.items())]


def _daily_rows(pid: int, hourly: dict[datetime, Durations]) -> list[dict[str, Any]]:
    days: dict[datetime, Durations] = {}
    for hour, d in hourly.items():
        days.setdefault(floor_day(hour), Durations()).merge(d)
    cum = Durations()
    out = []
    for day, d in sorted(days.items()):
        cum.merge(d)
        totals = {f"cum_{k}_s": getattr(cum, f"{k}_s") for k in KINDS}
        out.append({"plugin_id": pid, "day": day, **_cols(d), **totals})
    return out


async def _insert(session: Any, model: type, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), 1000):
        await session.execute(insert(model), rows[i : i + 1000])


def _cols(d: Durations) -> dict[str, float]:
    return {f"{k}_s": getattr(d, f"{k}_s") for k in KINDS}


@dataclass
class Progress:
    """Progress on stderr: counts, rate and (when the total is known) the ETA.

    At most one line a second (`every`), and one at the end; on a terminal the line is
    rewritten in place.
    """

    stream: TextIO | None
    total: float | None = None  # e.g. the file size in bytes
    every: float = 1.0
    clock: Callable[[], float] = time.monotonic
    samples: int = 0
    series: set[Any] = field(default_factory=set)
    done: float = 0.0  # how much of `total` is done
    started: float = field(default=0.0)
    _last: float = field(default=-1e9)
    _start_samples: int = 0
    _start_done: float = 0.0

    def begin(self, samples: int = 0, done: float = 0.0) -> None:
        """Start timing; `samples` and `done` are what an earlier, interrupted run did."""
        self.started = self.clock()
        self.samples = self._start_samples = samples
        self.done = self._start_done = done

    def add(self, samples: int, keys: Iterable[Any], done: float) -> None:
        self.samples += samples
        self.series.update(keys)
        self.done = done
        if self.clock() - self._last >= self.every:
            self.show()

    def line(self) -> str:
        elapsed = max(self.clock() - self.started, 1e-9)
        rate = (self.samples - self._start_samples) / elapsed
        text = f"{self.samples:,} samples, {len(self.series):,} series, {rate:,.0f} samples/s"
        if self.total:
            share = min(self.done / self.total, 1.0)
            text += f", {share:.0%}"
            if 0 < share < 1:
                # The rate of this run, over what is left of the file.
                speed = max(self.done - self._start_done, 1e-9) / elapsed
                text += f", ETA {timedelta(seconds=round((self.total - self.done) / speed))}"
        return text

    def show(self, final: bool = False) -> None:
        self._last = self.clock()
        if self.stream is None:
            return
        tty = self.stream.isatty()
        end = "\n" if final or not tty else ""
        self.stream.write(("\r" if tty else "") + f"import: {self.line()}" + end)
        self.stream.flush()
