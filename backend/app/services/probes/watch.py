"""The hub's own runs of plugins that also run elsewhere, and the watch over silent probes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.core.config import Settings
from app.db.session import Database
from app.models import PluginInstance, Probe
from app.plugins.base import Sample
from app.plugins.registry import PluginRegistry
from app.services.live.hub import Hub
from app.services.probes.hub import (
    HUB,
    SILENT_AFTER,
    Outcome,
    is_remote,
    probe_silent,
    record,
    refresh_health,
)

if TYPE_CHECKING:
    from app.services.plugins.runner import RunResult

log = logging.getLogger(__name__)


class ProbeWatch:
    """The leader's timer: a probe gone silent turns its locations down (and back when heard)."""

    def __init__(self, db: Database, hub: Hub) -> None:
        self.db = db
        self.hub = hub
        self._silent: set[str] = set()

    async def tick(self) -> None:
        now = datetime.now(UTC)
        async with self.db.session() as session:
            probes = list(await session.scalars(select(Probe)))
            silent = {p.location for p in probes if probe_silent(p, now)}
            for loc in sorted(silent - self._silent):
                log.warning(
                    "probe silent for %d heartbeat intervals: it counts as down",
                    SILENT_AFTER,
                    extra={"location": loc},
                )
            self._silent = silent
            remote = [p.id for p in await session.scalars(select(PluginInstance)) if is_remote(p)]
            events = await refresh_health(session, remote, now)
            await session.commit()
        for event in events:
            await self.hub.publish(event)


async def record_hub_run(
    db: Database,
    settings: Settings,
    registry: PluginRegistry,
    hub: Hub,
    result: RunResult,
    samples: list[Sample],
) -> None:
    """The hub's own run of a multi-location plugin: its location "hub" row, then K of N.
    A failure here is logged: the run itself is recorded already."""
    outcome = Outcome(
        result.plugin_id,
        result.started_at,
        result.finished_at,
        result.status,
        result.error,
        result.duration_ms,
        samples,
    )
    try:
        async with db.session() as session:
            _, _, touched = await record(session, settings, registry, _NoWriter(), HUB, [outcome])
            events = await refresh_health(session, touched)
            await session.commit()
    except Exception as exc:
        log.warning("location health not saved: %s", exc, extra={"plugin_id": result.plugin_id})
        return
    for event in events:
        await hub.publish(event)


class _NoWriter:
    """The hub's runs hand their samples to the writer themselves (via the runner)."""

    def submit(self, plugin_id: int, ts: datetime, samples: list[Sample]) -> object:
        return None
