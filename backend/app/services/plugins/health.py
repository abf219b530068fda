"""A plugin's health: the status its runs give it, and the event that tells the UI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core.config import Settings
from app.models.enums import HealthStatus


@dataclass
class Health:
    plugin_id: int
    status: str = HealthStatus.UNKNOWN
    consecutive_failures: int = 0
    last_run_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    changed_at: datetime | None = None

    def row(self) -> dict[str, Any]:
        return dict(self.__dict__)


def next_health(
    health: Health,
    ok: bool,
    error: str | None,
    now: datetime,
    settings: Settings,
    down_after: int | None = None,
) -> bool:
    """Apply one run's outcome; True when the status changed."""
    down_after = down_after or settings.health_down_after
    before = health.status
    health.last_run_at = now
    if ok:
        health.consecutive_failures = 0
        health.last_success_at = now
        health.status = HealthStatus.HEALTHY
    else:
        health.consecutive_failures += 1
        health.last_error = error
        if health.consecutive_failures >= down_after:
            health.status = HealthStatus.DOWN
        elif health.consecutive_failures >= settings.health_degraded_after:
            health.status = HealthStatus.DEGRADED
    if health.status != before:
        health.changed_at = now
        return True
    return False


def health_event(health: Health) -> dict[str, Any]:
    return {
        "type": "health",
        "plugin_id": health.plugin_id,
        "health": {
            "status": health.status,
            "consecutive_failures": health.consecutive_failures,
            "last_run_at": health.last_run_at,
            "last_success_at": health.last_success_at,
            "last_error": health.last_error,
        },
    }
