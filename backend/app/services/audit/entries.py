"""Reading the audit log (filters, pages), the incident timeline, and pruning old rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.db.queries import get_or_not_found, paginate
from app.db.session import Database
from app.models import AlertIncident, AuditEntry, Event
from app.services.audit import events

# How far either side of an incident's start its timeline reaches.
TIMELINE_WINDOW = timedelta(minutes=15)
TIMELINE_MAX_ROWS = 500


async def list_entries(
    session: AsyncSession,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    actor: str | None = None,
    via: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int,
    offset: int,
) -> tuple[list[AuditEntry], int]:
    where: list[Any] = []
    if object_type:
        where.append(AuditEntry.object_type == object_type)
    if object_id:
        where.append(AuditEntry.object_id == object_id)
    if actor:
        where.append(or_(AuditEntry.actor == actor, AuditEntry.token_name == actor))
    if via:
        where.append(AuditEntry.via == via)
    if start is not None:
        where.append(AuditEntry.at >= start)
    if end is not None:
        where.append(AuditEntry.at <= end)
    return await paginate(
        session,
        AuditEntry,
        *where,
        order_by=(AuditEntry.at.desc(), AuditEntry.id.desc()),
        limit=limit,
        offset=offset,
    )


@dataclass
class Timeline:
    incident: AlertIncident
    start: datetime
    end: datetime
    events: list[Event]
    audit: list[AuditEntry]


async def incident_timeline(session: AsyncSession, incident_id: int) -> Timeline:
    """The events and configuration changes within ±15 minutes of an incident's start."""
    incident = await get_or_not_found(
        session,
        AlertIncident,
        incident_id,
        f"No incident with id {incident_id}; list them with GET /api/v1/alerts/incidents.",
    )
    start = incident.started_at - TIMELINE_WINDOW
    end = incident.started_at + TIMELINE_WINDOW
    found = await session.scalars(
        select(Event)
        .where(*events.filters(start=start, end=end))
        .order_by(Event.at, Event.id)
        .limit(TIMELINE_MAX_ROWS)
    )
    audit = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.at >= start, AuditEntry.at <= end)
        .order_by(AuditEntry.at, AuditEntry.id)
        .limit(TIMELINE_MAX_ROWS)
    )
    return Timeline(incident, start, end, list(found), list(audit))


class AuditMaintenance:
    """Drops audit rows and events older than the history retention (ALERT_HISTORY_DAYS)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def run(self, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        days = self.settings.alert_history_days
        async with self.db.session() as session:
            await session.execute(
                delete(AuditEntry).where(AuditEntry.at < now - timedelta(days=days))
            )
            await events.prune(session, now, days)
            await session.commit()
