"""Observations: what a rule sees, from one live event or from the latest values stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AlertRule, PluginHealth, PluginInstance, Series
from app.models.enums import HealthStatus
from app.services.alerts.rules import condition, labels_match


@dataclass
class Observation:
    key: str
    plugin_id: int | None
    series_id: int | None
    labels: dict[str, str]
    active: bool
    value: float | None
    reason: str = "the condition cleared"


async def current(
    session: AsyncSession, rule: AlertRule, now: datetime, eval_seconds: float
) -> tuple[list[Observation], set[str]]:
    """Observations from the database, and the keys that exist but have no fresh value."""
    observations: list[Observation] = []
    known: set[str] = set()
    if rule.kind == "health":
        hq = select(PluginHealth, PluginInstance.enabled).join(
            PluginInstance, PluginInstance.id == PluginHealth.plugin_id
        )
        if rule.plugin_id is not None:
            hq = hq.where(PluginHealth.plugin_id == rule.plugin_id)
        for health, enabled in (await session.execute(hq)).all():
            active = enabled and health.status == HealthStatus.DOWN
            reason = "the plugin is healthy again" if enabled else "the plugin was disabled"
            observations.append(
                Observation(
                    f"plugin:{health.plugin_id}",
                    health.plugin_id,
                    None,
                    {},
                    active,
                    float(health.consecutive_failures or 0),
                    reason,
                )
            )
        return observations, known
    q = (
        select(Series, PluginInstance.interval_seconds)
        .join(PluginInstance, PluginInstance.id == Series.plugin_id)
        .where(Series.name == rule.metric, PluginInstance.enabled.is_(True))
    )
    if rule.plugin_id is not None:
        q = q.where(Series.plugin_id == rule.plugin_id)
    for series, interval in (await session.execute(q)).all():
        if not labels_match(rule.labels, series.labels):
            continue
        key = f"series:{series.id}"
        fresh_for = timedelta(seconds=2 * interval + eval_seconds)
        if series.last_ts is None or series.last_value is None or now - series.last_ts > fresh_for:
            known.add(key)
            continue
        observations.append(
            Observation(
                key,
                series.plugin_id,
                series.id,
                dict(series.labels or {}),
                condition(rule.op, series.last_value, rule.threshold),
                series.last_value,
            )
        )
    return observations, known


def from_event(rule: AlertRule, event: dict[str, Any]) -> list[Observation]:
    plugin_id = event.get("plugin_id")
    if rule.kind == "health" and event.get("type") == "health":
        health = event.get("health") or {}
        return [
            Observation(
                f"plugin:{plugin_id}",
                plugin_id,
                None,
                {},
                health.get("status") == HealthStatus.DOWN,
                float(health.get("consecutive_failures") or 0),
                "the plugin is healthy again",
            )
        ]
    if rule.kind != "metric" or event.get("type") != "metrics":
        return []
    out = []
    for s in event.get("samples") or []:
        if s.get("name") != rule.metric or not labels_match(rule.labels, s.get("labels")):
            continue
        value = s.get("value")
        value = float(value) if isinstance(value, int | float) else None
        out.append(
            Observation(
                f"series:{s.get('series_id')}",
                plugin_id,
                s.get("series_id"),
                dict(s.get("labels") or {}),
                condition(rule.op, value, rule.threshold),
                value,
            )
        )
    return out
