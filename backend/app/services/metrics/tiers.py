"""Roll-up tiers (raw, 1 min, 1 h): their tables, retention, and which one answers a query."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from app.core.config import Settings


@dataclass(frozen=True)
class Tier:
    name: Literal["raw", "1m", "1h"]
    seconds: int
    table: str


RAW = Tier("raw", 0, "samples")
TIERS = (Tier("1h", 3600, "samples_1h"), Tier("1m", 60, "samples_1m"), RAW)  # coarse to fine
ROLLUPS = (TIERS[1], TIERS[0])  # in the order maintenance builds them


def retention(settings: Settings, tier: Tier) -> timedelta:
    days = {
        "raw": settings.raw_retention_days,
        "1m": settings.rollup_1m_retention_days,
        "1h": settings.rollup_1h_retention_days,
    }[tier.name]
    return timedelta(days=days)


def columns(tier: Tier) -> str:
    """The roll-up columns a tier's rows give a range read (a raw sample is its own bucket)."""
    if tier is RAW:
        return "ts, value AS vmin, value AS vmax, value AS vsum, 1 AS vcount, value AS vlast"
    return "ts, vmin, vmax, vsum, vcount, vlast"


def floor_to(ts: datetime, seconds: int) -> datetime:
    epoch = int(ts.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def choose_tier(settings: Settings, start: datetime, end: datetime, points: int) -> int:
    """Index in TIERS of the coarsest tier that still yields `points` buckets and whose
    retention reaches `start`."""
    want = (end - start).total_seconds() / points
    now = datetime.now(UTC)
    index = next(i for i, t in enumerate(TIERS) if t.seconds <= want)
    while index > 0 and start < now - retention(settings, TIERS[index]):
        index -= 1  # that fine data is gone already: read a coarser tier
    return index


@dataclass(frozen=True)
class Part:
    """One tier's share of a query: [lower, upper)."""

    tier: Tier
    lower: datetime
    upper: datetime


def plan(tier_index: int, done: dict[str, datetime], start: datetime, end: datetime) -> list[Part]:
    """The chosen tier up to where it is complete, then each finer one up to where the next
    coarser one takes over, raw data last. The first part is the coarsest that serves.

    A roll-up row stands for its whole minute or hour, so the first part starts at the row
    that holds `start`: buckets are whole rows, and the row a range starts inside belongs to
    its first bucket just as the row it ends inside belongs to its last.
    """
    parts: list[Part] = []
    lower = start
    for tier in TIERS[tier_index:]:
        upper = end if tier is RAW else min(end, done.get(tier.name, start))
        first = floor_to(lower, tier.seconds) if tier.seconds and not parts else lower
        if upper > lower:
            parts.append(Part(tier, first, upper))
            lower = upper
    return parts


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = 1_000_000
WIDTH_STEPS = 64  # widths tried one grain apart before the one that always fits


def _micros(ts: datetime) -> int:
    return (ts - EPOCH) // timedelta(microseconds=1)


def buckets(start: datetime, end: datetime, width: int, origin: datetime = EPOCH) -> int:
    """How many buckets of `width` seconds, counted from `origin`, overlap [start, end)."""
    o, w = _micros(origin), width * _US
    return (_micros(end) - 1 - o) // w - (_micros(start) - o) // w + 1


def bucket_rule(start: datetime, end: datetime, points: int, grain: int) -> tuple[int, datetime]:
    """Bucket width in seconds and the instant buckets count from, for at most `points` buckets.

    The width is the smallest whole multiple of `grain` (1 s for raw data, 60 s for the 1 m
    tier, 3600 s for 1 h: no roll-up row is split) that is at least (end - start) / points
    and whose buckets, counted from the Unix epoch, overlap [start, end) at most `points`
    times. Epoch-aligned buckets stay put when a chart moves its window. `points=1` asks for
    one value over the whole range: one bucket, counted from `start` (floored to `grain`).
    """
    span = (end - start).total_seconds()
    if points == 1:
        origin = floor_to(start, grain)
        width = math.ceil((end - origin).total_seconds() / grain) * grain
        return max(width, grain), origin
    width = max(math.ceil(span / points / grain), 1) * grain
    # Misaligned by the epoch, a range can touch one bucket more than span / width; a width
    # of span / (points - 1) or more always fits.
    fits = max(math.ceil(span / (points - 1) / grain), 1) * grain
    for _ in range(WIDTH_STEPS):
        if width >= fits or buckets(start, end, width) <= points:
            return width, EPOCH
        width += grain
    return fits, EPOCH
