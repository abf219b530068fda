"""Daily partitions of the raw `samples` table on PostgreSQL: their names and their creation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


def partition_name(day: date) -> str:
    return f"samples_p{day:%Y%m%d}"


async def ensure_partitions(conn: AsyncConnection, days: Iterable[date]) -> None:
    """Create the daily partitions of `samples` that are missing (PostgreSQL only)."""
    for day in sorted(set(days)):
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = start + timedelta(days=1)
        await conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {partition_name(day)} PARTITION OF samples "
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
        )
