"""A bucketed range read on PostgreSQL in one statement: roll-ups, raw rows and packed hours.

One statement, so one round trip and one snapshot: a chunk written (and its rows deleted) by a
compaction committing meanwhile is seen either as the rows or as the chunk, never both or
neither. What the database can bucket it buckets (roll-up rows, and raw rows of hours that have
no chunk: `k = 0`, one row per bucket, only the partials the aggregate needs); the chunks of the
range (`k = 2`) and the rare raw rows among packed hours (`k = 1`: late writes, not packed yet;
a row wins over the chunk's sample at its instant) come back as they are and are bucketed here.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from app.services.metrics.chunks import CHUNK, decode, from_micros, micros
from app.services.metrics.tiers import RAW, Part, columns

Agg = Literal["avg", "min", "max", "last"]
# Decoded samples kept for the next read (16-40 bytes each: ~4 MB): a dashboard re-reads the
# same closed hours every refresh.
CACHE_SAMPLES = 100_000
# The end of the range's last packed hour: raw rows before it (late writes, and any hour not
# packed yet between packed ones: rare) come back one by one to be merged with the chunks;
# those after it are bucketed by the database. NULL (nothing packed): no row before it.
_PACKED_UNTIL = "(SELECT max(start) + interval '1 hour' FROM c)"
# Per aggregate: the partials of a bucket (min, max, sum, count, time of the last, last).
_PARTIALS = {
    "avg": "NULL::float8, NULL::float8, sum(vsum)::float8, sum(vcount)::float8, "
    "NULL::timestamptz, NULL::float8",
    "min": "min(vmin)::float8, NULL::float8, NULL::float8, NULL::float8, NULL::timestamptz, "
    "NULL::float8",
    "max": "NULL::float8, max(vmax)::float8, NULL::float8, NULL::float8, NULL::timestamptz, "
    "NULL::float8",
    "last": "NULL::float8, NULL::float8, NULL::float8, NULL::float8, max(ts), "
    "(array_agg(vlast ORDER BY ts DESC))[1]::float8",
}


def statement(
    sid: int, parts: list[Part], width: int, origin: datetime, agg: Agg
) -> tuple[str, list[Any]]:
    """The SQL and its arguments; rows are (k, ts, min, max, sum, count, last ts, last, data),
    sorted by k and ts."""
    args: list[Any] = [sid]

    def param(value: datetime) -> str:
        args.append(value)
        return f"${len(args)}"

    raw = next((p for p in parts if p.tier is RAW), None)
    sources = []
    for part in parts:
        cols = columns(part.tier)
        where = f"series_id = $1 AND ts >= {param(part.lower)} AND ts < {param(part.upper)}"
        if part.tier is RAW:  # after the last packed hour (all of it when none is)
            where += f" AND ts >= coalesce({_PACKED_UNTIL}, '-infinity')"
        sources.append(f"SELECT {cols} FROM {part.tier.table} WHERE {where}")  # noqa: S608 - placeholders and constants  # nosec B608
    bucket = f"date_bin(interval '{int(width)} seconds', ts, timestamptz '{origin.isoformat()}')"
    sql = (
        f"SELECT 0 AS k, {bucket} AS t, {_PARTIALS[agg]}, NULL::bytea AS data "  # noqa: S608 - identifiers are constants  # nosec B608
        f"FROM ({' UNION ALL '.join(sources)}) AS src GROUP BY 2"
    )
    if raw is None:
        return sql + " ORDER BY 2", args
    lo, hi = param(raw.lower), param(raw.upper)
    chunks = (
        f"WITH c AS MATERIALIZED (SELECT start, data FROM sample_chunks WHERE series_id = $1 "  # noqa: S608 - placeholders only  # nosec B608
        f"AND start > {param(raw.lower - CHUNK)} AND start < {hi}) "
    )
    rows = (
        "SELECT 1, ts, value, NULL, NULL, NULL, NULL, NULL, NULL FROM samples "  # noqa: S608 - placeholders only  # nosec B608
        f"WHERE series_id = $1 AND ts >= {lo} AND ts < {hi} AND ts < {_PACKED_UNTIL}"
    )
    packed = "SELECT 2, start, NULL, NULL, NULL, NULL, NULL, NULL, data FROM c"
    return f"{chunks}{sql} UNION ALL {rows} UNION ALL {packed} ORDER BY 1, 2", args


def _merge(agg: Agg) -> Callable[[list[Any], list[Any]], None]:
    """Fold partial `b` into partial `a` (lists [min, max, sum, count, last µs, last])."""
    if agg == "avg":

        def fold(a: list[Any], b: list[Any]) -> None:
            a[2] += b[2]
            a[3] += b[3]

    elif agg == "min":

        def fold(a: list[Any], b: list[Any]) -> None:
            a[0] = min(a[0], b[0])

    elif agg == "max":

        def fold(a: list[Any], b: list[Any]) -> None:
            a[1] = max(a[1], b[1])

    else:

        def fold(a: list[Any], b: list[Any]) -> None:
            if b[4] >= a[4]:
                a[4], a[5] = b[4], b[5]

    return fold


def _value(agg: Agg, p: list[Any]) -> float | None:
    if agg == "avg":
        return p[2] / p[3] if p[3] else None
    return p[{"min": 0, "max": 1}.get(agg, 5)]  # type: ignore[no-any-return]


@lru_cache(maxsize=4096)
def _bucket_time(us: int) -> datetime:
    """A bucket's time; charts ask for the same epoch-aligned buckets again and again."""
    return from_micros(us)


class ChunkCache:
    """Decoded chunks of recent reads, bounded by the samples they hold (least recent out).

    A chunk is found by (series, start) and used only if its bytes are the ones just read, so
    a chunk re-packed since (late data merged into it) is decoded afresh: nothing to
    invalidate. Late rows not packed yet are merged on every read, cached chunk or not.
    """

    def __init__(self, max_samples: int = CACHE_SAMPLES) -> None:
        self.max_samples = max_samples
        self.samples = 0
        self.hits = self.misses = 0
        self._items: OrderedDict[tuple[int, datetime], tuple[bytes, list[int], array[float]]]
        self._items = OrderedDict()

    def get(self, sid: int, start: datetime, data: bytes) -> tuple[list[int], array[float]]:
        key = (sid, start)
        item = self._items.get(key)
        if item is not None and item[0] == data:
            self._items.move_to_end(key)
            self.hits += 1
            return item[1], item[2]
        self.misses += 1
        times, values = decode(start, data)
        if item is not None:
            self.samples -= len(item[1])
        self._items[key] = (data, times, values)
        self._items.move_to_end(key)
        self.samples += len(times)
        while self.samples > self.max_samples and len(self._items) > 1:
            _, (_, old, _) = self._items.popitem(last=False)
            self.samples -= len(old)
        return times, values

    def clear(self) -> None:
        self._items.clear()
        self.samples = 0


def _chunk_points(
    sid: int, chunks: list[tuple[datetime, bytes]], late: dict[int, float], cache: ChunkCache
) -> tuple[list[int], array[float]]:
    """The chunks' samples in time order, with the late rows in their place."""
    times: list[int] = []
    values: array[float] = array("d")
    for start, data in sorted(chunks):
        t, v = cache.get(sid, start, data)
        times += t
        values += v
    if late:  # rewritten or added since packed: the rows stand
        merged = dict(zip(times, values, strict=True))
        merged.update(late)
        times = sorted(merged)
        values = array("d", (merged[t] for t in times))
    return times, values


def buckets(
    sid: int,
    rows: list[Any],
    parts: list[Part],
    width: int,
    origin: datetime,
    agg: Agg,
    cache: ChunkCache,
) -> list[tuple[datetime, float | None]]:
    """The answer from the statement's rows, oldest bucket first."""
    if not rows or rows[-1][0] == 0:  # (sorted by k) nothing packed: the database did it all
        if agg == "avg":
            return [(r[1], r[4] / r[5] if r[5] else None) for r in rows]
        column = {"min": 2, "max": 3}.get(agg, 7)
        return [(r[1], r[column]) for r in rows]
    acc: dict[int, list[Any]] = {}  # bucket µs -> [min, max, sum, count, last µs, last]
    late: dict[int, float] = {}
    chunks = []
    for k, t, mn, mx, sm, ct, lt, lv, data in rows:
        if k == 0:
            acc[micros(t)] = [mn, mx, sm, ct, micros(lt) if lt is not None else 0, lv]
        elif k == 1:
            late[micros(t)] = mn
        else:
            chunks.append((t, data))
    if chunks or late:
        raw = next(p for p in parts if p.tier is RAW)
        times, values = _chunk_points(sid, chunks, late, cache)
        o, w = micros(origin), width * 1_000_000
        i, end = bisect_left(times, micros(raw.lower)), bisect_left(times, micros(raw.upper))
        if agg == "avg":  # the usual read, kept lean: a sum and a count per bucket
            sums = []
            while i < end:
                b = o + (times[i] - o) // w * w
                j = bisect_left(times, b + w, i, end)
                sums.append((b, sum(values[i:j]), j - i))
                i = j
            if not acc:
                return [(_bucket_time(b), sm / ct) for b, sm, ct in sums]
            for b, sm, ct in sums:
                a = acc.get(b)
                if a is None:
                    acc[b] = [None, None, sm, ct, 0, None]
                else:
                    a[2] += sm
                    a[3] += ct
        fold = _merge(agg)
        while i < end:
            b = o + (times[i] - o) // w * w
            j = bisect_left(times, b + w, i, end)
            if agg == "min":
                p = [min(values[i:j]), None, None, None, 0, None]
            elif agg == "max":
                p = [None, max(values[i:j]), None, None, 0, None]
            else:
                p = [None, None, None, None, times[j - 1], values[j - 1]]
            a = acc.get(b)
            if a is None:
                acc[b] = p
            else:
                fold(a, p)
            i = j
    if agg == "avg":
        return [(_bucket_time(b), p[2] / p[3] if p[3] else None) for b, p in sorted(acc.items())]
    return [(_bucket_time(b), _value(agg, p)) for b, p in sorted(acc.items())]
