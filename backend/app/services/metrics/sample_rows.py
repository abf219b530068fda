"""The two statements of a metrics write: move each series' latest value, add the sample rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.session import asyncpg_of
from app.db.sqlite_writes import bind, executemany
from app.models import Sample as SampleRow
from app.models.base import UTCDateTime
from app.services.metrics.tiers import ROLLUPS, floor_to


def _upsert_samples(ins: Any) -> Any:
    return ins.on_conflict_do_update(
        index_elements=["series_id", "ts"], set_={"value": ins.excluded.value}
    )


async def update_latest(conn: AsyncConnection, latest: dict[int, tuple[datetime, float]]) -> None:
    """Each series' last_ts/last_value, unless a newer value is stored already (PostgreSQL).

    One statement for the whole batch: an executemany would run one UPDATE per series.
    """
    await conn.execute(
        text(
            "UPDATE series AS s SET last_ts = v.ts, last_value = v.val "
            "FROM unnest(CAST(:ids AS bigint[]), CAST(:tss AS timestamptz[]), "
            "CAST(:vals AS float8[])) AS v(id, ts, val) "
            "WHERE s.id = v.id AND (s.last_ts IS NULL OR s.last_ts <= v.ts)"
        ),
        {
            "ids": list(latest),
            "tss": [ts for ts, _ in latest.values()],
            "vals": [v for _, v in latest.values()],
        },
    )


async def insert_samples(
    conn: AsyncConnection, records: list[tuple[int, datetime, float]], upsert: bool
) -> None:
    """COPY the rows, or upsert them where rows may exist already (PostgreSQL)."""
    if upsert:
        await conn.execute(
            _upsert_samples(pg_insert(SampleRow)),
            [{"series_id": s, "ts": t, "value": v} for s, t, v in records],
        )
        return
    apg = await asyncpg_of(conn)
    await apg.copy_records_to_table(
        "samples", records=records, columns=["series_id", "ts", "value"]
    )


def late_buckets(
    records: list[tuple[int, datetime, float]], marks: dict[str, datetime]
) -> set[tuple[str, int, datetime]]:
    """(tier, series, bucket) of every record a roll-up tier has passed already."""
    keys: set[tuple[str, int, datetime]] = set()
    for tier in ROLLUPS:
        mark = marks.get(tier.name)
        if mark is None:
            continue
        keys.update(
            (tier.name, sid, floor_to(ts, tier.seconds)) for sid, ts, _ in records if ts < mark
        )
    return keys


async def mark_dirty(conn: AsyncConnection, keys: set[tuple[str, int, datetime]]) -> None:
    """Record roll-up buckets to rebuild, in the transaction that wrote their late samples.

    An existing key is updated, not skipped: the row lock makes a maintenance pass that is
    deleting the key wait for this commit, so its rebuild sees these samples (PostgreSQL).
    """
    await conn.execute(
        text(
            "INSERT INTO rollup_dirty (tier, series_id, bucket) "
            "SELECT * FROM unnest(CAST(:tiers AS text[]), CAST(:ids AS bigint[]), "
            "CAST(:buckets AS timestamptz[])) "
            "ON CONFLICT (tier, series_id, bucket) DO UPDATE SET bucket = excluded.bucket"
        ),
        {
            "tiers": [k[0] for k in keys],
            "ids": [k[1] for k in keys],
            "buckets": [k[2] for k in keys],
        },
    )


# SQLite: the same three writes as functions of a synchronous connection, run together in
# the writers' thread (app/db/sqlite_writes.py); SQLite has no COPY, so rows are upserted. The
# two of every flush go straight to the driver: SQLAlchemy's execution cost more than SQLite's.
_SQLITE_LATEST = (
    "UPDATE series SET last_ts = ?, last_value = ? "
    "WHERE id = ? AND (last_ts IS NULL OR last_ts <= ?)"
)
_SQLITE_SAMPLES = (
    "INSERT INTO samples (series_id, ts, value) VALUES (?, ?, ?) "
    "ON CONFLICT (series_id, ts) DO UPDATE SET value = excluded.value"
)
_SQLITE_DIRTY = text(
    "INSERT INTO rollup_dirty (tier, series_id, bucket) VALUES (:tier, :sid, :bucket) "
    "ON CONFLICT DO NOTHING"
).bindparams(bindparam("bucket", type_=UTCDateTime()))


def write_sqlite(
    conn: Connection,
    records: list[tuple[int, datetime, float]],
    latest: dict[int, tuple[datetime, float]],
    dirty: set[tuple[str, int, datetime]],
) -> None:
    """Each series' latest value, the sample rows and the late buckets, in `conn`'s transaction."""
    to_text = bind(conn, UTCDateTime())
    stamps: dict[datetime, Any] = {}  # a group's records share a few run times

    def stamp(ts: datetime) -> Any:
        s = stamps.get(ts)
        if s is None:
            s = stamps[ts] = to_text(ts)
        return s

    executemany(
        conn,
        _SQLITE_LATEST,
        [(stamp(ts), v, sid, stamp(ts)) for sid, (ts, v) in latest.items()],
    )
    executemany(conn, _SQLITE_SAMPLES, [(s, stamp(t), v) for s, t, v in records])
    if dirty:
        conn.execute(_SQLITE_DIRTY, [{"tier": t, "sid": s, "bucket": b} for t, s, b in dirty])
