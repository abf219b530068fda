"""The metrics writer's storage stage: a prepared group of samples in one transaction.

On PostgreSQL: each series' latest value, COPY of the rows and the late roll-up buckets through
the async pool. On SQLite: the same as one function handed to the writers' thread
(app/db/sqlite_writes.py), so a flush costs one hand-off, not one per DBAPI call.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.session import Database
from app.db.sqlite_writes import SqliteWrites
from app.models import RollupState
from app.services.metrics.batch import Prepared
from app.services.metrics.partitions import ensure_partitions
from app.services.metrics.sample_rows import (
    insert_samples,
    late_buckets,
    mark_dirty,
    update_latest,
    write_sqlite,
)

MARKS_TTL_SECONDS = 15.0  # how long the roll-up marks read from the database are trusted


class SampleStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        # How far each roll-up tier is done (rollup_state), as last read or told: a sample
        # older than its tier's mark makes its bucket dirty (see mark_dirty).
        self.marks: dict[str, datetime] = {}
        self._marks_read = -math.inf  # monotonic time of the last read

    async def _late(self, conn: AsyncConnection, p: Prepared) -> set[tuple[str, int, datetime]]:
        """The roll-up buckets these records land behind their tier's mark.

        The marks are re-read every MARKS_TTL_SECONDS. A mark that moved meanwhile (or moves
        while this commits) is covered by maintenance re-rolling RECENT before each mark.
        """
        if time.monotonic() - self._marks_read > MARKS_TTL_SECONDS:
            rows = await conn.execute(_MARKS)
            self.marks = {name: until for name, until in rows}
            self._marks_read = time.monotonic()
        return _late_of(p, self.marks)

    async def store(self, p: Prepared) -> None:
        """Write a prepared group: one transaction, committed when this returns."""
        if self.db.writes is not None:
            await self._store_sqlite(self.db.writes, p)
        else:
            await self._store_pg(p)

    async def _store_sqlite(self, writes: SqliteWrites, p: Prepared) -> None:
        """Latest values, rows and late buckets in one hand-off to the writers' thread.

        Rows are upserted (the newest value wins, as within a batch): a retried piece may
        have been written before.
        """
        if not p.records:
            return
        stale = time.monotonic() - self._marks_read > MARKS_TTL_SECONDS
        marks = dict(self.marks)  # rolled_up() may change it on the loop while this runs

        def work(conn: Connection) -> dict[str, datetime] | None:
            read = {name: until for name, until in conn.execute(_MARKS)} if stale else None
            write_sqlite(conn, p.records, p.latest, _late_of(p, marks if read is None else read))
            return read

        read = await writes.run(work)
        if read is not None:
            self.marks, self._marks_read = read, time.monotonic()

    async def _store_pg(self, p: Prepared) -> None:
        """Move each series' latest value, COPY the rows, commit: one transaction.

        The UPDATE goes first so that the transaction is open when COPY runs on the driver
        connection (asyncpg would otherwise wrap the COPY in a transaction of its own). The
        rare conflicts roll it all back and go again once: a day without a partition yet
        (create it), or rows written before (an earlier piece of this run, or an ambiguous
        commit retried: upsert, the newest value winning as within a batch).
        """
        upsert = False
        handled: set[str] = set()  # each conflict once; a piece can meet both
        while True:
            try:
                async with self.db.engine.connect() as conn:
                    if p.records:
                        late = await self._late(conn, p)
                        await update_latest(conn, p.latest)
                        await insert_samples(conn, p.records, upsert)
                        if late:
                            await mark_dirty(conn, late)
                    await conn.commit()
                break
            except Exception as exc:
                sqlstate = _sqlstate(exc)
                if sqlstate in handled or sqlstate not in ("23514", "23505"):
                    raise
                handled.add(sqlstate)
                if sqlstate == "23514":  # no partition for these days yet
                    async with self.db.engine.connect() as conn:
                        days = (r[1].astimezone(UTC).date() for r in p.records)
                        await ensure_partitions(conn, days)
                        await conn.commit()
                else:
                    upsert = True


_MARKS = select(RollupState.name, RollupState.done_until)


def _late_of(p: Prepared, marks: dict[str, datetime]) -> set[tuple[str, int, datetime]]:
    """The (tier, series, bucket) these records land behind, by the tiers' marks."""
    if p.oldest is None or not marks or p.oldest >= max(marks.values()):
        return set()  # the usual write: nothing behind any mark
    return late_buckets(p.records, marks)


def _sqlstate(exc: BaseException) -> str | None:
    """PostgreSQL's error code, from asyncpg's exception or SQLAlchemy's wrapper of it."""
    for err in (exc, getattr(exc, "orig", None)):
        code = getattr(err, "sqlstate", None) or getattr(err, "pgcode", None)
        if isinstance(code, str):
            return code
    return None
