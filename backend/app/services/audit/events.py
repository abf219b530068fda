"""Events plugins saw: storing what a run emitted, and reading them back with filters."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.queries import paginate
from app.db.session import Database
from app.models import Event, PluginInstance
from app.plugins.base import PluginEvent

log = logging.getLogger(__name__)


async def save(db: Database, plugin_id: int, events: Sequence[PluginEvent]) -> None:
    """Store what one run of `plugin_id` emitted (a no-op without events)."""
    if not events:
        return
    now = datetime.now(UTC)
    async with db.session() as session:
        name = await session.scalar(
            select(PluginInstance.name).where(PluginInstance.id == plugin_id)
        )
        if name is None:
            return  # deleted while it ran
        await session.execute(
            insert(Event),
            [
                {
                    "at": e.at or now,
                    "plugin_id": plugin_id,
                    "plugin_name": name,
                    "kind": e.kind[:32],
                    "summary": e.summary[:2000],
                    "labels": dict(e.labels),
                    "details": dict(e.details),
                    "audit_id": None,
                }
                for e in events
            ],
        )
        await session.commit()
    for e in events:
        log.info("event %s: %s", e.kind, e.summary, extra={"plugin_id": plugin_id})


def filters(
    *,
    plugin_id: int | None = None,
    kind: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Any]:
    where: list[Any] = []
    if plugin_id is not None:
        where.append(Event.plugin_id == plugin_id)
    if kind:
        where.append(Event.kind == kind)
    if start is not None:
        where.append(Event.at >= start)
    if end is not None:
        where.append(Event.at <= end)
    return where


async def list_events(
    session: AsyncSession, *, limit: int, offset: int, **criteria: Any
) -> tuple[list[Event], int]:
    return await paginate(
        session,
        Event,
        *filters(**criteria),
        order_by=(Event.at.desc(), Event.id.desc()),
        limit=limit,
        offset=offset,
    )


async def prune(session: AsyncSession, now: datetime, days: int) -> None:
    await session.execute(delete(Event).where(Event.at < now - timedelta(days=days)))
