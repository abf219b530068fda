"""Alerts while Unity's own network is down: held, then one "Unity lost its network" notice.

The canary (services/alerts/canary.py) records each outage of Unity's own network as a row. While
one is open, new incidents are marked unknown and (CANARY_HOLD_NOTIFICATIONS) send nothing. Once
the network has been back for CANARY_SETTLE_SECONDS (time for the checks to run again), one
notice per channel says so, and the incidents still firing from the outage go out with it, in
the same message; those that recovered with the network are only counted in it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models import AlertIncident, AlertRule, CanaryOutage, NotificationChannel
from app.models.enums import DeliveryKind, IncidentEventKind, IncidentStatus, NotifyType
from app.services.alerts import dependencies
from app.services.alerts.incidents import add_event
from app.services.alerts.messages import duration_text
from app.services.alerts.silences import muted
from app.services.notify.notifier import enqueue

log = logging.getLogger(__name__)

UNKNOWN_NOTE = "unknown — Unity's own network is down"


async def open_outage(session: AsyncSession) -> CanaryOutage | None:
    return await session.scalar(
        select(CanaryOutage)
        .where(CanaryOutage.ended_at.is_(None))
        .order_by(CanaryOutage.id.desc())
        .limit(1)
    )


async def is_down(session: AsyncSession) -> bool:
    return await open_outage(session) is not None


async def holding(session: AsyncSession, incident: AlertIncident) -> bool:
    """Whether an outage not yet announced will release this incident's notice."""
    if not incident.network_down:
        return False
    row = await session.scalar(
        select(CanaryOutage.id)
        .where(CanaryOutage.announced.is_(False), CanaryOutage.started_at <= incident.fired_at)
        .limit(1)
    )
    return row is not None


async def outages_between(
    session: AsyncSession, lo: datetime, hi: datetime
) -> list[tuple[datetime, datetime]]:
    """Spans of [lo, hi) when the canary was down (an open outage lasts until hi)."""
    rows = await session.scalars(
        select(CanaryOutage).where(
            CanaryOutage.started_at < hi,
            (CanaryOutage.ended_at.is_(None)) | (CanaryOutage.ended_at > lo),
        )
    )
    return [(max(o.started_at, lo), min(o.ended_at or hi, hi)) for o in rows]


async def _alert_channels(session: AsyncSession) -> list[NotificationChannel]:
    """Enabled channels that an enabled rule sends to: who hears about alerts hears this."""
    rules = await session.scalars(select(AlertRule).where(AlertRule.enabled.is_(True)))
    ids = {c.id for r in rules for c in r.channels if c.enabled}
    if not ids:
        return []
    return list(
        await session.scalars(
            select(NotificationChannel)
            .where(NotificationChannel.id.in_(ids))
            .order_by(NotificationChannel.id)
        )
    )


async def announce_due(session: AsyncSession, now: datetime, settings: Settings) -> bool:
    """Queue the notice of each outage that ended at least CANARY_SETTLE_SECONDS ago, with the
    firing notices it held; whether anything was queued."""
    settle = timedelta(seconds=settings.canary_settle_seconds)
    ended = list(
        await session.scalars(
            select(CanaryOutage)
            .where(
                CanaryOutage.announced.is_(False),
                CanaryOutage.ended_at.is_not(None),
                CanaryOutage.ended_at <= now - settle,
            )
            .order_by(CanaryOutage.id)
        )
    )
    queued = False
    for outage in ended:
        queued = await _announce(session, outage, now, settings) or queued
    return queued


async def _announce(
    session: AsyncSession, outage: CanaryOutage, now: datetime, settings: Settings
) -> bool:
    from app.services.alerts import notices  # notices imports this module

    outage.announced = True
    end = outage.ended_at or now
    during = list(
        await session.scalars(
            select(AlertIncident)
            .where(
                AlertIncident.network_down.is_(True),
                AlertIncident.fired_at >= outage.started_at,
                AlertIncident.fired_at <= end,
            )
            .order_by(AlertIncident.id)
        )
    )
    still = [i for i in during if i.status == IncidentStatus.FIRING]
    recovered = sorted({str(i.plugin_name or i.rule_name) for i in during if i not in still})
    lasted = duration_text((end - outage.started_at).total_seconds())
    title = f"[NETWORK] Unity lost its network for {lasted}"
    lines = [
        f"Unity's own network was down from {outage.started_at:%Y-%m-%d %H:%M:%S} "
        f"to {end:%H:%M:%S} UTC ({lasted}).",
    ]
    if outage.detail:
        lines.append(f"Canary: {outage.detail}")
    lines.append(
        f"{len(during)} alert(s) fired meanwhile; their state was unknown, not down."
        if during
        else "No alert fired meanwhile."
    )
    if recovered:
        lines.append(f"Recovered with the network ({len(recovered)}): {', '.join(recovered)}")
    if still and settings.canary_hold_notifications:
        lines.append(f"Still firing ({len(still)}): listed in this message.")
    queued = False
    channels = await _alert_channels(session)
    if channels:
        await enqueue(
            session,
            channels,
            incident_id=None,
            kind=DeliveryKind.NETWORK,
            title=title,
            body="\n".join(lines),
            notify_type=NotifyType.WARNING,
            severity="warning",
            now=now,
            group_seconds=settings.notify_group_seconds,
        )
        queued = True
    if settings.canary_hold_notifications:  # else they were sent as they fired
        for incident in still:
            if incident.notified or await _held_otherwise(session, incident, now):
                continue
            incident.notified = True
            queued = (
                await notices.queue(session, incident, "firing", now, settings.notify_group_seconds)
                or queued
            )
    for incident in during:
        add_event(session, incident.id, IncidentEventKind.NETWORK, f"network back: {title}", now)
    log.warning(
        "connectivity canary: outage announced",
        extra={"outage_id": outage.id, "alerts": len(during), "still_firing": len(still)},
    )
    return queued


async def _held_otherwise(session: AsyncSession, incident: AlertIncident, now: datetime) -> bool:
    """A silence, maintenance or a down parent still holds it (the engine sends it later)."""
    if await dependencies.still_held(session, incident, now):
        return True
    return await muted(session, now, incident.plugin_id, incident.rule_id) is not None
