"""Reading metrics: series lookup, latest values, bucketed range queries across roll-up tiers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import InvalidInput, NotFound
from app.models import RollupState, Series
from app.models.base import UTCDateTime

Agg = Literal["avg", "min", "max", "last"]
NICE_STEPS = (
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10800,
    21600,
    43200,
    86400,
    172800,
    604800,
)


@dataclass(frozen=True)
class Tier:
    name: str
    seconds: int
    table: str


RAW = Tier("raw", 0, "samples")
TIERS = (Tier("1h", 3600, "samples_1h"), Tier("1m", 60, "samples_1m"), RAW)  # coarse to fine


def retention(settings: Settings, tier: Tier) -> timedelta:
    days = {
        "raw": settings.raw_retention_days,
        "1m": settings.rollup_1m_retention_days,
        "1h": settings.rollup_1h_retention_days,
    }[tier.name]
    return timedelta(days=days)


def nice_width(seconds: float) -> int:
    for step in NICE_STEPS:
        if step >= seconds:
            return step
    return int(math.ceil(seconds / 86400) * 86400)


def choose_tier(
    settings: Settings, start: datetime, end: datetime, points: int
) -> tuple[Tier, int]:
    """The coarsest tier that still yields `points` buckets, and whose retention reaches `start`."""
    want = (end - start).total_seconds() / points
    now = datetime.now(UTC)
    index = next(i for i, t in enumerate(TIERS) if t.seconds <= want)
    while index > 0 and start < now - retention(settings, TIERS[index]):
        index -= 1  # that fine data is gone already: read a coarser tier
    tier = TIERS[index]
    return tier, nice_width(max(want, tier.seconds, 1))


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
    total = await session.scalar(select(func.count()).select_from(Series).where(*where))
    rows = await session.scalars(
        select(Series)
        .where(*where)
        .order_by(Series.plugin_id, Series.name, Series.labels_key, Series.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total or 0)


async def latest(session: AsyncSession, plugin_id: int | None) -> list[Series]:
    query = select(Series).where(Series.last_ts.is_not(None))
    if plugin_id is not None:
        query = query.where(Series.plugin_id == plugin_id)
    return list(
        await session.scalars(query.order_by(Series.plugin_id, Series.name, Series.labels_key))
    )


def parse_labels(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"label filter {item!r} must look like key=value, e.g. mount=/")
        out[key] = value
    return out


def _source_sql(
    tier_index: int,
    done: dict[str, datetime],
    start: datetime,
    end: datetime,
    params: dict[str, Any],
) -> str:
    """UNION ALL of the chosen tier and every finer one, each up to where the coarser stops."""
    parts = []
    lower = start
    for i in range(tier_index, len(TIERS)):
        tier = TIERS[i]
        upper = end if tier is RAW else min(end, done.get(tier.name, start))
        if upper <= lower:
            continue
        lo, hi = f"lo{i}", f"hi{i}"
        params[lo], params[hi] = lower, upper
        if tier is RAW:
            cols = "ts, value AS vmin, value AS vmax, value AS vsum, 1 AS vcount, value AS vlast"
        else:
            cols = "ts, vmin, vmax, vsum, vcount, vlast"
        parts.append(
            f"SELECT {cols} FROM {tier.table} WHERE series_id = :sid AND ts >= :{lo} AND ts < :{hi}"  # noqa: S608 - identifiers are constants  # nosec B608
        )
        lower = upper
    return " UNION ALL ".join(parts)


ORIGIN = "2000-01-01 00:00:00+00"  # bucket boundaries align to this instant
AGG_SQL = {"avg": "sum(vsum) / sum(vcount)", "min": "min(vmin)", "max": "max(vmax)"}


async def query(
    session: AsyncSession,
    settings: Settings,
    series_ids: list[int],
    start: datetime,
    end: datetime,
    points: int,
    agg: Agg,
) -> dict[str, Any]:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("start and end need a timezone, e.g. 2026-01-01T00:00:00Z")
    if end <= start:
        raise InvalidInput("end must be after start.")
    if not series_ids:
        raise InvalidInput("Give at least one series_id (see GET /api/v1/metrics/series).")
    # One round trip for the series and how far each roll-up tier is done (every request pays
    # for each round trip: see bench/bench_query.py).
    done_cols = [
        select(RollupState.done_until)
        .where(RollupState.name == t.name)
        .scalar_subquery()
        .label(f"done_{t.name}")
        for t in TIERS
        if t is not RAW
    ]
    rows_found = (
        await session.execute(
            select(
                Series.id, Series.plugin_id, Series.name, Series.unit, Series.labels, *done_cols
            ).where(Series.id.in_(series_ids))
        )
    ).all()
    found = {r.id: r for r in rows_found}
    missing = [i for i in series_ids if i not in found]
    if missing:
        raise NotFound(f"No series with id {', '.join(map(str, missing))}.")
    tier, width = choose_tier(settings, start, end, points)
    first = rows_found[0]._mapping
    done: dict[str, datetime] = {
        t.name: first[f"done_{t.name}"]
        for t in TIERS
        if t is not RAW and first[f"done_{t.name}"] is not None
    }
    tier_index = TIERS.index(tier)
    sqlite = session.bind.dialect.name == "sqlite" if session.bind else False
    out = []
    for sid in dict.fromkeys(series_ids):
        params: dict[str, Any] = {"sid": sid}
        source = _source_sql(tier_index, done, start, end, params)
        rows: list[Any] = []
        if source:
            if sqlite:
                bucket = f"(CAST(strftime('%s', ts) AS INTEGER) / {width}) * {width}"
                last = "vlast"  # SQLite takes bare columns from the max(ts) row
                sql = (
                    f"SELECT {bucket} AS b, {AGG_SQL.get(agg, last)} AS v, max(ts) "  # noqa: S608 - identifiers are constants  # nosec B608
                    f"FROM ({source}) GROUP BY b ORDER BY b"
                )
            else:
                bucket = f"date_bin(interval '{width} seconds', ts, timestamptz '{ORIGIN}')"
                last = "(array_agg(vlast ORDER BY ts DESC))[1]"
                sql = (
                    f"SELECT {bucket} AS b, {AGG_SQL.get(agg, last)} AS v "  # noqa: S608 - identifiers are constants  # nosec B608
                    f"FROM ({source}) AS src GROUP BY b ORDER BY b"
                )
            stmt = text(sql).bindparams(
                *(bindparam(k, type_=UTCDateTime()) for k in params if k != "sid")
            )
            rows = list(await session.execute(stmt, params))
        s = found[sid]
        points_out = []
        for row in rows:
            b = row[0]
            ts = datetime.fromtimestamp(b, UTC) if isinstance(b, int | float) else b.astimezone(UTC)
            points_out.append([ts, row[1]])
        out.append(
            {
                "id": s.id,
                "plugin_id": s.plugin_id,
                "name": s.name,
                "unit": s.unit,
                "labels": s.labels,
                "points": points_out,
            }
        )
    return {
        "series": out,
        "resolution": tier.name,
        "bucket_seconds": width,
        "start": start,
        "end": end,
    }
