"""Uptime figures read from the hourly and daily roll-ups: per plugin, per window, per day."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import InvalidInput
from app.models import PluginInstance, UptimeCursor, UptimeDaily, UptimeHourly
from app.services.metrics.uptime import CURSOR, KINDS, Durations, floor_day, floor_hour

WINDOWS = {"24h": None, "7d": 7, "30d": 30, "90d": 90, "365d": 365}
BAR_DAYS = 90
_DAILY = UptimeDaily.__table__


def check_window(window: str) -> str:
    if window not in WINDOWS:
        raise InvalidInput(
            f"Unknown window {window!r}; use one of {', '.join(WINDOWS)}.",
            {"window": f"one of {', '.join(WINDOWS)}"},
        )
    return window


async def _hourly_totals(
    session: AsyncSession, now: datetime, plugin_ids: Collection[int] | None
) -> dict[int, Durations]:
    since = floor_hour(now) - timedelta(hours=23)  # the current hour and the 23 before it
    sums = [func.coalesce(func.sum(getattr(UptimeHourly, f"{k}_s")), 0.0) for k in KINDS]
    query = select(UptimeHourly.plugin_id, *sums).where(UptimeHourly.hour >= since)
    if plugin_ids is not None:
        query = query.where(UptimeHourly.plugin_id.in_(plugin_ids))
    rows = await session.execute(query.group_by(UptimeHourly.plugin_id))
    return {pid: Durations(*map(float, values)) for pid, *values in rows}


async def window_totals(
    session: AsyncSession, window: str, now: datetime, plugin_ids: Collection[int] | None = None
) -> dict[int, Durations]:
    """Per plugin, the durations within `window` (all plugins with rows, or the ones named).

    Day windows are the latest day's running totals minus those of the day before the window:
    two rows per plugin however long the window, subtracted in SQL (yesterday's row stands in
    until today's is folded).
    """
    days = WINDOWS[check_window(window)]
    if days is None:
        return await _hourly_totals(session, now, plugin_ids)
    today = floor_day(now)
    cursor = await session.scalar(select(UptimeCursor.position).where(UptimeCursor.name == CURSOR))
    if cursor is None:
        return {}
    end_day = min(today, floor_day(cursor - timedelta(microseconds=1)))
    before = today - timedelta(days=days)
    end, start = _DAILY.alias("e"), _DAILY.alias("s")
    query = (
        select(
            end.c.plugin_id,
            *(end.c[f"cum_{k}_s"] - func.coalesce(start.c[f"cum_{k}_s"], 0.0) for k in KINDS),
        )
        .select_from(
            end.outerjoin(start, (start.c.plugin_id == end.c.plugin_id) & (start.c.day == before))
        )
        .where(end.c.day == end_day)
    )
    if plugin_ids is not None:
        query = query.where(end.c.plugin_id.in_(plugin_ids))
    conn = await session.connection()
    return {pid: Durations(*values) for pid, *values in await conn.execute(query)}


async def daily_series(
    session: AsyncSession, days: int, now: datetime, plugin_ids: Collection[int] | None = None
) -> dict[int, list[dict[str, Any]]]:
    """Per plugin, one entry per UTC day, oldest first, `days` long (zeros where nothing)."""
    if days <= 0:
        return {}
    first = floor_day(now) - timedelta(days=days - 1)
    query = select(UptimeDaily).where(UptimeDaily.day >= first)
    if plugin_ids is not None:
        query = query.where(UptimeDaily.plugin_id.in_(plugin_ids))
    found: dict[int, dict[datetime, UptimeDaily]] = {}
    for row in await session.scalars(query):
        found.setdefault(row.plugin_id, {})[row.day] = row
    out: dict[int, list[dict[str, Any]]] = {}
    for pid, by_day in found.items():
        series = []
        for i in range(days):
            day = first + timedelta(days=i)
            got = by_day.get(day)
            d = Durations(*((float(getattr(got, f"{k}_s")) if got else 0.0) for k in KINDS))
            series.append({"date": day.date().isoformat(), **d.as_dict()})
        out[pid] = series
    return out


def empty_days(days: int, now: datetime) -> list[dict[str, Any]]:
    first = floor_day(now) - timedelta(days=days - 1)
    return [
        {"date": (first + timedelta(days=i)).date().isoformat(), **Durations().as_dict()}
        for i in range(days)
    ]


async def plugin_uptime(session: AsyncSession, plugin_id: int, now: datetime) -> dict[str, Any]:
    """Every window and the 90-day bar of one plugin."""
    windows = {}
    for window in WINDOWS:
        totals = await window_totals(session, window, now, (plugin_id,))
        windows[window] = totals.get(plugin_id, Durations()).as_dict()
    series = await daily_series(session, BAR_DAYS, now, (plugin_id,))
    return {
        "plugin_id": plugin_id,
        "windows": windows,
        "days": series.get(plugin_id) or empty_days(BAR_DAYS, now),
    }


async def all_uptime(
    session: AsyncSession, window: str, days: int, now: datetime
) -> list[dict[str, Any]]:
    """One window (and optionally a per-day series) for every plugin."""
    totals = await window_totals(session, window, now)
    series = await daily_series(session, days, now)
    table = PluginInstance.__table__
    conn = await session.connection()
    plugins = await conn.execute(select(table.c.id, table.c.name).order_by(table.c.id))
    return [
        {
            "plugin_id": pid,
            "name": name,
            "window": window,
            **totals.get(pid, Durations()).as_dict(),
            "days": series.get(pid) or (empty_days(days, now) if days > 0 else []),
        }
        for pid, name in plugins
    ]
