"""Reading metrics: series lookup, latest values, bucketed range queries across roll-up tiers."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import LargeBinary, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.core.cache import ExpiringCache
from app.core.config import Settings
from app.core.errors import InvalidInput, NotFound
from app.db.queries import paginate
from app.db.session import Database, asyncpg_of
from app.models import PluginInstance, RollupState, Series
from app.models.base import UTCDateTime
from app.schemas.metrics import QueryResult, QuerySeries
from app.services.metrics import range_pg
from app.services.metrics.chunks import CHUNK, decode, from_micros, micros
from app.services.metrics.tiers import RAW, Part, bucket_rule, choose_tier, columns, plan

Agg = Literal["avg", "min", "max", "last"]
QUERY_MAX_SERIES = 50  # per request: each is its own bucketed scan


async def list_series(
    session: AsyncSession,
    plugin_id: int | None,
    name: str | None,
    labels: dict[str, str],
    limit: int,
    offset: int,
) -> tuple[list[Series], int]:
    where = []
    if plugin_id is not None:
        where.append(Series.plugin_id == plugin_id)
    if name:
        where.append(Series.name == name)
    for key, value in labels.items():
        where.append(Series.labels[key].as_string() == value)
    order = (Series.plugin_id, Series.name, Series.labels_key, Series.id)
    return await paginate(session, Series, *where, order_by=order, limit=limit, offset=offset)


def parse_labels(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"label filter {item!r} must look like key=value, e.g. mount=/")
        out[key] = value
    return out


def _source_sql(parts: list[Part], param: Callable[[datetime | None], str]) -> str:
    """UNION ALL of the parts' tiers, each over its own range.

    `param(value)` binds a value and returns its placeholder; `param(None)` stands for the
    series id.
    """
    selects = []
    for part in parts:
        cols = columns(part.tier)
        selects.append(
            f"SELECT {cols} FROM {part.tier.table} WHERE series_id = {param(None)} "  # noqa: S608 - identifiers are constants  # nosec B608
            f"AND ts >= {param(part.lower)} AND ts < {param(part.upper)}"
        )
    return " UNION ALL ".join(selects)


def _packed_sql(raw: Part, param: Callable[[datetime | None], str]) -> str:
    """True when a chunk of the series overlaps the raw part's range."""
    return (
        f"EXISTS (SELECT 1 FROM sample_chunks WHERE series_id = {param(None)} "  # noqa: S608 - placeholders only  # nosec B608
        f"AND start > {param(raw.lower - CHUNK)} AND start < {param(raw.upper)})"
    )


def bucket_packed(
    rows: list[Any], parts: list[Part], width: int, origin: datetime, agg: Agg
) -> list[tuple[datetime, float | None]]:
    """Buckets from rows of kind 0 (roll-up row), 1 (raw row) and 2 (chunk)."""
    raw = next(p for p in parts if p.tier is RAW)
    lo, hi = micros(raw.lower), micros(raw.upper)
    o, w = micros(origin), width * 1_000_000
    acc: dict[int, list[float]] = {}  # bucket -> [min, max, sum, count, last ts, last]

    def add(t: int, mn: float, mx: float, sm: float, ct: float, lv: float) -> None:
        b = o + (t - o) // w * w
        a = acc.get(b)
        if a is None:
            acc[b] = [mn, mx, sm, ct, t, lv]
            return
        a[0] = min(a[0], mn)
        a[1] = max(a[1], mx)
        a[2] += sm
        a[3] += ct
        if t >= a[4]:
            a[4], a[5] = t, lv

    written: set[int] = set()
    chunks = []
    for k, ts, mn, mx, sm, ct, lv, data in rows:
        if k == 2:
            chunks.append((ts, data))
            continue
        t = micros(ts)
        if k == 1:
            written.add(t)
        add(t, mn, mx, sm, ct, lv)
    for start, data in chunks:
        times, values = decode(start, bytes(data))
        if written.intersection(times):  # rewritten since packed: the rows stand instead
            kept = [(t, v) for t, v in zip(times, values, strict=True) if t not in written]
            times, values = [t for t, _ in kept], array("d", [v for _, v in kept])
        # A chunk's times are sorted: each bucket is a slice, summed in C.
        i, end = bisect_left(times, lo), bisect_left(times, hi)
        while i < end:
            b = o + (times[i] - o) // w * w
            j = bisect_left(times, b + w, i, end)
            part = values[i:j]
            add(times[j - 1], min(part), max(part), sum(part), j - i, part[-1])
            i = j
    out: list[tuple[datetime, float | None]] = []
    for b in sorted(acc):
        mn, mx, sm, ct, _, lv = acc[b]
        value = {"avg": sm / ct if ct else None, "min": mn, "max": mx}.get(agg, lv)
        out.append((from_micros(b), value))
    return out


AGG_SQL = {"avg": "sum(vsum) / sum(vcount)", "min": "min(vmin)", "max": "max(vmax)"}
# What a range query looks up before it reads samples, kept in memory for this long: series
# are never changed once created (a deleted plugin's series are forgotten on its commit, and
# within SERIES_TTL_SECONDS on other replicas); a roll-up tier only ever moves forward, and a
# stale mark just means reading finer data for the last minutes.
SERIES_TTL_SECONDS = 60.0
SERIES_CACHED_MAX = 10_000
DONE_TTL_SECONDS = 15.0


_LOOKUP = select(Series.id, Series.plugin_id, Series.name, Series.unit, Series.labels).where(
    Series.id.in_(bindparam("ids", expanding=True))
)


@dataclass(frozen=True)
class SeriesMeta:
    id: int
    plugin_id: int
    name: str
    unit: str
    labels: dict[str, str]


class MetricsReader:
    """Range queries: one round trip to the database once a series has been seen.

    The series' names and labels and how far each roll-up tier is done are kept in memory
    (see SERIES_TTL_SECONDS); on PostgreSQL the bucketing statement goes straight to asyncpg,
    and the answer is encoded to JSON by pydantic-core without a second validation pass.
    """

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._series: ExpiringCache[int, SeriesMeta] = ExpiringCache(SERIES_CACHED_MAX)
        self._done: ExpiringCache[None, dict[str, datetime]] = ExpiringCache(1)
        self.chunks = range_pg.ChunkCache()
        db.after_commit_changing(self._series.clear, deleted=(PluginInstance, Series))

    def rolled_up(self) -> None:
        """A roll-up tier moved forward (maintenance in this process): re-read the marks."""
        self._done.clear()

    async def query(
        self,
        series_ids: list[int],
        start: datetime | None,
        end: datetime | None,
        points: int,
        agg: Agg,
    ) -> bytes:
        """The QueryResult for these series, as JSON; the range defaults to the last hour."""
        if points > self.settings.query_max_points:
            raise InvalidInput(
                f"points must be at most {self.settings.query_max_points}.",
                {"points": f"must be at most {self.settings.query_max_points}"},
            )
        if len(series_ids) > QUERY_MAX_SERIES:
            raise InvalidInput(f"Ask for at most {QUERY_MAX_SERIES} series at once.")
        end = end or datetime.now(UTC)
        start = start or end - timedelta(hours=1)
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidInput("start and end need a timezone, e.g. 2026-01-01T00:00:00Z")
        if end <= start:
            raise InvalidInput("end must be after start.")
        if not series_ids:
            raise InvalidInput("Give at least one series_id (see GET /api/v1/metrics/series).")
        tier_index = choose_tier(self.settings, start, end, points)
        out = []
        async with self.db.read_engine.connect() as conn:
            found = await self._lookup(conn, series_ids)
            missing = [i for i in series_ids if i not in found]
            if missing:
                raise NotFound(f"No series with id {', '.join(map(str, missing))}.")
            parts = plan(tier_index, await self._done_until(conn), start, end)
            # The coarsest tier read is what the answer's resolution is.
            served = parts[0].tier
            width, origin = bucket_rule(start, end, points, max(served.seconds, 1))
            for sid in dict.fromkeys(series_ids):
                rows = await self._buckets(conn, sid, parts, width, origin, agg)
                meta = found[sid]
                out.append(
                    QuerySeries.model_construct(
                        id=meta.id,
                        plugin_id=meta.plugin_id,
                        name=meta.name,
                        unit=meta.unit,
                        labels=meta.labels,
                        points=rows,
                    )
                )
        result = QueryResult.model_construct(
            series=out, resolution=served.name, bucket_seconds=width, start=start, end=end
        )
        return result.model_dump_json().encode()

    async def _lookup(self, conn: AsyncConnection, series_ids: list[int]) -> dict[int, SeriesMeta]:
        found = {sid: meta for sid in series_ids if (meta := self._series.get(sid)) is not None}
        unknown = [sid for sid in series_ids if sid not in found]
        if unknown:
            epoch = self._series.epoch
            for row in await conn.execute(_LOOKUP, {"ids": unknown}):
                meta = found[row.id] = SeriesMeta(*row)
                self._series.put(row.id, meta, SERIES_TTL_SECONDS, epoch)
        return found

    async def _done_until(self, conn: AsyncConnection) -> dict[str, datetime]:
        done = self._done.get(None)
        if done is None:
            epoch = self._done.epoch
            rows = await conn.execute(select(RollupState.name, RollupState.done_until))
            done = {name: until for name, until in rows}
            self._done.put(None, done, DONE_TTL_SECONDS, epoch)
        return done

    async def _buckets(
        self,
        conn: AsyncConnection,
        sid: int,
        parts: list[Part],
        width: int,
        origin: datetime,
        agg: Agg,
    ) -> list[tuple[datetime, float | None]]:
        raw = next((p for p in parts if p.tier is RAW), None)
        if self.db.is_sqlite:
            params: dict[str, Any] = {}

            def named(value: datetime | None) -> str:
                if value is None:
                    return ":sid"
                params[f"t{len(params)}"] = value
                return f":t{len(params) - 1}"

            source = _source_sql(parts, named)
            o = int(origin.timestamp())
            bucket = f"((CAST(strftime('%s', ts) AS INTEGER) - {o}) / {width}) * {width} + {o}"
            # SQLite takes bare columns (vlast) from the max(ts) row
            sql = (
                f"SELECT 0 AS k, {bucket} AS b, {AGG_SQL.get(agg, 'vlast')} AS v, max(ts) "  # noqa: S608 - identifiers are constants  # nosec B608
                f"FROM ({source}) GROUP BY b"
            )
            if raw is not None:
                sql += " UNION ALL SELECT 1, NULL, NULL, NULL WHERE " + _packed_sql(raw, named)
            stmt = text(sql + " ORDER BY k, b").bindparams(
                *(bindparam(k, type_=UTCDateTime()) for k in params)
            )
            rows = (await conn.execute(stmt, {"sid": sid, **params})).all()
            if rows and rows[-1][0] == 1:  # part of the range is packed: merge in Python
                return await self._packed_buckets(conn, sid, parts, width, origin, agg)
            return [(datetime.fromtimestamp(b, UTC), v) for _, b, v, _ in rows]
        sql, args = range_pg.statement(sid, parts, width, origin, agg)
        apg = await asyncpg_of(conn)
        rows = await apg.fetch(sql, *args)
        return range_pg.buckets(sid, rows, parts, width, origin, agg, self.chunks)

    async def _packed_buckets(
        self,
        conn: AsyncConnection,
        sid: int,
        parts: list[Part],
        width: int,
        origin: datetime,
        agg: Agg,
    ) -> list[tuple[datetime, float | None]]:
        """SQLite: buckets over roll-up rows, raw rows and packed chunks, in one statement.

        One statement, so one snapshot: a chunk written (and its rows deleted) by a compaction
        committing meanwhile is seen either as the rows or as the chunk, never both or neither.
        A row at an instant its chunk holds too is a later write and wins.
        """
        params: dict[str, Any] = {}

        def param(value: datetime | None) -> str:
            if value is None:
                return ":sid"
            params[f"t{len(params)}"] = value
            return f":t{len(params) - 1}"

        selects = []
        for part in parts:
            if part.tier is RAW:
                selects.append(
                    "SELECT 1 AS k, ts, value AS vmin, value AS vmax, value AS vsum, 1 AS vcount, "  # noqa: S608 - placeholders only  # nosec B608
                    f"value AS vlast, NULL AS data FROM samples WHERE series_id = {param(None)} "
                    f"AND ts >= {param(part.lower)} AND ts < {param(part.upper)}"
                )
                selects.append(
                    "SELECT 2, start, NULL, NULL, NULL, NULL, NULL, data FROM sample_chunks "  # noqa: S608 - placeholders only  # nosec B608
                    f"WHERE series_id = {param(None)} AND start > {param(part.lower - CHUNK)} "
                    f"AND start < {param(part.upper)}"
                )
            else:
                selects.append(
                    "SELECT 0 AS k, ts, vmin, vmax, vsum, vcount, vlast, NULL AS data "  # noqa: S608 - identifiers are constants  # nosec B608
                    f"FROM {part.tier.table} WHERE series_id = {param(None)} "
                    f"AND ts >= {param(part.lower)} AND ts < {param(part.upper)}"
                )
        stmt = (
            text(" UNION ALL ".join(selects))
            .bindparams(*(bindparam(k, type_=UTCDateTime()) for k in params))
            .columns(ts=UTCDateTime(), data=LargeBinary())
        )
        rows: list[Any] = list(await conn.execute(stmt, {"sid": sid, **params}))
        return bucket_packed(rows, parts, width, origin, agg)
