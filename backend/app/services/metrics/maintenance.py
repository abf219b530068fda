"""Storage maintenance: partitions ahead of time, 1 min / 1 h roll-ups, and retention."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core.config import Settings
from app.db.session import Database
from app.models import RollupState
from app.models.base import UTCDateTime
from app.services.metrics.partitions import ensure_partitions
from app.services.metrics.reader import MetricsReader
from app.services.metrics.writer import MetricsWriter

log = logging.getLogger(__name__)

DELETE_BATCH = 5000
PARTITIONS_AHEAD = 3  # days
# Without a hint from the writer (after a restart), re-roll this much recent history.
RECENT = timedelta(minutes=10)


def floor_to(ts: datetime, seconds: int) -> datetime:
    epoch = int(ts.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def _bucket_sql(dialect: str, seconds: int) -> str:
    if dialect == "postgresql":
        return f"date_bin(interval '{seconds} seconds', ts, timestamptz '2000-01-01 00:00:00+00')"
    # same text form SQLAlchemy stores on SQLite, so comparisons stay exact
    return (
        f"strftime('%Y-%m-%d %H:%M:%S', (CAST(strftime('%s', ts) AS INTEGER) / {seconds}) * "
        f"{seconds}, 'unixepoch') || '.000000'"
    )


def _rollup_sql(dialect: str, source: str, target: str, seconds: int) -> str:
    bucket = _bucket_sql(dialect, seconds)
    raw = source == "samples"
    mn, mx, sm, ct, lv = (
        ("value", "value", "value", "1", "value")
        if raw
        else ("vmin", "vmax", "vsum", "vcount", "vlast")
    )
    upsert = (
        "ON CONFLICT (series_id, ts) DO UPDATE SET vmin = excluded.vmin, vmax = excluded.vmax, "
        "vsum = excluded.vsum, vcount = excluded.vcount, vlast = excluded.vlast"
    )
    if dialect == "postgresql":
        return (
            f"INSERT INTO {target} (series_id, ts, vmin, vmax, vsum, vcount, vlast) "  # noqa: S608 - identifiers are constants  # nosec B608
            f"SELECT series_id, {bucket}, min({mn}), max({mx}), sum({sm}), sum({ct}), "
            f"(array_agg({lv} ORDER BY ts DESC))[1] FROM {source} "
            f"WHERE ts >= :lo AND ts < :hi GROUP BY 1, 2 {upsert}"
        )
    # SQLite: the bare column `lv` comes from the row holding max(ts)
    return (
        f"INSERT INTO {target} (series_id, ts, vmin, vmax, vsum, vcount, vlast) "  # noqa: S608 - identifiers are constants  # nosec B608
        f"SELECT series_id, b, mn, mx, sm, ct, lv FROM ("
        f"SELECT series_id, {bucket} AS b, min({mn}) AS mn, max({mx}) AS mx, sum({sm}) AS sm, "
        f"sum({ct}) AS ct, {lv} AS lv, max(ts) FROM {source} "
        f"WHERE ts >= :lo AND ts < :hi GROUP BY series_id, b) WHERE true {upsert}"
    )


class StorageMaintenance:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        writer: MetricsWriter | None = None,
        reader: MetricsReader | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.writer = writer
        self.reader = reader
        self.last_run: dict[str, Any] = {}

    @property
    def dialect(self) -> str:
        return "sqlite" if self.db.is_sqlite else "postgresql"

    async def run(self, now: datetime | None = None) -> dict[str, Any]:
        """One maintenance pass; each step commits on its own and logs what it did."""
        now = now or datetime.now(UTC)
        t0 = time.perf_counter()
        report: dict[str, Any] = {}
        if self.dialect == "postgresql":
            async with self.db.engine.connect() as conn:
                today = now.date()
                days = (today + timedelta(days=d) for d in range(-1, PARTITIONS_AHEAD + 1))
                await ensure_partitions(conn, days)
                await conn.commit()
        report["rolled_1m"] = await self.rollup("1m", "samples", "samples_1m", 60, now)
        report["rolled_1h"] = await self.rollup("1h", "samples_1m", "samples_1h", 3600, now)
        report.update(await self.retention(now))
        report["seconds"] = round(time.perf_counter() - t0, 3)
        self.last_run = {"at": now, **report}
        log.info("storage maintenance done", extra=report)
        return report

    async def rollup(self, name: str, source: str, target: str, seconds: int, now: datetime) -> int:
        hi = floor_to(now, seconds)  # only complete buckets
        async with self.db.engine.connect() as conn:
            state = (
                await conn.execute(select(RollupState.done_until).where(RollupState.name == name))
            ).scalar()
            done = state if state is not None else None
            if isinstance(done, str):
                done = datetime.fromisoformat(done).replace(tzinfo=UTC)
            elif done is not None and done.tzinfo is None:
                done = done.replace(tzinfo=UTC)
            lo = done - RECENT if done is not None else hi - timedelta(days=2)
            hint = self.writer.oldest_since_rollup.get(name) if self.writer else None
            if hint is not None:
                lo = min(lo, hint)
            lo = floor_to(lo, seconds)
            if lo >= hi:
                return 0
            stmt = text(_rollup_sql(self.dialect, source, target, seconds)).bindparams(
                bindparam("lo", type_=UTCDateTime()), bindparam("hi", type_=UTCDateTime())
            )
            result = await conn.execute(stmt, {"lo": lo, "hi": hi})
            await self._set_done(conn, name, hi)
            await conn.commit()
        if self.writer:
            self.writer.rolled_up(name, hint)
        if self.reader:
            self.reader.rolled_up()
        return int(getattr(result, "rowcount", 0) or 0)

    async def _set_done(self, conn: AsyncConnection, name: str, until: datetime) -> None:
        params = {"name": name, "until": until}
        stmt = text(
            "INSERT INTO rollup_state (name, done_until) VALUES (:name, :until) "
            "ON CONFLICT (name) DO UPDATE SET done_until = excluded.done_until"
        ).bindparams(bindparam("until", type_=UTCDateTime()))
        await conn.execute(stmt, params)

    async def retention(self, now: datetime) -> dict[str, int]:
        s = self.settings
        out = {}
        raw_cutoff = now - timedelta(days=s.raw_retention_days)
        if self.dialect == "postgresql":
            out["raw_partitions_dropped"] = await self._drop_partitions(raw_cutoff)
        else:
            out["raw_deleted"] = await self._delete_before("samples", raw_cutoff)
        out["rollup_1m_deleted"] = await self._delete_before(
            "samples_1m", now - timedelta(days=s.rollup_1m_retention_days)
        )
        out["rollup_1h_deleted"] = await self._delete_before(
            "samples_1h", now - timedelta(days=s.rollup_1h_retention_days)
        )
        out["runs_deleted"] = await self._delete_before(
            "plugin_runs", now - timedelta(days=s.runs_retention_days), column="started_at"
        )
        return out

    async def _drop_partitions(self, cutoff: datetime) -> int:
        """Drop whole daily partitions that end before the cutoff: no row-by-row DELETE."""
        dropped = 0
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'samples'"
                )
            )
            for (relname,) in rows.all():
                try:
                    day = datetime.strptime(relname, "samples_p%Y%m%d").replace(tzinfo=UTC)
                except ValueError:
                    continue
                if day + timedelta(days=1) <= cutoff:
                    await conn.execute(text(f'DROP TABLE IF EXISTS "{relname}"'))
                    dropped += 1
                    log.info("dropped samples partition %s", relname)
            await conn.commit()
        return dropped

    async def _delete_before(self, table: str, cutoff: datetime, column: str = "ts") -> int:
        """Delete in small batches, committing between them, so writers are never held up."""
        key = "id" if table == "plugin_runs" else "series_id, ts"
        stmt = text(
            f"DELETE FROM {table} WHERE ({key}) IN "  # noqa: S608 - identifiers are constants  # nosec B608
            f"(SELECT {key} FROM {table} WHERE {column} < :cutoff LIMIT {DELETE_BATCH})"
        ).bindparams(bindparam("cutoff", type_=UTCDateTime()))
        total = 0
        while True:
            async with self.db.engine.connect() as conn:
                result = await conn.execute(stmt, {"cutoff": cutoff})
                await conn.commit()
            n = int(getattr(result, "rowcount", 0) or 0)
            total += n
            if n < DELETE_BATCH:
                return total
