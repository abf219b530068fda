"""Closed hours of raw samples, packed: one `sample_chunks` row per series per hour.

The open hour (and every hour a roll-up may still re-read) stays row-per-sample in `samples`,
so the writer keeps its COPY. Once an hour is behind the compaction boundary (see
`Compactor.boundary`), maintenance moves its rows into the series' chunk for that hour, one
transaction per hour and batch of series: `DELETE ... RETURNING` takes exactly the rows it
packs, and the chunk is written in the same transaction, so a crash leaves either the rows or
the chunk, never both or neither. A late sample for a packed hour is an ordinary row again; reads
merge it (a row wins over a chunk's sample at the same instant, as a later write wins over an
earlier one) and the next pass packs it into the chunk.

Encoding of `data` (one byte naming the codec, then the body):
- body: n int64 microsecond deltas (the first from the chunk's start, then from the previous
  sample), then n float64 values, each array little-endian and byte-shuffled (all first bytes,
  then all second bytes, ...): the sign, exponent and high mantissa bytes of a series change
  little, so each plane compresses well;
- codec PLANES (0): the body as is. PostgreSQL compresses it with lz4 when the row is TOASTed,
  and `sample_chunk_points()` (PL/pgSQL, migration 0010) can decode it for the `samples_all`
  view;
- codec PADDED (2): for PostgreSQL too, when the body is short: n as a little-endian uint32,
  the body, then zero bytes up to PAD_TO. PostgreSQL compresses a value only in a row of more
  than about 2 kB; padded, a chunk of 60 samples is compressed (the zeros cost next to
  nothing): measured 9.4 instead of 19.6 bytes a sample (see docs/BENCHMARKS.md);
- codec ZLIB (1): the body zlib-compressed (SQLite, which compresses nothing itself).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import zlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import LargeBinary, bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from app.models.base import UTCDateTime
from app.services.metrics.tiers import EPOCH

log = logging.getLogger(__name__)

CHUNK_SECONDS = 3600
CHUNK = timedelta(seconds=CHUNK_SECONDS)
_US = 1_000_000
PLANES = 0
ZLIB = 1
PADDED = 2
PAD_TO = 2100  # bytes: over PostgreSQL's TOAST threshold (2032 for a row), so lz4 compresses
COMPACT_SERIES = 200  # series packed per transaction (one hour each), at most
PACK_ROWS = 20_000  # rows packed per transaction, about (the series batch adapts)
PACE = 1.0  # idle time after each packing transaction, as a multiple of the time it took
ZLIB_LEVEL = 6


def micros(ts: datetime) -> int:
    return (ts - EPOCH) // timedelta(microseconds=1)


def from_micros(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def chunk_start(ts: datetime) -> datetime:
    us = micros(ts)
    return from_micros(us - us % (CHUNK_SECONDS * _US))


def _shuffle(raw: bytes) -> bytes:
    return b"".join(raw[i::8] for i in range(8))


def _unshuffle(planes: bytes | memoryview) -> bytearray:
    n = len(planes) // 8
    out = bytearray(len(planes))
    for i in range(8):
        out[i::8] = planes[i * n : (i + 1) * n]
    return out


def encode(start: datetime, points: Sequence[tuple[int, float]], compress: bool) -> bytes:
    """A chunk's `data` from its (epoch microseconds, value) points, sorted by time."""
    prev = micros(start)
    deltas = array("q")
    for t, _ in points:
        deltas.append(t - prev)
        prev = t
    values = array("d", [v for _, v in points])
    if sys.byteorder != "little":  # pragma: no cover - every supported platform is little-endian
        deltas.byteswap()
        values.byteswap()
    body = _shuffle(deltas.tobytes()) + _shuffle(values.tobytes())
    if compress:
        return bytes([ZLIB]) + zlib.compress(body, ZLIB_LEVEL)
    if len(body) + 1 < PAD_TO:
        head = bytes([PADDED]) + len(values).to_bytes(4, "little")
        return head + body + bytes(max(0, PAD_TO - len(head) - len(body)))
    return bytes([PLANES]) + body


def decode(start: datetime, data: bytes) -> tuple[list[int], array[float]]:
    """A chunk's epoch microseconds and values."""
    codec, body = data[0], memoryview(data)[1:]
    if codec == ZLIB:
        body = memoryview(zlib.decompress(body))
    elif codec == PADDED:
        body = body[4 : 4 + 16 * int.from_bytes(body[:4], "little")]
    elif codec != PLANES:
        raise ValueError(f"unknown chunk codec {codec}")
    n = len(body) // 16
    deltas = array("q")
    deltas.frombytes(_unshuffle(body[: n * 8]))
    values = array("d")
    values.frombytes(_unshuffle(body[n * 8 :]))
    if sys.byteorder != "little":  # pragma: no cover
        deltas.byteswap()
        values.byteswap()
    times = list(accumulate(deltas, initial=micros(start)))[1:]
    return times, values


def merge(
    start: datetime, data: bytes | None, rows: list[tuple[int, float]]
) -> list[tuple[int, float]]:
    """A chunk's points with rows (epoch µs, value) added; a row replaces the chunk's sample at
    its instant."""
    if data is None and len({t for t, _ in rows}) == len(rows):
        return sorted(rows)
    points: dict[int, float] = {}
    if data is not None:
        times, values = decode(start, data)
        points.update(zip(times, values, strict=True))
    points.update(rows)
    return sorted(points.items())


# ----------------------------------------------------------------- statements
def _chunk_upsert(sqlite: bool) -> Any:
    return text(
        "INSERT INTO sample_chunks (series_id, start, n, data) VALUES (:sid, :start, :n, :data) "
        "ON CONFLICT (series_id, start) DO UPDATE SET n = excluded.n, data = excluded.data"
    ).bindparams(bindparam("start", type_=UTCDateTime()), bindparam("data", type_=LargeBinary()))


def _ids_sql(ids: list[int]) -> str:
    return ", ".join(str(int(i)) for i in ids)  # integers only: safe to inline


def _take_rows_sql(ids: list[int], sqlite: bool) -> Any:
    """Delete the rows of these series in [lo, hi) and return them, times as epoch µs (plain
    integers: no datetime per row)."""
    us = (
        "CAST(strftime('%s', ts) AS INTEGER) * 1000000 + CAST(substr(ts, 21, 6) AS INTEGER)"
        if sqlite
        else "CAST(extract(epoch FROM ts) * 1000000 AS bigint)"
    )
    return text(
        f"DELETE FROM samples WHERE series_id IN ({_ids_sql(ids)}) "  # noqa: S608 - integers  # nosec B608
        f"AND ts >= :lo AND ts < :hi RETURNING series_id, {us} AS us, value"
    ).bindparams(bindparam("lo", type_=UTCDateTime()), bindparam("hi", type_=UTCDateTime()))


def _chunks_sql(ids: list[int], lock: bool) -> Any:
    return (
        text(
            f"SELECT series_id, data FROM sample_chunks WHERE series_id IN ({_ids_sql(ids)}) "  # noqa: S608 - integers  # nosec B608
            "AND start = :start" + (" FOR UPDATE" if lock else "")
        )
        .bindparams(bindparam("start", type_=UTCDateTime()))
        .columns(data=LargeBinary())
    )


_OLDEST = text(
    "SELECT s.id, (SELECT min(ts) FROM samples WHERE series_id = s.id AND ts < :boundary) "
    "AS oldest FROM series s"
).bindparams(bindparam("boundary", type_=UTCDateTime()))


@dataclass
class CompactStats:
    hours: int = 0  # (series, hour) chunks written
    samples: int = 0  # rows moved into chunks


async def pack_hour(
    conn: AsyncConnection, ids: list[int], start: datetime, sqlite: bool
) -> CompactStats:
    """Move these series' rows of the hour at `start` into their chunks (caller commits)."""
    taken = await conn.execute(_take_rows_sql(ids, sqlite), {"lo": start, "hi": start + CHUNK})
    rows = _by_series(taken)
    if not rows:
        return CompactStats()
    found = await conn.execute(_chunks_sql(list(rows), lock=not sqlite), {"start": start})
    existing = {sid: bytes(data) for sid, data in found}
    params = []
    for sid, its in rows.items():
        points = merge(start, existing.get(sid), its)
        data = encode(start, points, compress=sqlite)
        params.append({"sid": sid, "start": start, "n": len(points), "data": data})
        await asyncio.sleep(0)  # one series at a time: the writer's COPY goes on meanwhile
    await conn.execute(_chunk_upsert(sqlite), params)
    return CompactStats(hours=len(rows), samples=sum(len(r) for r in rows.values()))


def pack_hour_sync(conn: Connection, ids: list[int], start: datetime, sqlite: bool) -> int:
    """pack_hour for a migration's synchronous connection; returns the rows moved."""
    taken = conn.execute(_take_rows_sql(ids, sqlite), {"lo": start, "hi": start + CHUNK})
    rows = _by_series(taken)
    if not rows:
        return 0
    found = conn.execute(_chunks_sql(list(rows), lock=False), {"start": start})
    existing = {sid: bytes(data) for sid, data in found}
    params = []
    for sid, its in rows.items():
        points = merge(start, existing.get(sid), its)
        params.append(
            {"sid": sid, "start": start, "n": len(points), "data": encode(start, points, sqlite)}
        )
    conn.execute(_chunk_upsert(sqlite), params)
    return sum(len(r) for r in rows.values())


def _by_series(taken: Iterable[Any]) -> dict[int, list[tuple[int, float]]]:
    rows: dict[int, list[tuple[int, float]]] = {}
    for sid, us, value in taken:
        rows.setdefault(sid, []).append((int(us), value))
    return rows


def oldest_hours(rows: Iterable[tuple[int, datetime | None]]) -> dict[datetime, list[int]]:
    """Series grouped by the hour of their oldest row before the boundary."""
    hours: dict[datetime, list[int]] = {}
    for sid, oldest in rows:
        if oldest is not None:
            hours.setdefault(chunk_start(oldest), []).append(sid)
    return hours


def boundary(done_1m: datetime | None, recent: timedelta) -> datetime | None:
    """Hours before this are packed: the 1 m roll-up never re-reads them from rows.

    Each maintenance pass re-rolls `recent` before the 1 m mark from `samples` rows, so only
    hours wholly before that window are packed. No mark (roll-ups never ran): nothing is.
    """
    if done_1m is None:
        return None
    return chunk_start(done_1m - recent)


class Compactor:
    """Packs closed hours into chunks: one transaction per hour and batch of series, about
    PACK_ROWS rows each."""

    def __init__(self, engine: Any, sqlite: bool, pace: float = PACE) -> None:
        self.engine = engine
        self.sqlite = sqlite
        self.pace = pace
        self._batch = COMPACT_SERIES

    async def run(self, until: datetime, max_rounds: int = 10_000) -> CompactStats:
        """Pack every row older than `until` (an hour boundary), oldest hour first."""
        total = CompactStats()
        for _ in range(max_rounds):
            async with self.engine.connect() as conn:
                oldest = (await conn.execute(_OLDEST, {"boundary": until})).all()
                await conn.commit()
            # min(ts) comes back as text on SQLite (an aggregate loses the column type)
            parsed = [(sid, _as_utc(ts)) for sid, ts in oldest]
            hours = oldest_hours(parsed)
            if not hours:
                break
            for start, ids in sorted(hours.items()):
                i = 0
                while i < len(ids):
                    batch = ids[i : i + self._batch]
                    t0 = time.monotonic()
                    async with self.engine.connect() as conn:
                        got = await pack_hour(conn, batch, start, self.sqlite)
                        await conn.commit()
                    # Paced: as long again idle, so writes get the loop and the database half
                    # the time (packing needs ~1 % of a core: it keeps up at any pace here).
                    await asyncio.sleep((time.monotonic() - t0) * self.pace)
                    i += len(batch)
                    total.hours += got.hours
                    total.samples += got.samples
                    # about PACK_ROWS rows a transaction: 200 series of 60 s data, 5 of 1 s data
                    per_series = got.samples / max(got.hours, 1)
                    self._batch = max(1, min(COMPACT_SERIES, int(PACK_ROWS / max(per_series, 1))))
        return total


def _as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    ts: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
