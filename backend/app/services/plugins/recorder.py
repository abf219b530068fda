"""Run bookkeeping in batches: run rows and plugin health for many runs in one transaction.

A run's own slot only collects; recording it costs no database round trip of its own. Runs
still going after CHECKPOINT_SECONDS are written as `running`, so a crash leaves a trace that
the next leader marks `interrupted`. Health is kept in memory (loaded from the table) and
written with the runs; run and health events go out after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from app.core.config import Settings
from app.core.timers import FLUSH_PHASE, until_next
from app.core.worker import Backoff, Outage, drain, error_text
from app.db.session import Database
from app.models import PluginHealth, PluginInstance, PluginRun
from app.models.enums import RunStatus
from app.services.live.hub import Hub
from app.services.plugins.health import Health, health_event, next_health

log = logging.getLogger(__name__)

INTERRUPTED = "The backend stopped during this run."

CHECKPOINT_SECONDS = 1.0
FLUSH_SECONDS = 1.0  # how stale run history and health may be (run-now does not wait for it)
URGENT_BACKLOG = 500
MAX_PENDING = 100_000  # finished runs waiting while the database is down


@dataclass(eq=False)
class RunRecord:
    plugin_id: int
    trigger: str
    started_at: datetime
    lateness_ms: float | None
    id: int | None = None
    # PostgreSQL: the id drawn for this record's first INSERT, kept for its retries. A commit
    # whose answer was lost (a database gone silent) may have stored the row: the retry then
    # updates that row instead of adding a second one.
    reserved_id: int | None = None
    status: str = RunStatus.RUNNING
    finished_at: datetime | None = None
    duration_ms: float | None = None
    error: str | None = None
    sample_count: int = 0
    t0: float = field(default_factory=time.monotonic)
    saved: asyncio.Event = field(default_factory=asyncio.Event)

    def row(self) -> dict[str, Any]:
        return {
            "plugin_id": self.plugin_id,
            "trigger": self.trigger,
            "started_at": self.started_at,
            "lateness_ms": self.lateness_ms,
            "status": self.status,
            "finished_at": self.finished_at,
            "duration_ms": self.duration_ms,
            "error": self.error,
            "sample_count": self.sample_count,
        }

    def event(self) -> dict[str, Any]:
        keys = (
            "status",
            "trigger",
            "started_at",
            "finished_at",
            "duration_ms",
            "error",
            "sample_count",
        )
        return {
            "type": "run",
            "plugin_id": self.plugin_id,
            "run": {"id": self.id, **{k: getattr(self, k) for k in keys}},
        }


class RunRecorder:
    def __init__(self, db: Database, settings: Settings, hub: Hub) -> None:
        self.db = db
        self.settings = settings
        self.hub = hub
        self.inflight: set[RunRecord] = set()
        self._finished: list[RunRecord] = []
        self._health: dict[int, Health] = {}
        self._changed: dict[int, Health] = {}  # health rows to write, with status changes noted
        self._status_changed: set[int] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._asleep = False  # the loop waits with no timeout: begin() must wake it
        self.failures = 0
        self.last_error: str | None = None
        self.dropped = 0  # finished runs given up on: MAX_PENDING were waiting already
        self.outage = Outage(log, "run records", self._counts)
        # Built once: compiling an upsert's `excluded` columns costs more than running it.
        ins = sqlite_insert(PluginHealth) if db.is_sqlite else pg_insert(PluginHealth)
        cols = (
            "status",
            "consecutive_failures",
            "last_run_at",
            "last_success_at",
            "last_error",
            "changed_at",
        )
        self._upsert_health = ins.on_conflict_do_update(
            index_elements=["plugin_id"], set_={c: getattr(ins.excluded, c) for c in cols}
        )
        # SQLite: one multi-row INSERT ... RETURNING. PostgreSQL: ids drawn from the sequence,
        # then a plain executemany; both statements keep one text whatever the row count, so
        # each connection prepares them once (a RETURNING insert of n rows is a new statement
        # for every n, and preparing it cost ~10 ms a second at 100 instances).
        self._insert_runs = insert(PluginRun).returning(PluginRun.id, sort_by_parameter_order=True)
        columns = [c.name for c in PluginRun.__table__.columns if c.name != "id"]
        upsert = pg_insert(PluginRun)
        self._insert_runs_with_ids = upsert.on_conflict_do_update(
            index_elements=[PluginRun.id], set_={c: upsert.excluded[c] for c in columns}
        )
        self._next_run_ids = text(
            "SELECT nextval(pg_get_serial_sequence('plugin_runs', 'id')) "
            "FROM generate_series(1, :n)"
        )
        self._update_runs = (
            update(PluginRun)
            .where(PluginRun.id == bindparam("rid"))
            .values(
                status=bindparam("status"),
                finished_at=bindparam("finished_at"),
                duration_ms=bindparam("duration_ms"),
                error=bindparam("error"),
                sample_count=bindparam("sample_count"),
            )
        )

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="run-recorder")

    async def stop(self, deadline: float) -> None:
        self._stopping = True
        self._wake.set()
        await drain(self._task, deadline)
        if self._finished:
            log.error(
                "stopped with %d run records unsaved: the database did not take them within "
                "the shutdown deadline (%gs)",
                len(self._finished),
                deadline,
            )

    def _counts(self) -> str:
        return f"{len(self._finished)} run records waiting, {self.dropped} dropped"

    async def mark_interrupted(self) -> None:
        """Runs left `running` by a crashed leader will never finish: say so."""
        try:
            async with self.db.session() as session:
                res = await session.execute(
                    update(PluginRun)
                    .where(PluginRun.status == RunStatus.RUNNING)
                    .values(
                        status=RunStatus.INTERRUPTED,
                        error=INTERRUPTED,
                        finished_at=datetime.now(UTC),
                    )
                )
                await session.commit()
                count = getattr(res, "rowcount", 0) or 0
                if count:
                    log.warning("marked %d unfinished runs as interrupted", count)
        except Exception as exc:
            log.warning("could not mark interrupted runs: %s", exc)

    def forget_health(self, plugin_ids: Iterable[int] | None = None) -> None:
        """Another replica (or worker) may have written health meanwhile: read it again when
        needed; of every plugin, or of those given."""
        if plugin_ids is None:
            self._health.clear()
        for plugin_id in plugin_ids or ():
            self._health.pop(plugin_id, None)

    # ----------------------------------------------------------------- a run's life
    def begin(
        self, plugin_id: int, trigger: str, started: datetime, lateness_ms: float | None
    ) -> RunRecord:
        record = RunRecord(plugin_id, trigger, started, lateness_ms)
        self.inflight.add(record)
        if self._asleep:
            self._wake.set()  # from now on, check every FLUSH_SECONDS for it
        return record

    async def finish(
        self,
        record: RunRecord,
        status: str,
        error: str | None,
        samples: int,
        finished: datetime,
        duration_ms: float,
        down_after: int | None = None,
        health: bool = True,
    ) -> None:
        """Queue the outcome and apply it to the plugin's health (saved with the next batch).

        `health=False`: a plugin with remote locations, whose health is derived from all of
        them (services/probes/hub.py), not from this run alone.
        """
        record.status, record.error, record.sample_count = status, error, samples
        record.finished_at, record.duration_ms = finished, duration_ms
        # The record leaves `inflight` only once it is in `_finished`: the loop, which may run
        # while the health is read below, must never find it in neither and go to sleep.
        if status != RunStatus.INTERRUPTED and health:
            state = await self._health_of(record.plugin_id)
            ok = status == RunStatus.SUCCESS
            if next_health(state, ok, error, finished, self.settings, down_after):
                self._status_changed.add(record.plugin_id)
            self._changed[record.plugin_id] = state
        if len(self._finished) >= MAX_PENDING:
            dropped = self._finished.pop(0)
            dropped.saved.set()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % MAX_PENDING == 0:  # a few lines, not one each
                log.warning(
                    "run records waiting too long: dropping the oldest (MAX_PENDING=%d); %s",
                    MAX_PENDING,
                    self._counts(),
                )
        self._finished.append(record)
        self.inflight.discard(record)
        if record.trigger == "manual" or len(self._finished) >= URGENT_BACKLOG:
            self._wake.set()  # someone waits for this one (or there is a backlog to clear)

    async def preload_health(self, plugin_ids: list[int]) -> None:
        """Read the health of many instances in one go (before their first runs), so 10,000
        instances starting together cost a few reads, not one each in their run's path."""
        missing = [i for i in plugin_ids if i not in self._health]
        try:
            async with self.db.session() as session:
                for i in range(0, len(missing), 500):  # bounded IN lists
                    rows = await session.scalars(
                        select(PluginHealth).where(PluginHealth.plugin_id.in_(missing[i : i + 500]))
                    )
                    for row in rows:
                        self._health.setdefault(
                            row.plugin_id,
                            Health(
                                row.plugin_id,
                                row.status,
                                row.consecutive_failures,
                                row.last_run_at,
                                row.last_success_at,
                                row.last_error,
                                row.changed_at,
                            ),
                        )
        except Exception as exc:  # the database is down: each first run reads its own
            log.debug("health not preloaded: %s", exc)

    async def _health_of(self, plugin_id: int) -> Health:
        health = self._health.get(plugin_id)
        if health is None:
            health = Health(plugin_id)
            try:
                async with self.db.session() as session:
                    row = await session.get(PluginHealth, plugin_id)
                if row is not None:
                    health = Health(
                        plugin_id,
                        row.status,
                        row.consecutive_failures,
                        row.last_run_at,
                        row.last_success_at,
                        row.last_error,
                        row.changed_at,
                    )
            except Exception as exc:  # the database is down: count from here
                log.debug("health not readable: %s", exc)
            self._health[plugin_id] = health
        return health

    # ----------------------------------------------------------------- writing
    async def _loop(self) -> None:
        backoff = Backoff()
        while True:
            if self._stopping and not (self._finished or self._changed):
                return  # stop() must not wait out its deadline for a wake-up already taken
            if self._stopping:
                pass  # save what is left now, without waiting for the next tick
            elif self._finished or self._changed or self.inflight:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._wake.wait(), until_next(FLUSH_SECONDS, FLUSH_PHASE)
                    )
            else:  # nothing running, nothing to save: sleep until a run begins
                self._asleep = True
                await self._wake.wait()
                self._asleep = False
            self._wake.clear()
            stale = [
                r
                for r in self.inflight
                if r.id is None and time.monotonic() - r.t0 >= CHECKPOINT_SECONDS
            ]
            if not (self._finished or stale or self._changed):
                if self._stopping:
                    return
                continue
            finished, self._finished = self._finished, []
            changed, self._changed = self._changed, {}
            status_changed, self._status_changed = self._status_changed, set()
            try:
                await self._write(finished, stale, changed)
            except Exception as exc:
                self._finished[:0] = finished
                for pid, h in changed.items():
                    self._changed.setdefault(pid, h)
                self._status_changed |= status_changed
                self.failures += 1
                self.last_error = error_text(exc)
                delay = backoff.failed()
                self.outage.failed(exc, delay)
                # Stopping: keep trying, briefly, until stop()'s deadline cancels us.
                await asyncio.sleep(min(delay, FLUSH_SECONDS) if self._stopping else delay)
                continue
            backoff.reset()
            self.outage.recovered()
            self.last_error = None
            for r in finished:
                r.saved.set()
                await self.hub.publish(r.event())
            for pid in status_changed:
                if pid in changed:
                    await self.hub.publish(health_event(changed[pid]))

    async def _write(
        self, finished: list[RunRecord], stale: list[RunRecord], changed: dict[int, Health]
    ) -> None:
        try:
            await self._write_batch(finished, stale, changed, alive=None)
        except IntegrityError:
            # A plugin was deleted meanwhile: its runs and health have nowhere to go.
            async with self.db.engine.connect() as conn:
                ids = {r.plugin_id for r in (*finished, *stale)} | set(changed)
                alive = set(
                    await conn.scalars(select(PluginInstance.id).where(PluginInstance.id.in_(ids)))
                )
            for r in (*finished, *stale):
                if r.plugin_id not in alive:
                    r.id = None
            await self._write_batch(finished, stale, changed, alive=alive)

    async def _write_batch(
        self,
        finished: list[RunRecord],
        stale: list[RunRecord],
        changed: dict[int, Health],
        alive: set[int] | None,
    ) -> None:
        def keep(plugin_id: int) -> bool:
            return alive is None or plugin_id in alive

        # Rows are built here, on the loop: finish() may change a checkpointed record meanwhile.
        new = [r for r in (*stale, *(f for f in finished if f.id is None)) if keep(r.plugin_id)]
        new_rows = [r.row() for r in new]
        done = [
            {**r.row(), "rid": r.id} for r in finished if r.id is not None and keep(r.plugin_id)
        ]
        health = [h.row() for pid, h in changed.items() if keep(pid)]
        sqlite = self.db.is_sqlite

        def work(conn: Connection) -> list[int]:
            ids: list[int] = []
            if new_rows and sqlite:
                ids = [rid for (rid,) in conn.execute(self._insert_runs, new_rows).all()]
            elif new_rows:
                # Sequence values outlive a rolled-back transaction: drawn once per record.
                want = [r for r in new if r.reserved_id is None]
                if want:
                    drawn = conn.scalars(self._next_run_ids, {"n": len(want)})
                    for r, rid in zip(want, drawn, strict=True):
                        r.reserved_id = rid
                ids = [r.reserved_id for r in new if r.reserved_id is not None]
                rows = [{**row, "id": rid} for row, rid in zip(new_rows, ids, strict=True)]
                conn.execute(self._insert_runs_with_ids, rows)
            if done:
                conn.execute(self._update_runs, done)
            if health:
                conn.execute(self._upsert_health, health)
            return ids

        if self.db.writes is not None:  # SQLite: the whole transaction is one hand-off
            ids = await self.db.writes.run(work)
        else:
            async with self.db.engine.connect() as conn:
                ids = await conn.run_sync(work)
                await conn.commit()
        # ids only once committed: a failed batch is retried whole
        for r, rid in zip(new, ids, strict=True):
            r.id = rid
