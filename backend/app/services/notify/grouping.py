"""When a channel's notices go out, and how several of them read as one message.

A channel's group window works like Alertmanager's `group_wait`: the first notice opens a window
of `group_seconds`, every notice queued for the channel before it closes joins it, and the
notifier sends all that is due for a channel at once as one message ("5 checks down: ...").

Quiet hours hold notices until they end (critical ones pass, unless the channel says otherwise);
then everything held goes out as one digest, in which an alert that fired and resolved overnight
is one line. This is what PagerDuty's support hours and Alertmanager's `mute_time_intervals` users
expect: nothing is lost, and the morning brings one message, not forty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import NotificationChannel, NotificationDelivery
from app.models.enums import DeliveryKind, DeliveryStatus, NotifyType, Severity

# A grouped message lists at most this many notices by name, and counts the rest.
LISTED = 50
HELD_GROUP = "group"
HELD_QUIET = "quiet"
_WORST = [NotifyType.FAILURE, NotifyType.WARNING, NotifyType.INFO, NotifyType.SUCCESS]


def parse_hhmm(value: str) -> time:
    """ "23:00" -> time(23, 0); ValueError with a sentence otherwise."""
    try:
        hh, mm = value.split(":")
        if len(hh) != 2 or len(mm) != 2:
            raise ValueError
        return time(int(hh), int(mm))
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day as HH:MM (e.g. 23:00)") from None


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a time zone name; use an IANA name such as Europe/Berlin or UTC"
        ) from None


def quiet_until(channel: NotificationChannel, now: datetime) -> datetime | None:
    """When the channel's quiet hours that `now` falls in end (UTC); None when not quiet now."""
    if not channel.quiet_start or not channel.quiet_end:
        return None
    start, end = parse_hhmm(channel.quiet_start), parse_hhmm(channel.quiet_end)
    if start == end:
        return None
    tz = zone(channel.quiet_timezone or "UTC")
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    day = local.date()
    if start < end:  # e.g. 12:00-14:00, within one day
        if not start <= t < end:
            return None
    elif t >= start:  # e.g. 23:00-07:00, before midnight: it ends tomorrow
        day += timedelta(days=1)
    elif t >= end:  # after 07:00 and before 23:00: not quiet
        return None
    return datetime.combine(day, end, tzinfo=tz).astimezone(UTC)


async def schedule(
    session: AsyncSession,
    channel: NotificationChannel,
    severity: str | None,
    now: datetime,
    default_window: int,
) -> tuple[datetime, str | None]:
    """(when a new notice to this channel is due, why it waits): quiet hours, then the group."""
    if severity != Severity.CRITICAL or not channel.quiet_except_critical:
        until = quiet_until(channel, now)
        if until is not None:
            return until, HELD_QUIET
    window = channel.group_seconds if channel.group_seconds is not None else default_window
    if window <= 0:
        return now, None
    open_group = await session.scalar(
        select(func.min(NotificationDelivery.next_attempt_at)).where(
            NotificationDelivery.channel_id == channel.id,
            NotificationDelivery.status == DeliveryStatus.PENDING,
            NotificationDelivery.attempts == 0,
            NotificationDelivery.held == HELD_GROUP,
            NotificationDelivery.next_attempt_at > now,
        )
    )
    return (open_group or now + timedelta(seconds=window)), HELD_GROUP


@dataclass
class Notice:
    """One queued delivery as the composer sees it."""

    incident_id: int | None
    kind: str
    title: str
    body: str
    notify_type: str
    health: bool = False  # about a check being down (a health rule), not a metric
    name: str | None = None  # the plugin it is about


def _headline(title: str) -> str:
    """The title without its "[FIRING] " tag."""
    return title.split("] ", 1)[1] if title.startswith("[") and "] " in title else title


def _noun(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def compose(notices: list[Notice]) -> tuple[str, str, str]:
    """(title, body, notify type) of one message for everything due to one channel at once."""
    if len(notices) == 1:
        n = notices[0]
        return n.title, n.body, n.notify_type
    lead = [n for n in notices if n.kind == DeliveryKind.NETWORK]
    # The latest notice per incident, and whether it both fired and resolved in this batch.
    latest: dict[object, Notice] = {}
    fired: set[object] = set()
    for i, n in enumerate(x for x in notices if x.kind != DeliveryKind.NETWORK):
        key: object = n.incident_id if n.incident_id is not None else ("row", i)
        if n.kind != DeliveryKind.RESOLVED:
            fired.add(key)
        latest[key] = n
    firing = [n for n in latest.values() if n.kind != DeliveryKind.RESOLVED]
    resolved = [n for k, n in latest.items() if n.kind == DeliveryKind.RESOLVED and k not in fired]
    flapped = [n for k, n in latest.items() if n.kind == DeliveryKind.RESOLVED and k in fired]
    parts = []
    if firing:
        if all(n.health for n in firing):
            names = sorted({n.name for n in firing if n.name})
            shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
            parts.append(_noun(len(firing), "check down", "checks down") + f": {shown}")
        else:
            parts.append(_noun(len(firing), "alert firing", "alerts firing"))
    if resolved:
        parts.append(f"{len(resolved)} resolved")
    if flapped:
        parts.append(f"{len(flapped)} fired and resolved")
    tag = "FIRING" if firing else "RESOLVED"
    title = f"[{tag}] " + "; ".join(parts) if parts else ""
    if lead:
        title = "; ".join([lead[0].title, *parts])
    lines: list[str] = [n.body for n in lead]
    for heading, group in (
        ("Firing", firing),
        ("Resolved", resolved),
        ("Fired and resolved meanwhile", flapped),
    ):
        if not group:
            continue
        if lines:
            lines.append("")
        lines.append(f"{heading} ({len(group)}):")
        for n in group[:LISTED]:
            detail = " · ".join(x for x in n.body.split("\n") if x)
            lines.append(f"• {_headline(n.title)}: {detail}")
        if len(group) > LISTED:
            lines.append(f"… and {len(group) - LISTED} more")
    types = {n.notify_type for n in notices}
    kind = next((t for t in _WORST if t in types), NotifyType.INFO)
    return title, "\n".join(lines), kind
