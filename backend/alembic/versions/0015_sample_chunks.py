"""Closed hours of raw samples packed into per-series chunks (issue 26).

`sample_chunks` holds one row per series per closed hour (see app.services.metrics.chunks for
the encoding). The upgrade packs, in place, every hour storage maintenance would pack now: the
hours wholly before the 1 m roll-up's mark less the re-roll window. Later hours (and a database
whose roll-ups never ran) are packed by the maintenance passes. On PostgreSQL it adds
`sample_chunk_points(start, data)`, which decodes a chunk in SQL, and the view `samples_all`
that shows `samples` and the decoded chunks as `(series_id, ts, value)` for hand queries.

The downgrade writes every chunk's samples back as rows (a row already there for the same
instant is newer and stays) and drops the table, the view and the function.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import LargeBinary, bindparam, text

from alembic import op
from app.models.base import UTCDateTime
from app.services.metrics.chunks import (
    _OLDEST,
    _as_utc,
    boundary,
    decode,
    from_micros,
    oldest_hours,
    pack_hour_sync,
)

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECENT = timedelta(minutes=10)  # maintenance.RECENT when this was written
PACK_SERIES = 200
UNPACK_BATCH = 500

POINTS_FUNCTION = """
CREATE FUNCTION sample_chunk_points(chunk_start timestamptz, chunk_data bytea)
RETURNS TABLE (ts timestamptz, value double precision)
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
-- byte 0: the codec: 0 (byte planes) or 2 (padded byte planes: n as uint32, then the planes,
-- then zeros); then n int64 microsecond deltas and n float64 values, little-endian, each
-- array stored as 8 byte planes (see app/services/metrics/chunks.py)
DECLARE
    codec integer := get_byte(chunk_data, 0);
    base integer := 1;
    n integer;
    acc bigint := 0;
    word bigint;
    e integer;
    m bigint;
BEGIN
    IF codec = 0 THEN
        n := (length(chunk_data) - 1) / 16;
    ELSIF codec = 2 THEN
        base := 5;
        n := get_byte(chunk_data, 1) | (get_byte(chunk_data, 2) << 8)
            | (get_byte(chunk_data, 3) << 16) | (get_byte(chunk_data, 4) << 24);
    ELSE
        RAISE EXCEPTION 'sample chunk codec % cannot be decoded in SQL', codec;
    END IF;
    FOR i IN 0 .. n - 1 LOOP
        word := 0;
        FOR k IN REVERSE 7 .. 0 LOOP
            word := (word << 8) | get_byte(chunk_data, base + k * n + i);
        END LOOP;
        acc := acc + word;
        ts := chunk_start + acc * interval '1 microsecond';
        word := 0;
        FOR k IN REVERSE 7 .. 0 LOOP
            word := (word << 8) | get_byte(chunk_data, base + (8 + k) * n + i);
        END LOOP;
        e := ((word >> 52) & 2047)::integer;
        m := word & 4503599627370495;
        IF e = 2047 THEN
            value := CASE WHEN m <> 0 THEN 'NaN'::float8
                WHEN word < 0 THEN '-Infinity'::float8 ELSE 'Infinity'::float8 END;
        ELSE
            IF e = 0 THEN
                value := m::float8 * power(2::float8, -1074);
            ELSE
                value := (m + 4503599627370496)::float8 * power(2::float8, e - 1075);
            END IF;
            IF word < 0 THEN
                value := -value;
            END IF;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$
"""

# A row for an instant a chunk holds too is newer (a late write not packed yet): it wins.
ALL_VIEW = """
CREATE VIEW samples_all AS
SELECT series_id, ts, value FROM samples
UNION ALL
SELECT c.series_id, p.ts, p.value
FROM sample_chunks c CROSS JOIN LATERAL sample_chunk_points(c.start, c.data) AS p
WHERE NOT EXISTS (SELECT 1 FROM samples s WHERE s.series_id = c.series_id AND s.ts = p.ts)
"""


def upgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    op.create_table(
        "sample_chunks",
        sa.Column(
            "series_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("series_id", "start", name="pk_sample_chunks"),
    )
    if pg:
        # lz4 where the server was built with it (PostgreSQL's own packages are); otherwise the
        # default pglz, somewhat larger, rather than a failed upgrade.
        lz4 = bind.execute(
            text(
                "SELECT count(*) FROM pg_settings "
                "WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
            )
        ).scalar()
        if lz4:
            op.execute("ALTER TABLE sample_chunks ALTER COLUMN data SET COMPRESSION lz4")
        op.execute(POINTS_FUNCTION)
        op.execute(ALL_VIEW)
    pack_existing(bind, not pg)


def pack_existing(bind: sa.engine.Connection, sqlite: bool) -> None:
    """Pack the hours maintenance would pack now, one hour and PACK_SERIES series at a time."""
    done = bind.execute(text("SELECT done_until FROM rollup_state WHERE name = '1m'")).scalar()
    until = boundary(_as_utc(done), RECENT)
    if until is None:
        return
    while True:
        rows = bind.execute(_OLDEST, {"boundary": until}).all()
        hours = oldest_hours((sid, _as_utc(ts)) for sid, ts in rows)
        if not hours:
            return
        for start, ids in sorted(hours.items()):
            for i in range(0, len(ids), PACK_SERIES):
                pack_hour_sync(bind, ids[i : i + PACK_SERIES], start, sqlite)


def downgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    if pg:
        op.execute("DROP VIEW IF EXISTS samples_all")
        op.execute("DROP FUNCTION IF EXISTS sample_chunk_points(timestamptz, bytea)")
        insert = "ON CONFLICT (series_id, ts) DO NOTHING"
    else:
        insert = "ON CONFLICT DO NOTHING"
    page = (
        text(
            "SELECT series_id, start, data FROM sample_chunks "
            "WHERE series_id > :sid OR (series_id = :sid AND start > :start) "
            "ORDER BY series_id, start LIMIT :limit"
        )
        .bindparams(bindparam("start", type_=UTCDateTime()))
        .columns(start=UTCDateTime(), data=LargeBinary())
    )
    put = text(
        f"INSERT INTO samples (series_id, ts, value) VALUES (:sid, :ts, :value) {insert}"  # noqa: S608 - constant  # nosec B608
    ).bindparams(bindparam("ts", type_=UTCDateTime()))
    sid, start = -1, datetime(1970, 1, 1, tzinfo=UTC)
    made: set[str] = set()
    while True:
        chunks = bind.execute(page, {"sid": sid, "start": start, "limit": UNPACK_BATCH}).all()
        if not chunks:
            break
        rows: list[dict[str, Any]] = []
        for sid, start, data in chunks:
            times, values = decode(start, bytes(data))
            rows.extend(
                {"sid": sid, "ts": from_micros(t), "value": v}
                for t, v in zip(times, values, strict=True)
            )
        if pg:
            _ensure_partitions(bind, {r["ts"].date() for r in rows}, made)
        if rows:
            bind.execute(put, rows)
    op.drop_table("sample_chunks")


def _ensure_partitions(bind: sa.engine.Connection, days: set[date], made: set[str]) -> None:
    for day in sorted(days):
        name = f"samples_p{day:%Y%m%d}"
        if name in made:
            continue
        lo = datetime(day.year, day.month, day.day, tzinfo=UTC)
        bind.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF samples "
                f"FOR VALUES FROM ('{lo.isoformat()}') TO ('{(lo + timedelta(days=1)).isoformat()}')"
            )
        )
        made.add(name)
