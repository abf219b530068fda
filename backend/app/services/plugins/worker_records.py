"""What a worker knows of its runs' records: when they are saved, and which runs taken over
from a worker that stopped answering were saved already."""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from app.db.session import Database
from app.models import PluginInstance, PluginRun
from app.models.enums import RunStatus
from app.plugins.base import Sample
from app.services.metrics.batch import Batch
from app.services.metrics.writer import MetricsWriter
from app.services.plugins import workqueue
from app.services.plugins.recorder import RunRecord, RunRecorder
from app.services.plugins.workqueue import Entry

CUT_SHORT = "The worker running this stopped answering; another worker ran it again."

# A run's events are saved (records and samples) before it is acknowledged: set by the run's
# own task, collected by the writer and recorder below.
saved: ContextVar[list[asyncio.Event] | None] = ContextVar("runsaved", default=None)


class TrackingRecorder(RunRecorder):
    """The recorder, telling the run that finished whether its record is saved yet."""

    async def finish(self, record: RunRecord, *args: Any, **kwargs: Any) -> None:
        await super().finish(record, *args, **kwargs)
        if (events := saved.get()) is not None:
            events.append(record.saved)


class TrackingWriter(MetricsWriter):
    """The metrics writer, telling the run whether its samples are written yet."""

    def submit(self, plugin_id: int, ts: datetime, samples: list[Sample]) -> Batch:
        batch = super().submit(plugin_id, ts, samples)
        if (events := saved.get()) is not None:
            events.append(batch.written)
        return batch


async def ran_already(db: Database, entries: list[Entry]) -> set[str]:
    """Of runs taken over from a worker that stopped answering, those it finished and saved
    before it died (without marking them done). Its runs cut short, saved as `running`,
    are recorded as interrupted: they are run again here."""
    ids = sorted({e.plugin_id for e in entries})
    since = workqueue.from_ms(min(e.due_ms for e in entries) - 1000)
    query = (
        select(PluginRun.id, PluginRun.plugin_id, PluginRun.started_at, PluginRun.status)
        .add_columns(PluginInstance.interval_seconds)
        .join(PluginInstance, PluginInstance.id == PluginRun.plugin_id)
        .where(
            PluginRun.plugin_id.in_(ids),
            PluginRun.started_at >= since,
            PluginRun.trigger == "schedule",
        )
    )
    ran: set[str] = set()
    cut_short: list[int] = []
    async with db.session() as session:
        rows = (await session.execute(query)).all()
        for entry in entries:
            for run_id, plugin_id, started, status, interval in rows:
                slack = min(1000, interval * 500)  # a run may start a little before due
                start = entry.due_ms - slack
                if plugin_id != entry.plugin_id:
                    continue
                if not start <= workqueue.to_ms(started) < start + interval * 1000:
                    continue
                if status == RunStatus.RUNNING:
                    cut_short.append(run_id)
                else:
                    ran.add(entry.id)
        if cut_short:
            await session.execute(
                update(PluginRun)
                .where(PluginRun.id.in_(cut_short), PluginRun.status == RunStatus.RUNNING)
                .values(
                    status=RunStatus.INTERRUPTED, error=CUT_SHORT, finished_at=datetime.now(UTC)
                )
            )
            await session.commit()
    return ran
