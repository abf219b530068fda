"""What the engine queues for an incident's channels: firing, repeat and resolved notices."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AlertIncident, NotificationChannel
from app.models.enums import IncidentEventKind, IncidentStatus
from app.services.alerts import dependencies
from app.services.alerts.incidents import add_event
from app.services.alerts.messages import message
from app.services.alerts.silences import muted
from app.services.notify.notifier import enqueue


async def queue(session: AsyncSession, incident: AlertIncident, kind: str, now: datetime) -> bool:
    """Queue one notice to each enabled channel of the incident's rule; whether any was queued."""
    wanted = [int(i) for i in (incident.rule or {}).get("channel_ids", [])]
    if not wanted:
        return False
    q = select(NotificationChannel.id).where(
        NotificationChannel.id.in_(wanted), NotificationChannel.enabled.is_(True)
    )
    if kind == "resolved":
        q = q.where(NotificationChannel.send_resolved.is_(True))
    channel_ids = list(await session.scalars(q))
    if not channel_ids:
        return False
    behind = []  # a plugin's health incident names the plugins behind it (its blast radius)
    if incident.kind == "health" and incident.plugin_id is not None:
        behind = await dependencies.dependents(session, incident.plugin_id)
    title, body, notify_type = message(incident, kind, behind)
    incident.last_notified_at = now
    detail = f"{kind} notice to {len(channel_ids)} channel(s)"
    add_event(session, incident.id, IncidentEventKind.NOTIFIED, detail, now)
    enqueue(
        session,
        channel_ids,
        incident_id=incident.id,
        kind=kind,
        title=title,
        body=body,
        notify_type=notify_type,
        now=now,
    )
    return True


async def queue_repeats(session: AsyncSession, now: datetime) -> bool:
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
        queued = await queue(session, incident, "repeat", now) or queued
    return queued
