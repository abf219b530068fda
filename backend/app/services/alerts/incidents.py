"""Incident history: listing, reading and the deliveries of one incident."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.db.queries import get_or_not_found, paginate
from app.models import AlertIncident, IncidentEvent, NotificationDelivery
from app.models.enums import IncidentEventKind, IncidentStatus


async def list_incidents(
    session: AsyncSession,
    *,
    status: str | None = None,
    rule_id: int | None = None,
    plugin_id: int | None = None,
    severity: str | None = None,
    silenced: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AlertIncident], int]:
    where: list[Any] = []
    if status:
        where.append(AlertIncident.status == status)
    if rule_id is not None:
        where.append(AlertIncident.rule_id == rule_id)
    if plugin_id is not None:
        where.append(AlertIncident.plugin_id == plugin_id)
    if severity:
        where.append(AlertIncident.severity == severity)
    if silenced is not None:
        where.append(AlertIncident.silenced.is_(silenced))
    if since is not None:
        where.append(AlertIncident.fired_at >= since)
    if until is not None:
        where.append(AlertIncident.fired_at < until)
    order = (AlertIncident.fired_at.desc(), AlertIncident.id.desc())
    return await paginate(
        session, AlertIncident, *where, order_by=order, limit=limit, offset=offset
    )


async def get_incident(session: AsyncSession, incident_id: int) -> AlertIncident:
    return await get_or_not_found(
        session, AlertIncident, incident_id, f"No incident with id {incident_id}."
    )


async def incident_deliveries(
    session: AsyncSession, incident_id: int
) -> list[NotificationDelivery]:
    return list(
        await session.scalars(
            select(NotificationDelivery)
            .where(NotificationDelivery.incident_id == incident_id)
            .order_by(NotificationDelivery.id)
        )
    )


async def firing_incidents(session: AsyncSession) -> list[AlertIncident]:
    """Every firing incident (for the Prometheus export)."""
    return list(
        await session.scalars(
            select(AlertIncident).where(AlertIncident.status == "firing").order_by(AlertIncident.id)
        )
    )


def add_event(
    session: AsyncSession, incident_id: int, kind: IncidentEventKind, detail: str, at: datetime
) -> None:
    """One line on an incident's timeline (in the caller's transaction)."""
    session.add(IncidentEvent(incident_id=incident_id, kind=kind, detail=detail[:2000], at=at))


async def timeline(session: AsyncSession, incident_id: int) -> list[IncidentEvent]:
    return list(
        await session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.at, IncidentEvent.id)
        )
    )


async def acknowledge(
    session: AsyncSession, incident: AlertIncident, by: str, comment: str, now: datetime
) -> AlertIncident:
    """Someone is on it: record who, when and why, and stop repeating its notice."""
    if incident.status != IncidentStatus.FIRING:
        raise Conflict(
            f"Incident {incident.id} is resolved; only a firing incident can be acknowledged."
        )
    if incident.acknowledged_at is not None:
        raise Conflict(
            f"Incident {incident.id} was already acknowledged by {incident.acknowledged_by} "
            f"at {incident.acknowledged_at:%Y-%m-%d %H:%M:%S} UTC."
        )
    incident.acknowledged_at, incident.acknowledged_by = now, by
    incident.ack_comment = comment or None
    detail = f"by {by}" + (f": {comment}" if comment else "")
    add_event(session, incident.id, IncidentEventKind.ACKNOWLEDGED, detail, now)
    await session.commit()
    return incident
