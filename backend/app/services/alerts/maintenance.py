"""Maintenance windows: planned work that mutes notifications and is left out of uptime.

A window is one-off (starts_at .. ends_at) or recurring (weekly days at a local time, or a
crontab expression) in an IANA time zone, each occurrence lasting duration_seconds. Local
times follow the zone's daylight-saving rules: a start time that does not exist that day (the
spring-forward gap) begins when the clock would have shown it (one hour later on the wall), an
ambiguous one (the autumn repeat) begins at its first occurrence. Every occurrence is clipped
to starts_at .. ends_at, so ending a window early also ends the occurrence in progress.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import InvalidInput
from app.db.queries import get_or_not_found
from app.models import MaintenanceWindow, PluginInstance
from app.models.enums import MaintenanceKind

log = logging.getLogger(__name__)

Interval = tuple[datetime, datetime]
MAX_OCCURRENCES = 20_000  # per expansion: a once-a-minute cron over two weeks
_DOW = {str(i): name for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_DOW["7"] = "sun"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"Unknown time zone {name!r}; use an IANA name such as Europe/Berlin or UTC.",
            {"timezone": "must be an IANA time zone name, e.g. Europe/Berlin"},
        ) from None


def cron_trigger(expr: str, tz: ZoneInfo) -> Any:
    """APScheduler's cron trigger for a standard crontab line (where 0 and 7 are Sunday)."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != 5:
        raise InvalidInput(
            f"cron {expr!r} needs 5 fields (minute hour day month weekday), e.g. '0 3 * * 0'.",
            {"cron": "needs 5 fields: minute hour day-of-month month day-of-week"},
        )
    # APScheduler counts weekdays from Monday = 0; crontab from Sunday = 0.
    fields[4] = re.sub(r"\d+", lambda m: _DOW.get(m.group(0), m.group(0)), fields[4])
    try:
        return CronTrigger(
            minute=fields[0],
            hour=fields[1],
            day=fields[2],
            month=fields[3],
            day_of_week=fields[4],
            timezone=tz,
        )
    except ValueError as exc:
        raise InvalidInput(f"cron {expr!r} is not valid: {exc}.", {"cron": str(exc)}) from None


def _local_start(day: date, at: time, tz: ZoneInfo) -> datetime:
    # fold=0: the first of an ambiguous pair; a time in the gap maps one hour on.
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _starts(window: MaintenanceWindow, lo: datetime, hi: datetime) -> list[datetime]:
    """Occurrence starts in [lo, hi) of a recurring window."""
    tz = zone(window.timezone)
    if window.kind == MaintenanceKind.WEEKLY:
        hh, mm = (int(x) for x in (window.start_time or "00:00").split(":"))
        days = {int(d) for d in window.weekdays}
        first = lo.astimezone(tz).date() - timedelta(days=1)
        last = hi.astimezone(tz).date() + timedelta(days=1)
        out = []
        day = first
        while day <= last:
            if day.weekday() in days:
                start = _local_start(day, time(hh, mm), tz)
                if lo <= start < hi:
                    out.append(start)
            day += timedelta(days=1)
        return out
    trigger = cron_trigger(window.cron or "", tz)
    out = []
    fire = trigger.get_next_fire_time(None, lo)
    while fire is not None and fire < hi and len(out) < MAX_OCCURRENCES:
        out.append(fire.astimezone(UTC))
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return out


def occurrences(window: MaintenanceWindow, lo: datetime, hi: datetime) -> list[Interval]:
    """The window's occurrences that overlap [lo, hi), in UTC, clipped to its validity."""
    if window.starts_at >= hi or (window.ends_at is not None and window.ends_at <= lo):
        return []  # every occurrence would be clipped away: don't expand any
    if window.kind == MaintenanceKind.ONCE:
        spans = [(window.starts_at, window.ends_at or window.starts_at)]
    else:
        length = timedelta(seconds=window.duration_seconds or 0)
        spans = [(s, s + length) for s in _starts(window, lo - length, hi)]
    out = []
    for s, e in spans:
        s = max(s, window.starts_at)
        if window.ends_at is not None:
            e = min(e, window.ends_at)
        if s < e and s < hi and e > lo:
            out.append((s, e))
    return out


def covers(window: MaintenanceWindow, plugin_id: int | None) -> bool:
    return window.all_plugins or (plugin_id is not None and plugin_id in window.plugin_ids)


async def windows_between(
    session: AsyncSession, lo: datetime, hi: datetime
) -> list[MaintenanceWindow]:
    q = select(MaintenanceWindow).where(
        MaintenanceWindow.starts_at < hi,
        or_(MaintenanceWindow.ends_at.is_(None), MaintenanceWindow.ends_at > lo),
    )
    return list(await session.scalars(q.order_by(MaintenanceWindow.id)))


def by_plugin(
    windows: list[MaintenanceWindow], plugin_ids: list[int], lo: datetime, hi: datetime
) -> dict[int, list[Interval]]:
    """Each plugin's maintenance intervals within [lo, hi)."""
    out: dict[int, list[Interval]] = {}
    for window in windows:
        spans = occurrences(window, lo, hi)
        if not spans:
            continue
        for pid in plugin_ids if window.all_plugins else window.plugin_ids:
            out.setdefault(pid, []).extend(spans)
    return out


async def active_window(
    session: AsyncSession, now: datetime, plugin_id: int | None
) -> MaintenanceWindow | None:
    """A window in force now for this plugin (alerts about it are recorded, not sent)."""
    for window in await windows_between(session, now, now + timedelta(seconds=1)):
        if covers(window, plugin_id) and occurrences(window, now, now + timedelta(seconds=1)):
            return window
    return None


def is_active(window: MaintenanceWindow, now: datetime) -> bool:
    return bool(occurrences(window, now, now + timedelta(seconds=1)))


def next_start(window: MaintenanceWindow, now: datetime) -> datetime | None:
    """When the next occurrence begins (None: none left, or one is running now).

    Computed directly, not by expanding occurrences: an ended window has none, a cron window
    asks its trigger once, a weekly one looks at most 8 days past the first possible start.
    """
    if window.ends_at is not None and window.ends_at <= now:
        return None
    if window.kind == MaintenanceKind.ONCE:
        return window.starts_at if window.starts_at > now else None
    lo = max(now, window.starts_at)
    if window.kind == MaintenanceKind.WEEKLY:
        for s, _ in occurrences(window, lo, lo + timedelta(days=8)):
            if s > now:
                return s
        return None
    # Cron. Before the window opens, an occurrence already running at starts_at is clipped to
    # begin there; after, the next one is the first fire time after now.
    length = timedelta(seconds=window.duration_seconds or 0)
    after = window.starts_at - length if window.starts_at > now else now
    trigger = cron_trigger(window.cron or "", zone(window.timezone))
    fire = trigger.get_next_fire_time(None, after)
    if fire is not None and fire <= after:
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    if fire is None:
        return None
    start: datetime = max(fire.astimezone(UTC), window.starts_at)
    if window.ends_at is not None and start >= window.ends_at:
        return None
    return start


# ------------------------------------------------------------------------------- CRUD
def check_shape(window: MaintenanceWindow) -> None:
    """The window's own fields make sense for its kind; InvalidInput names the wrong field."""
    zone(window.timezone)
    if window.kind == MaintenanceKind.ONCE:
        if window.ends_at is None or window.ends_at <= window.starts_at:
            raise InvalidInput(
                "A one-off window needs ends_at after starts_at.",
                {"ends_at": "must be after starts_at"},
            )
    else:
        if not window.duration_seconds:
            raise InvalidInput(
                "A recurring window needs duration_seconds (how long each occurrence lasts).",
                {"duration_seconds": "required for weekly and cron windows"},
            )
        if window.ends_at is not None and window.ends_at <= window.starts_at:
            raise InvalidInput("ends_at must be after starts_at.", {"ends_at": "after starts_at"})
    if window.kind == MaintenanceKind.WEEKLY and (not window.weekdays or not window.start_time):
        raise InvalidInput(
            "A weekly window needs weekdays (0 = Monday) and start_time (HH:MM).",
            {"weekdays": "at least one day, 0 = Monday … 6 = Sunday"},
        )
    if window.kind == MaintenanceKind.CRON:
        if not window.cron:
            raise InvalidInput("A cron window needs cron, e.g. '0 3 * * 0'.", {"cron": "required"})
        cron_trigger(window.cron, zone(window.timezone))
    if not window.all_plugins and not window.plugin_ids:
        raise InvalidInput(
            "Choose the plugins (plugin_ids) or set all_plugins to true.",
            {"plugin_ids": "name at least one plugin, or set all_plugins"},
        )


async def _check(session: AsyncSession, window: MaintenanceWindow) -> None:
    check_shape(window)
    if window.plugin_ids:
        found = set(
            await session.scalars(
                select(PluginInstance.id).where(PluginInstance.id.in_(window.plugin_ids))
            )
        )
        missing = sorted(set(window.plugin_ids) - found)
        if missing:
            raise InvalidInput(
                f"No plugin with id {', '.join(map(str, missing))}; see GET /api/v1/plugins.",
                {"plugin_ids": f"unknown ids: {missing}"},
            )


async def list_windows(session: AsyncSession) -> list[MaintenanceWindow]:
    q = select(MaintenanceWindow).order_by(MaintenanceWindow.starts_at.desc())
    return list(await session.scalars(q))


async def get_window(session: AsyncSession, window_id: int) -> MaintenanceWindow:
    return await get_or_not_found(
        session,
        MaintenanceWindow,
        window_id,
        f"No maintenance window with id {window_id}; list them with GET /api/v1/maintenance.",
    )


async def create_window(
    session: AsyncSession, data: dict[str, Any], user: str, now: datetime
) -> MaintenanceWindow:
    data = {**data, "starts_at": data.get("starts_at") or now}
    window = MaintenanceWindow(**data, created_by=user)
    await _check(session, window)
    session.add(window)
    await session.commit()
    log.info("maintenance window created", extra={"maintenance_id": window.id})
    return window


async def update_window(
    session: AsyncSession, window: MaintenanceWindow, changes: dict[str, Any]
) -> MaintenanceWindow:
    for field, value in changes.items():
        setattr(window, field, value)
    await _check(session, window)
    await session.commit()
    log.info("maintenance window updated", extra={"maintenance_id": window.id})
    return window


async def end_window(
    session: AsyncSession, window: MaintenanceWindow, now: datetime
) -> MaintenanceWindow:
    """End it now: no occurrence after this moment, the running one stops here."""
    window.ends_at = max(now, window.starts_at)
    await session.commit()
    log.info("maintenance window ended", extra={"maintenance_id": window.id})
    return window


async def delete_window(session: AsyncSession, window: MaintenanceWindow) -> None:
    await session.delete(window)
    await session.commit()
    log.info("maintenance window deleted", extra={"maintenance_id": window.id})
