"""Alerts and the dependency graph: is a parent down (suppress), and who is behind a parent.

A child that goes down while one of its parents (or their parents) is down gets an incident that
is recorded as suppressed and sends nothing; the parent's incident names its dependents instead.
When the parent is back, a child still down is announced after its rule's own `for` window.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AlertIncident, PluginHealth, PluginInstance
from app.models.enums import HealthStatus, IncidentEventKind, IncidentStatus
from app.services.alerts.incidents import add_event
from app.services.plugins.dependencies import ancestors, descendants, graph


async def down_parent(session: AsyncSession, plugin_id: int) -> PluginInstance | None:
    """The nearest enabled parent (or parent's parent, ...) that is down now, if any."""
    chain = ancestors(await graph(session), plugin_id)
    if not chain:
        return None
    # A disabled parent keeps its last health, but says nothing about now.
    down = set(
        await session.scalars(
            select(PluginHealth.plugin_id)
            .join(PluginInstance, PluginInstance.id == PluginHealth.plugin_id)
            .where(
                PluginHealth.plugin_id.in_(chain),
                PluginHealth.status == HealthStatus.DOWN,
                PluginInstance.enabled.is_(True),
            )
        )
    )
    for parent_id in chain:
        if parent_id in down:
            return await session.get(PluginInstance, parent_id)
    return None


async def dependents(session: AsyncSession, plugin_id: int) -> list[str]:
    """Names of the enabled plugins behind `plugin_id`, directly or not (its blast radius)."""
    ids = descendants(await graph(session), plugin_id)
    if not ids:
        return []
    return list(
        await session.scalars(
            select(PluginInstance.name)
            .where(PluginInstance.id.in_(ids), PluginInstance.enabled.is_(True))
            .order_by(PluginInstance.name)
        )
    )


async def still_held(session: AsyncSession, incident: AlertIncident, now: datetime) -> bool:
    """Whether a suppressed incident must wait: a parent is still down, or it came back less than
    the rule's `for` window ago (the child may only have been waiting for it)."""
    if incident.suppressed_by_id is None or incident.plugin_id is None:
        return False
    if await down_parent(session, incident.plugin_id) is not None:
        return True
    health = await session.get(PluginHealth, incident.suppressed_by_id)
    back_since = health.changed_at if health is not None else None
    wait = timedelta(seconds=int((incident.rule or {}).get("for_seconds") or 0))
    return back_since is not None and now - back_since < wait


async def parent_incidents(session: AsyncSession, parent_id: int) -> list[AlertIncident]:
    """The parent's firing health incidents, which a suppressed child is listed on."""
    return list(
        await session.scalars(
            select(AlertIncident).where(
                AlertIncident.plugin_id == parent_id,
                AlertIncident.kind == "health",
                AlertIncident.status == IncidentStatus.FIRING,
            )
        )
    )


async def affected_incidents(session: AsyncSession, parent: AlertIncident) -> list[AlertIncident]:
    """Incidents suppressed because of this incident's plugin while it was firing."""
    if parent.plugin_id is None or parent.kind != "health":
        return []
    q = select(AlertIncident).where(
        AlertIncident.suppressed_by_id == parent.plugin_id,
        AlertIncident.fired_at >= parent.started_at,
    )
    if parent.resolved_at is not None:
        q = q.where(AlertIncident.fired_at <= parent.resolved_at)
    return list(await session.scalars(q.order_by(AlertIncident.id)))


async def record_opened(
    session: AsyncSession, incident: AlertIncident, parent: PluginInstance | None, now: datetime
) -> None:
    """Timeline lines of a new incident; a suppressed one is also listed on its parent's."""
    add_event(session, incident.id, IncidentEventKind.OPENED, incident.summary, now)
    if parent is None:
        return
    add_event(session, incident.id, IncidentEventKind.SUPPRESSED, f"{parent.name} is down", now)
    for parents in await parent_incidents(session, parent.id):
        what = f"{incident.plugin_name or 'a dependent'}: {incident.summary} (suppressed)"
        add_event(session, parents.id, IncidentEventKind.AFFECTED, what, now)
