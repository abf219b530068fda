"""Silences: windows in which matching incidents are recorded but not notified."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import InvalidInput
from app.db.queries import get_or_not_found
from app.models import AlertSilence, MaintenanceWindow
from app.services.alerts import maintenance
from app.services.alerts.rules import check_plugin, get_rule

log = logging.getLogger(__name__)


async def active_silence(
    session: AsyncSession, now: datetime, plugin_id: int | None, rule_id: int | None
) -> AlertSilence | None:
    q = select(AlertSilence).where(AlertSilence.starts_at <= now, AlertSilence.ends_at > now)
    q = q.where((AlertSilence.plugin_id.is_(None)) | (AlertSilence.plugin_id == plugin_id))
    q = q.where((AlertSilence.rule_id.is_(None)) | (AlertSilence.rule_id == rule_id))
    return await session.scalar(q.order_by(AlertSilence.id).limit(1))


async def muted(
    session: AsyncSession,
    now: datetime,
    plugin_id: int | None,
    rule_id: int | None,
    windows: list[MaintenanceWindow] | None = None,
) -> AlertSilence | MaintenanceWindow | None:
    """What mutes an alert now: a silence, else a maintenance window in force (None: nothing).

    Pass windows (maintenance.windows_between(now, now + 1 s)) when checking many alerts in
    one tick, so they are loaded once rather than per alert.
    """
    silence = await active_silence(session, now, plugin_id, rule_id)
    if silence is not None:
        return silence
    if windows is None:
        return await maintenance.active_window(session, now, plugin_id)
    for window in windows:
        if maintenance.covers(window, plugin_id) and maintenance.is_active(window, now):
            return window
    return None


async def in_force_windows(session: AsyncSession, now: datetime) -> list[MaintenanceWindow]:
    """The maintenance windows that may be in force at now, for muted(windows=...)."""
    return await maintenance.windows_between(session, now, now + timedelta(seconds=1))


async def list_silences(session: AsyncSession, active_at: datetime | None) -> list[AlertSilence]:
    q = select(AlertSilence)
    if active_at is not None:
        q = q.where(AlertSilence.starts_at <= active_at, AlertSilence.ends_at > active_at)
    return list(
        await session.scalars(q.order_by(AlertSilence.starts_at.desc(), AlertSilence.id.desc()))
    )


async def get_silence(session: AsyncSession, silence_id: int) -> AlertSilence:
    return await get_or_not_found(
        session, AlertSilence, silence_id, f"No silence with id {silence_id}."
    )


def _check_window(silence: AlertSilence) -> None:
    if silence.ends_at <= silence.starts_at:
        raise InvalidInput("ends_at must be after starts_at.")


async def create_silence(session: AsyncSession, data: dict[str, Any], user: str) -> AlertSilence:
    await check_plugin(session, data.get("plugin_id"))
    if data.get("rule_id") is not None:
        await get_rule(session, data["rule_id"])
    silence = AlertSilence(**data, created_by=user)
    _check_window(silence)
    session.add(silence)
    await session.commit()
    log.info("silence created", extra={"silence_id": silence.id, "plugin_id": silence.plugin_id})
    return silence


async def update_silence(
    session: AsyncSession, silence: AlertSilence, changes: dict[str, Any]
) -> AlertSilence:
    if "plugin_id" in changes:
        await check_plugin(session, changes["plugin_id"])
    if changes.get("rule_id") is not None:
        await get_rule(session, changes["rule_id"])
    for field in ("plugin_id", "rule_id", "starts_at", "ends_at", "comment"):
        if field in changes and (changes[field] is not None or field in ("plugin_id", "rule_id")):
            setattr(silence, field, changes[field])
    _check_window(silence)
    await session.commit()
    log.info("silence updated", extra={"silence_id": silence.id})
    return silence


async def delete_silence(session: AsyncSession, silence: AlertSilence) -> None:
    await session.delete(silence)
    await session.commit()
    log.info("silence deleted", extra={"silence_id": silence.id})
