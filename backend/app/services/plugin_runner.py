"""One plugin run: collect under a timeout, record the run and health, hand samples on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from app.core.config import Settings
from app.db.session import Database
from app.models import PluginHealth, PluginRun
from app.plugins.base import Plugin, PluginError, validate_samples
from app.services.metrics_store import MetricsWriter
from app.services.ws_hub import Hub

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    id: int | None
    plugin_id: int
    status: str
    trigger: str
    started_at: datetime
    finished_at: datetime
    duration_ms: float
    error: str | None
    sample_count: int
    lateness_ms: float | None = None

    def event(self) -> dict[str, Any]:
        return {
            "type": "run",
            "plugin_id": self.plugin_id,
            "run": {
                "id": self.id,
                "status": self.status,
                "trigger": self.trigger,
                "started_at": self.started_at,
                "finished_at": self.finished_at,
                "duration_ms": self.duration_ms,
                "error": self.error,
                "sample_count": self.sample_count,
            },
        }


def next_health(
    health: PluginHealth, ok: bool, error: str | None, now: datetime, settings: Settings
) -> bool:
    """Apply one run's outcome; True when the status changed."""
    before = health.status
    health.last_run_at = now
    if ok:
        health.consecutive_failures = 0
        health.last_success_at = now
        health.status = "healthy"
    else:
        health.consecutive_failures = (health.consecutive_failures or 0) + 1
        health.last_error = error
        if health.consecutive_failures >= settings.health_down_after:
            health.status = "down"
        elif health.consecutive_failures >= settings.health_degraded_after:
            health.status = "degraded"
    if health.status != before:
        health.changed_at = now
        return True
    return False


def health_event(health: PluginHealth) -> dict[str, Any]:
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


async def execute(
    plugin_id: int,
    plugin: Plugin,
    timeout_s: float,
    *,
    db: Database,
    settings: Settings,
    writer: MetricsWriter,
    hub: Hub,
    trigger: str = "schedule",
    lateness_ms: float | None = None,
) -> RunResult:
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    run_id = await _open_run(db, plugin_id, started, trigger, lateness_ms)
    status, error, samples = "success", None, []
    try:
        raw = await asyncio.wait_for(plugin.collect_data(), timeout_s)
        samples = validate_samples(raw, settings.plugin_max_samples)
    except TimeoutError:
        status, error = "timeout", f"The run did not finish within its {timeout_s:g} s timeout."
    except PluginError as exc:
        status, error = "error", str(exc) or type(exc).__name__
        try:
            samples = validate_samples(exc.samples, settings.plugin_max_samples)
        except ValueError:
            samples = []
    except ValueError as exc:
        status, error = "error", f"Invalid plugin output: {exc}"
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        status, error = "error", f"{type(exc).__name__}: {exc}"[:2000]
    finished = datetime.now(UTC)
    duration = (time.perf_counter() - t0) * 1000
    batch = writer.submit(plugin_id, started, samples)
    if trigger == "manual":
        # Whoever pressed "run now" expects to see the data when the answer comes.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(batch.written.wait(), 5)
    result = RunResult(
        run_id,
        plugin_id,
        status,
        trigger,
        started,
        finished,
        duration,
        error,
        len(samples),
        lateness_ms,
    )
    health = await _close_run(db, settings, result)
    level = logging.INFO if status == "success" else logging.WARNING
    log.log(
        level,
        "plugin run %s",
        status,
        extra={
            "plugin_id": plugin_id,
            "run_id": run_id,
            "duration_ms": round(duration, 1),
            "samples": len(samples),
            **({"error": error} if error else {}),
        },
    )
    await hub.publish(result.event())
    if health is not None:
        await hub.publish(health_event(health))
    return result


async def _open_run(
    db: Database, plugin_id: int, started: datetime, trigger: str, lateness_ms: float | None
) -> int | None:
    """Record the run as `running` so a crash leaves a trace; None when the database is down."""
    try:
        async with db.session() as session:
            run = PluginRun(
                plugin_id=plugin_id,
                status="running",
                trigger=trigger,
                started_at=started,
                sample_count=0,
                lateness_ms=lateness_ms,
            )
            session.add(run)
            await session.commit()
            return run.id
    except Exception as exc:
        log.warning("could not record run start: %s", exc, extra={"plugin_id": plugin_id})
        return None


async def _close_run(db: Database, settings: Settings, r: RunResult) -> PluginHealth | None:
    """Store the outcome and health; returns the health when its status changed."""
    try:
        async with db.session() as session:
            values = dict(
                status=r.status,
                finished_at=r.finished_at,
                duration_ms=r.duration_ms,
                error=r.error,
                sample_count=r.sample_count,
            )
            if r.id is not None:
                await session.execute(
                    update(PluginRun).where(PluginRun.id == r.id).values(**values)
                )
            else:
                run = PluginRun(
                    plugin_id=r.plugin_id,
                    trigger=r.trigger,
                    started_at=r.started_at,
                    lateness_ms=r.lateness_ms,
                    **values,
                )
                session.add(run)
            health = await session.get(PluginHealth, r.plugin_id)
            if health is None:
                health = PluginHealth(
                    plugin_id=r.plugin_id, status="unknown", consecutive_failures=0
                )
                session.add(health)
            changed = next_health(health, r.status == "success", r.error, r.finished_at, settings)
            await session.commit()
            if r.id is None and run.id is not None:
                r.id = run.id
            return health if changed else None
    except Exception as exc:
        log.warning("could not record run result: %s", exc, extra={"plugin_id": r.plugin_id})
        return None
