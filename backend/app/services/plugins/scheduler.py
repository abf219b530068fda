"""PluginScheduler: runs the enabled plugin instances on APScheduler slot jobs, on the leader."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from app.core.config import Settings
from app.core.security import SecretBox
from app.core.worker import bounded
from app.db.session import Database
from app.models import PluginInstance
from app.models.enums import RunStatus, SchedulerRole
from app.plugins.base import Plugin, Sample
from app.plugins.registry import PluginRegistry
from app.services.audit import events as plugin_events
from app.services.metrics.prometheus import percentile
from app.services.metrics.writer import MetricsWriter
from app.services.plugins import discovery, runner, workqueue
from app.services.plugins.instance_cache import InstanceCache
from app.services.plugins.leader import LeaderElection, job_row, leader_job
from app.services.plugins.recorder import INTERRUPTED, RunRecorder
from app.services.plugins.slots import PREFIX, Slots, last_due
from app.services.probes import hub as probe_hub
from app.services.probes.watch import record_hub_run

log = logging.getLogger(__name__)

RECONCILE_SECONDS = 10
RELEASE_SECONDS = 0.5


class PluginScheduler:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        registry: PluginRegistry,
        box: SecretBox,
        writer: MetricsWriter,
        recorder: RunRecorder,
        executor: ThreadPoolExecutor,
    ) -> None:
        self.db = db
        self.settings = settings
        self.registry = registry
        self.box = box
        self.writer = writer
        self.recorder = recorder
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.slots = Slots(self.scheduler, self._scheduled_run)
        self.role = (
            SchedulerRole.DISABLED if not settings.scheduler_enabled else SchedulerRole.STARTING
        )
        self.lateness_ms: deque[float] = deque(maxlen=2000)
        self.run_counts: dict[str, int] = {}
        self.instances = InstanceCache(db, settings, registry, box, executor)
        self._locks: dict[int, asyncio.Lock] = {}
        self.election = LeaderElection(
            db,
            settings,
            self._become_leader,
            self._step_down,
            lambda: self.role == SchedulerRole.LEADER,
        )
        self._maintenance: list[tuple[str, Any, int]] = []
        self._inflight: set[asyncio.Task[Any]] = set()
        self._seen: dict[int, datetime] = {}  # plugin id -> updated_at the jobs reflect
        # Last known timeout per instance: runs go on from the cached instance while the
        # database is unreachable, their samples waiting in the writer's buffer.
        self._timeouts: dict[int, float] = {}
        self._suspects: set[int] = set()  # last run had a long step with little CPU
        # Plugins with remote locations: their runs here are location "hub"'s, not the health.
        self._remote: set[int] = set()
        self._succeeded: set[int] = set()  # last run succeeded: another success is routine
        self.queue: workqueue.RunQueue | None = None  # RUN_WORKERS: runs go to the workers

    # ----------------------------------------------------------------- lifecycle
    @property
    def state(self) -> str:
        if self.role == SchedulerRole.DISABLED:
            return "disabled"
        return "running" if self.scheduler.running else "stopped"

    def add_maintenance(self, name: str, func: Any, seconds: int) -> None:
        """Register a periodic maintenance job that only the leader runs."""
        self._maintenance.append((name, leader_job(name, func, seconds), seconds))

    async def start(self) -> None:
        if self.role == SchedulerRole.DISABLED:
            log.info("scheduler disabled by SCHEDULER_ENABLED=false")
            return
        self.scheduler.start(paused=True)
        if self.db.is_sqlite:
            await self._become_leader()
        else:
            self.role = SchedulerRole.STANDBY
            # Only PostgreSQL can have several replicas, each with its own API.
            self.add_maintenance("reconcile", self.reconcile, RECONCILE_SECONDS)
            self.election.start()

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if going := self._inflight | set(self.slots.running.values()):
            # Runs still going at shutdown are cut short and recorded as interrupted.
            for task in going:
                task.cancel()
            await asyncio.wait(going, timeout=2)
        # Those, and runs whose caller was cancelled already (a run-now request cut off by
        # the server's shutdown), are recorded as interrupted.
        if self.recorder.inflight:
            now = datetime.now(UTC)
            for record in list(self.recorder.inflight):
                await self.recorder.finish(
                    record,
                    RunStatus.INTERRUPTED,
                    INTERRUPTED,
                    0,
                    now,
                    (now - record.started_at).total_seconds() * 1000,
                )
        await self.instances.close_all()
        # After the runs, and bounded: closing the lock's connection gracefully waits up to 2 s
        # on a silent database; cut off, the lock goes with the process's socket anyway.
        await self.election.stop()
        await bounded(self.election.release(), RELEASE_SECONDS, "releasing the scheduler lock")

    # ----------------------------------------------------------------- leadership
    async def _become_leader(self) -> None:
        self.role = SchedulerRole.LEADER
        log.info("this replica is the scheduler leader")
        self.recorder.forget_health()  # the previous leader kept it until now
        await self.recorder.mark_interrupted()
        await self.reload()
        for name, func, seconds in self._maintenance:
            self.scheduler.add_job(
                func,
                IntervalTrigger(seconds=seconds),
                id=f"maintenance:{name}",
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now(UTC) + timedelta(seconds=5),
            )
        self.scheduler.resume()

    async def _step_down(self, why: str) -> None:
        log.warning("scheduler standing by: %s", why)
        self.role = SchedulerRole.STANDBY
        self.scheduler.pause()
        for job in self.scheduler.get_jobs():
            job.remove()
        self.slots.clear()

    # ----------------------------------------------------------------- jobs
    async def reload(self) -> None:
        async with self.db.session() as session:
            plugins = list(await session.scalars(select(PluginInstance)))
        for p in plugins:
            self._schedule(p)
            await self._prime(p)
        self._seen = {p.id: p.updated_at for p in plugins}
        await self.recorder.preload_health([p.id for p in plugins if p.enabled])

    async def _prime(self, plugin: PluginInstance) -> None:
        """Build an enabled instance from the row at hand, so its first scheduled run needs no
        read of its own (10,000 instances starting together would be 10,000 reads at once)."""
        if not plugin.enabled or self.role != SchedulerRole.LEADER or self.queue:
            return  # with workers (`queue`), the runs and their instances are theirs
        try:
            await self.instances.get(plugin)
        except Exception as exc:  # its first run reads the row again and says what is wrong
            log.debug("instance not prepared ahead: %s", exc, extra={"plugin_id": plugin.id})
            return
        self._timeouts[plugin.id] = plugin.timeout_seconds

    async def reconcile(self) -> None:
        """Pick up changes made through other replicas' APIs (the leader's own apply at once)."""
        async with self.db.session() as session:
            rows = await session.execute(select(PluginInstance.id, PluginInstance.updated_at))
            current = {plugin_id: updated for plugin_id, updated in rows}
        for plugin_id in set(self._seen) | set(current):
            if self._seen.get(plugin_id) != current.get(plugin_id):
                await self.sync(plugin_id)

    async def sync(self, plugin_id: int) -> None:
        """Re-read one instance after an API change and (re)schedule or remove its job."""
        async with self.db.session() as session:
            plugin = await session.get(PluginInstance, plugin_id)
        await self._synced(plugin_id, plugin)

    async def sync_many(self, plugin_ids: Iterable[int]) -> None:
        """`sync` for many instances (a configuration file's), reading their rows in one go."""
        ids = sorted(set(plugin_ids))
        rows: dict[int, PluginInstance] = {}
        async with self.db.session() as session:
            for i in range(0, len(ids), 500):  # bounded IN lists
                chunk = ids[i : i + 500]
                found = await session.scalars(
                    select(PluginInstance).where(PluginInstance.id.in_(chunk))
                )
                rows.update((p.id, p) for p in found)
        for plugin_id in ids:
            await self._synced(plugin_id, rows.get(plugin_id))
            if (row := rows.get(plugin_id)) is not None:
                await self._prime(row)
        await self.recorder.preload_health([i for i, p in rows.items() if p.enabled])

    async def _synced(self, plugin_id: int, plugin: PluginInstance | None) -> None:
        if plugin is None:
            self.unschedule(plugin_id)
            self.writer.forget_plugin(plugin_id)
            self._timeouts.pop(plugin_id, None)
            self._suspects.discard(plugin_id)
            self._succeeded.discard(plugin_id)
            isolated = self.instances.isolated.pop(plugin_id, None)
            if isolated is not None:
                isolated.stop(join_seconds=0)
            self._seen.pop(plugin_id, None)
            return
        self._seen[plugin_id] = plugin.updated_at
        await self.instances.drop(plugin_id, keep_if=plugin.updated_at)
        if self.role == SchedulerRole.LEADER:
            self._schedule(plugin)

    def unschedule(self, plugin_id: int) -> None:
        self.slots.remove(plugin_id)
        entry = self.instances.built.pop(plugin_id, None)
        if entry:
            task = asyncio.get_running_loop().create_task(self.instances.close(plugin_id, entry[1]))
            task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    def _schedule(self, plugin: PluginInstance) -> None:
        entry = self.registry.get(plugin.type)
        if probe_hub.is_remote(plugin):
            self._remote.add(plugin.id)
        else:
            self._remote.discard(plugin.id)
        here = probe_hub.HUB in probe_hub.locations_of(plugin)
        if not plugin.enabled or entry is None or not entry.available or not here:
            self.slots.remove(plugin.id)
            if plugin.enabled and (entry is None or not entry.available):
                log.warning(
                    "plugin type %s unavailable; not scheduling",
                    plugin.type,
                    extra={"plugin_id": plugin.id},
                )
            return
        self.slots.add(plugin.id, plugin.name, plugin.interval_seconds)

    @property
    def isolated(self) -> list[int]:
        """Ids of the instances running in a thread of their own (they blocked the loop)."""
        return sorted(self.instances.isolated)

    def summary(self) -> dict[str, Any]:
        """State, role, jobs, start lateness (p50, p99) and run counts, for the API."""
        late = list(self.lateness_ms)
        return {
            "state": self.state,
            "role": self.role,
            "jobs": [
                *(job_row(j) for j in self.scheduler.get_jobs() if not j.id.startswith(PREFIX)),
                *self.slots.rows(),  # each slot job, then its plugins with the slot's next run
            ],
            "lateness_ms_p50": percentile(late, 0.5),
            "lateness_ms_p99": percentile(late, 0.99),
            "runs": dict(self.run_counts),
        }

    # ----------------------------------------------------------------- running
    async def _scheduled_run(self, plugin_id: int, due: datetime | None = None) -> None:
        """A scheduled run of one plugin, due at `due` (its slot's fire time)."""
        now = datetime.now(UTC)
        if due is None:
            slot = self.slots.slot_of(plugin_id)
            due = last_due(slot, now) if slot is not None else now
        lateness = max((now - due).total_seconds() * 1000, 0.0)
        self.lateness_ms.append(lateness)
        # With workers (RUN_WORKERS), the run is theirs; here only if Redis is unreachable.
        if self.queue and await self.queue.enqueue(plugin_id, due, self._seen.get(plugin_id)):
            return
        await self.run(plugin_id, "schedule", lateness)

    async def run(
        self, plugin_id: int, trigger: str = "manual", lateness_ms: float | None = None
    ) -> runner.RunResult | None:
        lock = self._locks.setdefault(plugin_id, asyncio.Lock())
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            return await self._run_locked(lock, plugin_id, trigger, lateness_ms)
        finally:
            if task is not None:
                self._inflight.discard(task)

    async def _run_locked(
        self, lock: asyncio.Lock, plugin_id: int, trigger: str, lateness_ms: float | None
    ) -> runner.RunResult | None:
        async with lock:
            impl: Plugin
            cached = self.instances.built.get(plugin_id)
            if cached is not None and plugin_id in self._timeouts and trigger != "manual":
                # sync() and reconcile() drop the instance when its row changes, so a
                # scheduled run needs no database read of its own.
                return await self._execute(
                    plugin_id, cached[1], self._timeouts[plugin_id], trigger, lateness_ms
                )
            try:
                async with self.db.session() as session:
                    plugin = await session.get(PluginInstance, plugin_id)
            except Exception as exc:
                # The database is unreachable: keep collecting with the instance as last
                # configured; its samples wait in the writer's buffer until it answers again.
                cached = self.instances.built.get(plugin_id)
                timeout = self._timeouts.get(plugin_id)
                if cached is None or timeout is None:
                    log.warning(
                        "plugin run skipped, database unreachable: %s",
                        exc,
                        extra={"plugin_id": plugin_id},
                    )
                    return None
                impl = cached[1]
            else:
                if plugin is None:
                    self.unschedule(plugin_id)
                    return None
                timeout = plugin.timeout_seconds
                self._timeouts[plugin_id] = timeout
                try:
                    impl = await self.instances.get(plugin)
                except Exception as exc:  # unreadable secrets, a missing type: a failed run
                    impl = runner.BrokenInstance(f"The plugin could not be prepared: {exc}")
            return await self._execute(plugin_id, impl, timeout, trigger, lateness_ms)

    async def _execute(
        self,
        plugin_id: int,
        impl: Plugin,
        timeout_s: float,
        trigger: str,
        lateness_ms: float | None,
    ) -> runner.RunResult:
        remote = plugin_id in self._remote
        samples: list[Sample] = []
        result = await runner.execute(
            plugin_id,
            impl,
            timeout_s,
            settings=self.settings,
            writer=self.writer,
            recorder=self.recorder,
            trigger=trigger,
            lateness_ms=lateness_ms,
            isolated=self.instances.isolated.get(plugin_id),
            suspect_before=plugin_id in self._suspects,
            location=probe_hub.HUB if remote else None,
            samples_out=samples if remote else None,
            routine=plugin_id in self._succeeded,
        )
        if remote:
            await record_hub_run(
                self.db, self.settings, self.registry, self.recorder.hub, result, samples
            )
        self.run_counts[result.status] = self.run_counts.get(result.status, 0) + 1
        if result.status == RunStatus.SUCCESS:
            self._succeeded.add(plugin_id)
        else:
            self._succeeded.discard(plugin_id)
        if result.suspect:
            self._suspects.add(plugin_id)
        else:
            self._suspects.discard(plugin_id)
        if result.blocked_ms is not None:
            await self.instances.isolate(plugin_id)
        if emitted := impl.take_events():
            try:
                await plugin_events.save(self.db, plugin_id, emitted)
            except Exception as exc:  # the timeline is a nicety; the run itself is recorded
                log.warning("events not stored: %s", exc, extra={"plugin_id": plugin_id})
        found = getattr(impl, "found", None)
        if found is not None and result.status == RunStatus.SUCCESS:
            await discovery.after_run(self, plugin_id, found)
        return result
