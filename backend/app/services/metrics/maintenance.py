"""Storage maintenance: partitions ahead of time, 1 min / 1 h roll-ups, and retention."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import LargeBinary, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core.config import Settings
from app.db.session import Database
from app.models import RollupState
from app.models.base import UTCDateTime
from app.services.metrics.chunks import CHUNK, Compactor, boundary, chunk_start, decode, micros
from app.services.metrics.partitions import ensure_partitions
from app.services.metrics.reader import MetricsReader
from app.services.metrics.rollup_sql import TAKE_DIRTY, dirty_join, rollup_sql, window
from app.services.metrics.tiers import ROLLUPS, Tier, floor_to
from app.services.metrics.writer import MetricsWriter

log = logging.getLogger(__name__)

DELETE_BATCH = 5000
PARTITIONS_AHEAD = 3  # days
# Each pass re-rolls this much before a tier's mark: samples that arrived while the mark moved
# (the writer marks late buckets dirty against the mark it last saw; see MetricsWriter._late).
RECENT = timedelta(minutes=10)
DIRTY_BATCH = 1000  # dirty buckets rebuilt per transaction
SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"
LOCK_WAIT = "200ms"  # how long truncating a packed partition waits for its lock
EPOCH_DT = datetime(1970, 1, 1, tzinfo=UTC)  # how SQLAlchemy stores a naive UTC datetime on SQLite


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
        report.update(await self.compact())
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
            sql = rollup_sql(self.dialect, source, tier.table, tier.seconds, window())
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
        sql = rollup_sql(
            self.dialect, source, tier.table, tier.seconds, dirty_join(self.dialect, tier.seconds)
        )
        width = timedelta(seconds=tier.seconds)
        total = 0
        while True:
            async with self.db.engine.connect() as conn:
                keys = (
                    await conn.execute(TAKE_DIRTY, {"tier": tier.name, "batch": DIRTY_BATCH})
                ).all()
                if keys and source == "samples" and await self._rebuild_packed(conn, keys, tier):
                    pass  # some of these buckets' samples are in chunks: rebuilt in Python
                elif keys and self.dialect == "postgresql":
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

    async def _rebuild_packed(self, conn: AsyncConnection, keys: Sequence[Any], tier: Tier) -> bool:
        """Rebuild these raw-sourced buckets from chunks and rows, if any hour is packed.

        False (nothing done) when none of their hours has a chunk: the SQL rebuild then reads
        the rows alone. Maintenance is the only writer of chunks and runs one pass at a time,
        so no hour gets packed between this check and that statement.
        """
        width = timedelta(seconds=tier.seconds)
        hours = {(k.series_id, chunk_start(k.bucket)) for k in keys}
        if self.dialect == "postgresql":
            found = await conn.execute(
                text(
                    "SELECT c.series_id, c.start, c.data FROM sample_chunks c "
                    "JOIN unnest(CAST(:ids AS bigint[]), CAST(:starts AS timestamptz[])) "
                    "AS d(sid, st) ON c.series_id = d.sid AND c.start = d.st"
                ).columns(start=UTCDateTime(), data=LargeBinary()),
                {"ids": [h[0] for h in hours], "starts": [h[1] for h in hours]},
            )
            chunks = found.all()
            if not chunks:
                return False
            rows = await conn.execute(
                text(
                    "SELECT series_id, ts, value FROM samples "  # noqa: S608 - constants  # nosec B608
                    + dirty_join(self.dialect, tier.seconds)
                ).columns(ts=UTCDateTime()),
                {"ids": [k.series_id for k in keys], "los": [k.bucket for k in keys]},
            )
        else:
            spans = [
                [s, b.strftime(SQLITE_TS), b2.strftime(SQLITE_TS)]
                for s, b, b2 in (
                    (sid, st.replace(tzinfo=None), (st + CHUNK).replace(tzinfo=None))
                    for sid, st in hours
                )
            ]
            found = await conn.execute(
                text(
                    "SELECT c.series_id, c.start, c.data FROM sample_chunks c JOIN (SELECT "
                    "json_extract(value, '$[0]') AS sid, json_extract(value, '$[1]') AS st "
                    "FROM json_each(:keys)) AS d ON c.series_id = d.sid AND c.start = d.st"
                ).columns(start=UTCDateTime(), data=LargeBinary()),
                {"keys": json.dumps(spans)},
            )
            chunks = found.all()
            if not chunks:
                return False
            naive = [(k.series_id, k.bucket.replace(tzinfo=None)) for k in keys]
            buckets = [
                [s, b.strftime(SQLITE_TS), (b + width).strftime(SQLITE_TS)] for s, b in naive
            ]
            rows = await conn.execute(
                text(
                    "SELECT series_id, ts, value FROM samples "  # noqa: S608 - constants  # nosec B608
                    + dirty_join(self.dialect, tier.seconds)
                ).columns(ts=UTCDateTime()),
                {"keys": json.dumps(buckets)},
            )
        step = tier.seconds * 1_000_000
        wanted = {(k.series_id, micros(k.bucket)) for k in keys}
        points: dict[tuple[int, int], dict[int, float]] = {}
        for sid, start, data in chunks:
            times, values = decode(start, bytes(data))
            for t, v in zip(times, values, strict=True):
                key = (sid, t - t % step)
                if key in wanted:
                    points.setdefault(key, {})[t] = v
        for sid, ts, value in rows:
            t = micros(ts)
            points.setdefault((sid, t - t % step), {})[t] = value  # a row wins
        params = []
        for (sid, b), got in points.items():
            ordered = sorted(got.items())
            vals = [v for _, v in ordered]
            params.append(
                {
                    "sid": sid,
                    "ts": EPOCH_DT + timedelta(microseconds=b),
                    "vmin": min(vals),
                    "vmax": max(vals),
                    "vsum": sum(vals),
                    "vcount": len(vals),
                    "vlast": vals[-1],
                }
            )
        if params:
            await conn.execute(
                text(
                    f"INSERT INTO {tier.table} (series_id, ts, vmin, vmax, vsum, vcount, vlast) "  # noqa: S608 - constants  # nosec B608
                    "VALUES (:sid, :ts, :vmin, :vmax, :vsum, :vcount, :vlast) "
                    "ON CONFLICT (series_id, ts) DO UPDATE SET vmin = excluded.vmin, "
                    "vmax = excluded.vmax, vsum = excluded.vsum, vcount = excluded.vcount, "
                    "vlast = excluded.vlast"
                ).bindparams(bindparam("ts", type_=UTCDateTime())),
                params,
            )
        return True

    async def compact(self) -> dict[str, int]:
        """Pack the closed hours the 1 m roll-up will not re-read into chunks."""
        async with self.db.engine.connect() as conn:
            done = (
                await conn.execute(select(RollupState.done_until).where(RollupState.name == "1m"))
            ).scalar()
            await conn.commit()
        until = boundary(done, RECENT)
        if until is None:
            return {"packed_samples": 0, "packed_chunks": 0}
        got = await Compactor(self.db.engine, self.db.is_sqlite).run(until)
        out = {"packed_samples": got.samples, "packed_chunks": got.hours}
        if self.dialect == "postgresql":
            out["partitions_emptied"] = await self._truncate_packed(until)
        return out

    async def _truncate_packed(self, until: datetime) -> int:
        """Give back the disk of daily partitions whose rows are all packed now.

        Deleted rows leave a partition's file (and index) at full size until it is dropped;
        a partition wholly before `until` that holds no row is truncated instead. Its lock
        is taken only if it comes within LOCK_WAIT, so a long query is never waited for.
        """
        emptied = 0
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'samples' "
                    "AND pg_relation_size(c.oid) > 0"
                )
            )
            names = [r[0] for r in rows]
            await conn.commit()
        for relname in names:
            try:
                day = datetime.strptime(relname, "samples_p%Y%m%d").replace(tzinfo=UTC)
            except ValueError:
                continue
            if day + timedelta(days=1) > until:
                continue
            async with self.db.engine.connect() as conn:
                try:
                    await conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
                    await conn.execute(text(f'LOCK TABLE "{relname}" IN ACCESS EXCLUSIVE MODE'))
                    left = (
                        await conn.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{relname}")'))  # noqa: S608 - a partition's name  # nosec B608
                    ).scalar()
                    if not left:
                        await conn.execute(text(f'TRUNCATE "{relname}"'))
                        emptied += 1
                    await conn.commit()
                except Exception as exc:  # the lock did not come in time: next pass
                    await conn.rollback()
                    log.info("partition %s not truncated now: %s", relname, exc)
        return emptied

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
        out["chunks_deleted"] = await self._delete_before(
            "sample_chunks", chunk_start(raw_cutoff), column="start"
        )
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
        key = {"plugin_runs": "id", "sample_chunks": "series_id, start"}.get(table, "series_id, ts")
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
