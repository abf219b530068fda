"""What the engine queues for an incident's channels: firing, repeat and resolved notices."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AlertIncident, NotificationChannel
from app.models.enums import IncidentEventKind, IncidentStatus
from app.services.alerts import dependencies, network
from app.services.alerts.incidents import add_event
from app.services.alerts.messages import message
from app.services.alerts.silences import muted
from app.services.notify.notifier import enqueue


async def queue(
    session: AsyncSession,
    incident: AlertIncident,
    kind: str,
    now: datetime,
    group_seconds: int = 0,
) -> bool:
    """Queue one notice to each enabled channel of the incident's rule; whether any was queued.

    `group_seconds` is the group window of channels that set none (NOTIFY_GROUP_SECONDS)."""
    wanted = [int(i) for i in (incident.rule or {}).get("channel_ids", [])]
    if not wanted:
        return False
    q = select(NotificationChannel).where(
        NotificationChannel.id.in_(wanted), NotificationChannel.enabled.is_(True)
    )
    if kind == "resolved":
        q = q.where(NotificationChannel.send_resolved.is_(True))
    channels = list(await session.scalars(q.order_by(NotificationChannel.id)))
    if not channels:
        return False
    behind = []  # a plugin's health incident names the plugins behind it (its blast radius)
    if incident.kind == "health" and incident.plugin_id is not None:
        behind = await dependencies.dependents(session, incident.plugin_id)
    title, body, notify_type = message(incident, kind, behind)
    incident.last_notified_at = now
    rows = await enqueue(
        session,
        channels,
        incident_id=incident.id,
        kind=kind,
        title=title,
        body=body,
        notify_type=notify_type,
        severity=incident.severity,
        now=now,
        group_seconds=group_seconds,
    )
    detail = f"{kind} notice to {len(channels)} channel(s)"
    held = sorted({f"{r.held} until {r.next_attempt_at:%H:%M:%S} UTC" for r in rows if r.held})
    if held:
        detail += f" (held: {', '.join(held)})"
    add_event(session, incident.id, IncidentEventKind.NOTIFIED, detail, now)
    return True


async def queue_repeats(session: AsyncSession, now: datetime, group_seconds: int = 0) -> bool:
    """Repeat the firing notice of incidents nobody acknowledged, per their rule's
    `repeat_seconds`; not while a silence or a down parent would hold a first notice."""
    firing = await session.scalars(
        select(AlertIncident).where(
            AlertIncident.status == IncidentStatus.FIRING,
            AlertIncident.notified.is_(True),
            AlertIncident.acknowledged_at.is_(None),
        )
    )
    queued = False
    for incident in firing:
        every = int((incident.rule or {}).get("repeat_seconds") or 0)
        last = incident.last_notified_at or incident.fired_at
        if every <= 0 or now - last < timedelta(seconds=every):
            continue
        if await muted(session, now, incident.plugin_id, incident.rule_id) is not None:
            continue
        if incident.plugin_id is not None and await dependencies.down_parent(
            session, incident.plugin_id
        ):
            continue
        if await network.is_down(session):
            break  # repeats wait for the network too
        queued = await queue(session, incident, "repeat", now, group_seconds) or queued
    return queued
