"""Roll-up tiers (raw, 1 min, 1 h): their tables, retention, and which one answers a query."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from app.core.config import Settings

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
    name: Literal["raw", "1m", "1h"]
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
