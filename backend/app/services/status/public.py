"""The public view of a status page: states, uptime and the bar of the monitors it chooses.

Everything here is keyed by what the admin wrote (display names, item keys); plugin ids are
used to look things up and never put into the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import PluginHealth, PluginInstance, PluginRun, StatusPage
from app.models.enums import HealthStatus, RunStatus
from app.services.alerts import maintenance
from app.services.metrics.uptime import Durations
from app.services.metrics.uptime_query import BAR_DAYS, daily_series, empty_days, window_totals

PUBLIC_WINDOWS = ("24h", "30d", "90d")
UPCOMING = timedelta(days=7)
RECENT_NOTES = timedelta(days=14)
# Worst first: the page's overall state is that of its worst monitor. A monitor without data
# (new, or disabled) says nothing about the others, so it counts only when all are so.
_RANK = ("down", "degraded", "maintenance", "healthy", "unknown")
_PAGE_STATE = {"healthy": "operational"}


@dataclass(frozen=True)
class Item:
    """One monitor of a page, as the admin configured it."""

    plugin_id: int
    key: str
    name: str
    show_response_time: bool
    badge: bool


def group_items(group: dict[str, Any]) -> list[Item]:
    return [
        Item(i["plugin_id"], i["key"], i["name"], i["show_response_time"], i["badge"])
        for i in group["items"]
    ]


def items(page: StatusPage) -> list[Item]:
    return [i for g in page.groups for i in group_items(g)]


def find_item(page: StatusPage, key: str) -> Item | None:
    return next((i for i in items(page) if i.key == key), None)


@dataclass(frozen=True)
class State:
    """A monitor's public state and since when it holds (None: not known, or maintenance)."""

    name: str
    since: datetime | None = None


async def _states(session: AsyncSession, ids: set[int]) -> dict[int, State]:
    rows = await session.execute(
        select(
            PluginInstance.id, PluginInstance.enabled, PluginHealth.status, PluginHealth.changed_at
        )
        .outerjoin(PluginHealth, PluginHealth.plugin_id == PluginInstance.id)
        .where(PluginInstance.id.in_(ids))
    )
    return {
        pid: State(status or HealthStatus.UNKNOWN, since) if on else State("unknown")
        for pid, on, status, since in rows
    }


async def response_times(session: AsyncSession, ids: set[int]) -> dict[int, float]:
    """Each plugin's last successful check duration in ms."""
    if not ids:
        return {}
    last = (
        select(PluginRun.plugin_id, func.max(PluginRun.started_at).label("at"))
        .where(PluginRun.plugin_id.in_(ids), PluginRun.status == RunStatus.SUCCESS)
        .group_by(PluginRun.plugin_id)
        .subquery()
    )
    rows = await session.execute(
        select(PluginRun.plugin_id, PluginRun.duration_ms).join(
            last, (last.c.plugin_id == PluginRun.plugin_id) & (last.c.at == PluginRun.started_at)
        )
    )
    return {pid: float(ms) for pid, ms in rows if ms is not None}


async def monitor_states(
    session: AsyncSession, chosen: list[Item], now: datetime
) -> dict[int, State]:
    """Each chosen plugin's public state: its health, or 'maintenance' inside a window."""
    ids = {i.plugin_id for i in chosen}
    states = await _states(session, ids) if ids else {}
    if states:
        for window in await maintenance.windows_between(session, now, now + timedelta(seconds=1)):
            if maintenance.is_active(window, now):
                for pid in states:
                    if maintenance.covers(window, pid):
                        states[pid] = State("maintenance")
    return states


def page_state(states: list[str]) -> str:
    if not states:
        return "unknown"
    worst = min(states, key=_RANK.index)
    return _PAGE_STATE.get(worst, worst)


async def _maintenance(
    session: AsyncSession, chosen: list[Item], now: datetime
) -> list[dict[str, Any]]:
    names = {i.plugin_id: i.name for i in chosen}
    out = []
    for window in await maintenance.windows_between(session, now, now + UPCOMING):
        covered = [name for pid, name in names.items() if maintenance.covers(window, pid)]
        if not covered:
            continue
        spans = maintenance.occurrences(window, now, now + UPCOMING)
        if spans:
            start, end = spans[0]
            out.append(
                {
                    "name": window.name,
                    "starts_at": start,
                    "ends_at": end,
                    "active": start <= now,
                    "monitors": covered,
                }
            )
    return sorted(out, key=lambda m: m["starts_at"])


def _announcements(page: StatusPage, now: datetime) -> list[dict[str, Any]]:
    notes = [{**n, "posted_at": datetime.fromisoformat(n["posted_at"])} for n in page.announcements]
    return [n for n in notes if n["active"] or n["posted_at"] >= now - RECENT_NOTES]


async def status_view(session: AsyncSession, page: StatusPage, now: datetime) -> dict[str, Any]:
    """Everything PublicStatusPage holds, for one page."""
    chosen = items(page)
    states = await monitor_states(session, chosen, now)
    chosen = [i for i in chosen if i.plugin_id in states]  # a deleted plugin drops out
    ids = {i.plugin_id for i in chosen}
    totals = {w: await window_totals(session, w, now, ids) for w in PUBLIC_WINDOWS}
    bars = await daily_series(session, BAR_DAYS, now, ids)
    timed = {i.plugin_id for i in chosen if i.show_response_time}
    times = await response_times(session, timed)

    def monitor(item: Item) -> dict[str, Any]:
        pid = item.plugin_id
        return {
            "key": item.key,
            "name": item.name,
            "status": states[pid].name,
            "since": states[pid].since,
            "response_ms": times.get(pid) if item.show_response_time else None,
            "uptime": {w: totals[w].get(pid, Durations()).as_dict() for w in PUBLIC_WINDOWS},
            "days": bars.get(pid) or empty_days(BAR_DAYS, now),
        }

    groups = [
        {
            "name": g["name"],
            "monitors": [monitor(i) for i in group_items(g) if i.plugin_id in states],
        }
        for g in page.groups
    ]
    return {
        "slug": page.slug,
        "title": page.title,
        "description": page.description,
        "footer": page.footer,
        "logo": page.logo_url,
        "status": page_state([states[i.plugin_id].name for i in chosen]),
        "generated_at": now,
        "groups": groups,
        "maintenance": await _maintenance(session, chosen, now),
        "announcements": _announcements(page, now),
    }


def summary(view: dict[str, Any]) -> dict[str, Any]:
    """The flat numbers a dashboard widget maps, from a page's public view."""
    monitors = [m for g in view["groups"] for m in g["monitors"]]
    counts = {s: sum(1 for m in monitors if m["status"] == s) for s in _RANK}

    def overall(window: str) -> float | None:
        total = Durations()
        for m in monitors:
            total.merge(Durations(**_seconds(m["uptime"][window])))
        return total.percent

    return {
        "title": view["title"],
        "status": view["status"],
        "total": len(monitors),
        "up": counts["healthy"],
        **{s: counts[s] for s in ("degraded", "down", "maintenance", "unknown")},
        **{f"uptime_{w}": overall(w) for w in PUBLIC_WINDOWS},
        "monitors": [
            {"name": m["name"], "status": m["status"], "uptime_30d": m["uptime"]["30d"]["percent"]}
            for m in monitors
        ],
    }


def _seconds(figures: dict[str, Any]) -> dict[str, float]:
    return {k: v for k, v in figures.items() if k.endswith("_s")}
