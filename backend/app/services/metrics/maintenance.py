"""Storage maintenance: partitions ahead of time, 1 min / 1 h roll-ups, and retention."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core.config import Settings
from app.db.session import Database
from app.models import RollupState
from app.models.base import UTCDateTime
from app.services.metrics.partitions import ensure_partitions
from app.services.metrics.reader import MetricsReader
from app.services.metrics.tiers import ROLLUPS, Tier, floor_to
from app.services.metrics.writer import MetricsWriter

log = logging.getLogger(__name__)

DELETE_BATCH = 5000
PARTITIONS_AHEAD = 3  # days
# Each pass re-rolls this much before a tier's mark: samples that arrived while the mark moved
# (the writer marks late buckets dirty against the mark it last saw; see MetricsWriter._late).
RECENT = timedelta(minutes=10)
DIRTY_BATCH = 1000  # dirty buckets rebuilt per transaction
SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a naive UTC datetime on SQLite


def _bucket_sql(dialect: str, seconds: int) -> str:
    if dialect == "postgresql":
        return f"date_bin(interval '{seconds} seconds', ts, timestamptz '2000-01-01 00:00:00+00')"
    # same text form SQLAlchemy stores on SQLite, so comparisons stay exact
    return (
        f"strftime('%Y-%m-%d %H:%M:%S', (CAST(strftime('%s', ts) AS INTEGER) / {seconds}) * "
        f"{seconds}, 'unixepoch') || '.000000'"
    )


def _window() -> str:
    return "WHERE ts >= :lo AND ts < :hi"


def _dirty_join(dialect: str, seconds: int) -> str:
    """Only the source rows of the dirty (series, bucket) keys bound to the statement."""
    if dialect == "postgresql":
        return (
            "JOIN unnest(CAST(:ids AS bigint[]), CAST(:los AS timestamptz[])) AS d(sid, lo) "
            f"ON series_id = d.sid AND ts >= d.lo AND ts < d.lo + interval '{seconds} seconds'"
        )
    return (
        "JOIN (SELECT json_extract(value, '$[0]') AS sid, json_extract(value, '$[1]') AS lo, "
        "json_extract(value, '$[2]') AS hi FROM json_each(:keys)) AS d "
        "ON series_id = d.sid AND ts >= d.lo AND ts < d.hi"
    )


_TAKE_DIRTY = text(
    "DELETE FROM rollup_dirty WHERE tier = :tier AND (series_id, bucket) IN "
    "(SELECT series_id, bucket FROM rollup_dirty WHERE tier = :tier LIMIT :batch) "
    "RETURNING series_id, bucket"
).columns(series_id=Integer(), bucket=UTCDateTime())


def _rollup_sql(dialect: str, source: str, target: str, seconds: int, scope: str) -> str:
    """Roll `source` rows up into `target` buckets of `seconds`; `scope` picks the rows."""
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
            f"{scope} GROUP BY 1, 2 {upsert}"
        )
    # SQLite: the bare column `lv` comes from the row holding max(ts)
    return (
        f"INSERT INTO {target} (series_id, ts, vmin, vmax, vsum, vcount, vlast) "  # noqa: S608 - identifiers are constants  # nosec B608
        f"SELECT series_id, b, mn, mx, sm, ct, lv FROM ("
        f"SELECT series_id, {bucket} AS b, min({mn}) AS mn, max({mx}) AS mx, sum({sm}) AS sm, "
        f"sum({ct}) AS ct, {lv} AS lv, max(ts) FROM {source} "
        f"{scope} GROUP BY series_id, b) WHERE true {upsert}"
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
        source = "samples"
        for tier in ROLLUPS:  # 1 m from raw, then 1 h from 1 m
            report[f"rolled_{tier.name}"] = await self.rollup(tier, source, now)
            report[f"rebuilt_{tier.name}"] = await self.rebuild_dirty(tier, source)
            source = tier.table
        report.update(await self.retention(now))
        report["seconds"] = round(time.perf_counter() - t0, 3)
        self.last_run = {"at": now, **report}
        log.info("storage maintenance done", extra=report)
        return report

    async def rollup(self, tier: Tier, source: str, now: datetime) -> int:
        """Roll up the complete buckets since shortly before the tier's mark; move the mark."""
        hi = floor_to(now, tier.seconds)
        async with self.db.engine.connect() as conn:
            done = (
                await conn.execute(
                    select(RollupState.done_until).where(RollupState.name == tier.name)
                )
            ).scalar()
            lo = floor_to(
                done - RECENT if done is not None else hi - timedelta(days=2), tier.seconds
            )
            if lo >= hi:
                return 0
            sql = _rollup_sql(self.dialect, source, tier.table, tier.seconds, _window())
            stmt = text(sql).bindparams(
                bindparam("lo", type_=UTCDateTime()), bindparam("hi", type_=UTCDateTime())
            )
            result = await conn.execute(stmt, {"lo": lo, "hi": hi})
            await self._set_done(conn, tier.name, hi)
            await conn.commit()
        if self.writer:
            self.writer.rolled_up(tier.name, hi)
        if self.reader:
            self.reader.rolled_up()
        return int(getattr(result, "rowcount", 0) or 0)

    async def rebuild_dirty(self, tier: Tier, source: str) -> int:
        """Rebuild exactly the buckets late data made dirty, DIRTY_BATCH per transaction.

        Taking the keys (DELETE ... RETURNING) comes first and the rebuild is a statement of
        its own, so it sees every sample whose transaction marked one of these keys.
        A bucket is rebuilt from the source rows still there: late data older than the
        source's retention replaces that bucket with what is left, the late rows.
        """
        sql = _rollup_sql(
            self.dialect, source, tier.table, tier.seconds, _dirty_join(self.dialect, tier.seconds)
        )
        width = timedelta(seconds=tier.seconds)
        total = 0
        while True:
            async with self.db.engine.connect() as conn:
                keys = (
                    await conn.execute(_TAKE_DIRTY, {"tier": tier.name, "batch": DIRTY_BATCH})
                ).all()
                if keys and self.dialect == "postgresql":
                    params: dict[str, Any] = {
                        "ids": [k.series_id for k in keys],
                        "los": [k.bucket for k in keys],
                    }
                    await conn.execute(text(sql), params)
                elif keys:
                    naive = [(k.series_id, k.bucket.replace(tzinfo=None)) for k in keys]
                    spans = [
                        [s, b.strftime(SQLITE_TS), (b + width).strftime(SQLITE_TS)]
                        for s, b in naive
                    ]
                    await conn.execute(text(sql), {"keys": json.dumps(spans)})
                await conn.commit()
            total += len(keys)
            if len(keys) < DIRTY_BATCH:
                break
        if total and self.reader:
            self.reader.rolled_up()
        return total

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
