"""A worker's side of the run queue: claim due runs, run them like the scheduler does, acknowledge.

The runs go through the scheduler's own run path (instances, timeouts, isolation, the writer and
the recorder), so a run on a worker is recorded exactly as one in the server. An entry is marked
done and acknowledged only once its run's records are saved: a worker killed before that leaves
it pending, and another worker takes it over after `RUN_CLAIM_TIMEOUT_SECONDS`. While a worker
lives, it renews its claims, so nobody takes over a run that is merely slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.core.config import Settings
from app.core.worker import Backoff, Outage, ShutdownClock, bounded
from app.models import PluginInstance
from app.services.plugins import worker_records as records
from app.services.plugins import workqueue
from app.services.plugins.workqueue import GROUP, Entry
from app.services.probes import hub as probe_hub

if TYPE_CHECKING:
    from app.services.plugins.scheduler import PluginScheduler

log = logging.getLogger(__name__)

READ_BATCH = 500  # entries per XREADGROUP / XAUTOCLAIM
BLOCK_MS = 1000  # an idle worker asks again this often
ACK_GATHER_SECONDS = 0.02
OVERDUE_LOG_SECONDS = 30.0


class RunWorker:
    def __init__(
        self, settings: Settings, runs: PluginScheduler, name: str, redis: Any = None
    ) -> None:
        self.settings = settings
        self.runs = runs  # a scheduler that is never started: its run path only
        self.name = name  # this worker's consumer name in the group
        self.key = settings.run_queue_key
        self.done_key = workqueue.done_key(settings)
        self.claim_ms = round(settings.run_claim_timeout_seconds * 1000)
        self._redis = redis
        self._active = 0  # runs executing now (RUN_WORKER_CONCURRENCY at most)
        self._room = asyncio.Event()
        self._holding: dict[str, Entry] = {}  # claimed, not yet acknowledged
        self._running: set[tuple[int, int]] = set()  # (plugin, due) executing here now
        self._finished: list[Entry] = []  # to mark done and acknowledge
        self._dropped: list[str] = []  # entry ids to acknowledge without running
        self._tasks: set[asyncio.Task[None]] = set()
        self._settle_soon = asyncio.Event()  # a run finished: mark it done now, not later
        self._versions: dict[int, str] = {}  # plugin -> row version its cached instance has
        self._intervals: dict[int, int] = {}
        self._last_due: dict[int, int] = {}  # plugin -> the last due time run here (ms)
        self.ran = self.duplicates = self.missed = self.taken_over = 0
        self._overdue, self._overdue_log_at = 0, 0.0
        self.outage = Outage(log, "run queue (Redis)", self._counts)

    def _counts(self) -> str:
        return (
            f"{len(self._holding)} runs held, {self.ran} ran, {self.duplicates} duplicates "
            f"dropped, {self.missed} missed"
        )

    # ----------------------------------------------------------------- the loop
    async def run(self, stop: asyncio.Event) -> None:
        """Claim and run until `stop` is set; Redis failures are retried with backoff."""
        acker = asyncio.create_task(self._acknowledge(stop), name="run-queue-acker")
        try:
            await self._claim_loop(stop)
        finally:
            acker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await acker

    async def _claim_loop(self, stop: asyncio.Event) -> None:
        backoff = Backoff()
        while not stop.is_set():
            try:
                if self._redis is None:
                    self._redis = workqueue.client(self.settings)
                await self._ensure_group()
                self.outage.recovered()
                backoff.reset()
                await self._consume(stop)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = backoff.failed()
                self.outage.failed(exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)

    async def drain(self, seconds: float) -> None:
        """Let the runs under way finish (up to `seconds`) and acknowledge them."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=max(seconds, 0.1))
        try:
            await asyncio.wait_for(self._settle(), max(seconds, 0.5))
        except Exception as exc:  # unacknowledged entries are taken over by another worker
            log.warning("could not acknowledge the last runs: %s", exc)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._redis.aclose(), 1)

    async def _ensure_group(self) -> None:
        from redis.exceptions import ResponseError

        try:
            # From the stream's start: after a Redis restart the leader may have queued runs
            # before any worker was back.
            await self._redis.xgroup_create(self.key, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _consume(self, stop: asyncio.Event) -> None:
        limit = self.settings.run_worker_concurrency
        timeout = self.settings.run_claim_timeout_seconds
        claim_every = min(max(timeout / 4, 0.5), 15.0)
        beat_every = min(max(timeout / 3, 0.5), 20.0)
        next_claim = next_beat = 0.0
        while not stop.is_set():
            await self._settle()
            now = time.monotonic()
            if now >= next_beat:
                await self._renew()
                next_beat = now + beat_every
            room = limit - self._active
            if room <= 0:
                self._room.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._room.wait(), BLOCK_MS / 1000)
                continue
            count = min(room, READ_BATCH)
            if now >= next_claim:
                next_claim = now + claim_every
                _next, items, *_deleted = await self._redis.xautoclaim(
                    self.key, GROUP, self.name, self.claim_ms, "0-0", count=count
                )
                if items:
                    taken = await self._accept(items, taken_over=True)
                    if taken:
                        self.taken_over += taken
                        log.warning(
                            "took over %d runs from a worker that stopped answering for %gs",
                            taken,
                            timeout,
                        )
                    continue
            got = await self._redis.xreadgroup(
                GROUP, self.name, {self.key: ">"}, count=count, block=BLOCK_MS
            )
            for _stream, items in got or []:
                await self._accept(items)

    # ----------------------------------------------------------------- claimed entries
    async def _accept(self, items: Iterable[Any], taken_over: bool = False) -> int:
        """Start the runs of freshly claimed entries; drop duplicates, stale and bad ones."""
        chosen: dict[str, Entry] = {}
        latest: dict[int, Entry] = {}
        for entry_id, fields in items:
            entry = Entry.parse(entry_id, fields) if fields else None
            if entry is None:
                log.warning("run queue entry %s is unreadable or gone; dropped", entry_id)
                self._dropped.append(entry_id)
            elif entry.id in self._holding:
                continue  # ours already, delivered again
            elif (entry.plugin_id, entry.due_ms) in self._running:
                self._duplicate(entry)
            elif not taken_over and (seen := latest.get(entry.plugin_id)) is not None:
                # Two due times of one plugin in one read (a backlog): the older is superseded.
                older, latest[entry.plugin_id] = sorted((seen, entry), key=lambda e: e.due_ms)
                chosen.pop(older.id, None)
                chosen[latest[entry.plugin_id].id] = latest[entry.plugin_id]
                self.missed += 1
                self._dropped.append(older.id)
            else:
                latest[entry.plugin_id] = chosen[entry.id] = entry
        if not chosen:
            return 0
        entries = list(chosen.values())
        marks = await self._redis.hmget(self.done_key, [str(e.plugin_id) for e in entries])
        fresh = []
        for entry, mark in zip(entries, marks, strict=True):
            if workqueue.ran_already(mark, entry.due_ms):
                self._duplicate(entry)
            else:
                fresh.append(entry)
        if taken_over and fresh:
            ran = await records.ran_already(self.runs.db, fresh)
            for entry in [e for e in fresh if e.id in ran]:
                self._duplicate(entry)
            fresh = [e for e in fresh if e.id not in ran]
        runnable = await self._prepare(fresh)
        for entry in runnable:
            self._holding[entry.id] = entry
            self._running.add((entry.plugin_id, entry.due_ms))
            self._active += 1
            task = asyncio.create_task(self._run_one(entry), name=f"run-{entry.plugin_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(runnable)

    def _duplicate(self, entry: Entry) -> None:
        self.duplicates += 1
        self._dropped.append(entry.id)
        log.info(
            "duplicate delivery dropped: this due time ran already",
            extra={
                "plugin_id": entry.plugin_id,
                "due": workqueue.from_ms(entry.due_ms).isoformat(),
                "entry": entry.id,
            },
        )

    async def _prepare(self, entries: list[Entry]) -> list[Entry]:
        """Build the instances of rows that changed since their last run here (one read for
        the batch), drop runs of plugins deleted or disabled meanwhile or long overdue, and
        re-read the health of plugins another worker ran last."""
        runs = self.runs
        stale = [
            e
            for e in entries
            if self._versions.get(e.plugin_id) != e.version
            or e.plugin_id not in runs.instances.built
        ]
        gone: set[int] = set()
        if stale:
            gone = {e.plugin_id for e in stale}
            ids = sorted(gone)
            async with runs.db.session() as session:
                for i in range(0, len(ids), 500):  # bounded IN lists
                    found = await session.scalars(
                        select(PluginInstance).where(PluginInstance.id.in_(ids[i : i + 500]))
                    )
                    for row in found:
                        if row.enabled:
                            gone.discard(row.id)
                            await self._prime(row)
        now_ms, claim_s = time.time() * 1000, self.settings.run_claim_timeout_seconds
        runnable, others = [], []
        overdue = 0
        for entry in entries:
            interval = self._intervals.get(entry.plugin_id, 0)
            if entry.plugin_id in gone:
                self._dropped.append(entry.id)  # deleted or disabled since it was due
            elif now_ms - entry.due_ms > (interval + 2 * claim_s) * 1000:
                overdue += 1
                self._dropped.append(entry.id)
            else:
                runnable.append(entry)
                last = self._last_due.get(entry.plugin_id)
                if last is None or abs(entry.due_ms - interval * 1000 - last) > 500:
                    others.append(entry.plugin_id)
        if overdue:
            self.missed += overdue
            self._overdue += overdue
            if time.monotonic() >= self._overdue_log_at:  # one line a while, not per batch
                self._overdue_log_at = time.monotonic() + OVERDUE_LOG_SECONDS
                log.warning(
                    "%d runs were due too long ago (no worker took them in time); skipped. "
                    "Too few workers for the load? (%d skipped in all)",
                    self._overdue,
                    self.missed,
                )
                self._overdue = 0
        if others:  # another worker may have run them last: its health is the current one
            runs.recorder.forget_health(others)
            await runs.recorder.preload_health(others)
        return runnable

    async def _prime(self, row: PluginInstance) -> None:
        runs = self.runs
        await runs.instances.drop(row.id, keep_if=row.updated_at)
        self._versions[row.id] = row.updated_at.isoformat()
        self._intervals[row.id] = row.interval_seconds
        # The scheduler's own per-plugin state, as its `_schedule` and `_prime` would set it.
        if probe_hub.is_remote(row):
            runs._remote.add(row.id)
        else:
            runs._remote.discard(row.id)
        try:
            await runs.instances.get(row)
        except Exception as exc:  # the run reads the row again and records what is wrong
            log.debug("instance not prepared: %s", exc, extra={"plugin_id": row.id})
            return
        runs._timeouts[row.id] = row.timeout_seconds

    async def _run_one(self, entry: Entry) -> None:
        saved: list[asyncio.Event] = []
        records.saved.set(saved)  # this task's own context: the writer and recorder add to it
        try:
            lateness = max(time.time() * 1000 - entry.due_ms, 0.0)
            await self.runs.run(entry.plugin_id, "schedule", lateness)
        except Exception:  # the runner records a plugin's failures; this is ours
            log.exception("run failed on the worker", extra={"plugin_id": entry.plugin_id})
        finally:
            self._active -= 1
            self._room.set()
            self._running.discard((entry.plugin_id, entry.due_ms))
        if saved:
            with contextlib.suppress(TimeoutError):
                waits = (event.wait() for event in saved)
                await asyncio.wait_for(
                    asyncio.gather(*waits), self.settings.run_claim_timeout_seconds / 2
                )
        self.ran += 1
        self._last_due[entry.plugin_id] = entry.due_ms
        self._finished.append(entry)
        self._settle_soon.set()

    # ----------------------------------------------------------------- acknowledging
    async def _acknowledge(self, stop: asyncio.Event) -> None:
        """Mark runs done as soon as their records are saved: the shorter the time between the
        two, the smaller the window in which a killed worker leaves a saved run unmarked."""
        while not stop.is_set():
            await self._settle_soon.wait()
            await asyncio.sleep(ACK_GATHER_SECONDS)  # the runs finishing together, at once
            self._settle_soon.clear()
            try:
                await self._settle()
            except Exception as exc:  # the claim loop reports Redis outages; retry with it
                log.debug("acknowledging failed: %s", exc)
                await asyncio.sleep(BLOCK_MS / 1000)
                self._settle_soon.set()

    async def _settle(self) -> None:
        """Mark the finished runs done, then acknowledge them (and the dropped entries)."""
        if not (self._finished or self._dropped):
            return
        finished, self._finished = self._finished, []
        dropped, self._dropped = self._dropped, []
        try:
            for i in range(0, len(finished), 1000):
                args: list[str | int] = [workqueue.KEEP_DONE]
                for entry in finished[i : i + 1000]:
                    args += [entry.plugin_id, entry.due_ms]
                await self._redis.eval(workqueue.MARK_DONE, 1, self.done_key, *args)
            ids = [e.id for e in finished] + dropped
            for i in range(0, len(ids), 1000):
                await self._redis.xack(self.key, GROUP, *ids[i : i + 1000])
        except Exception:
            self._finished[:0], self._dropped[:0] = finished, dropped  # again next time
            raise
        for entry in finished:
            self._holding.pop(entry.id, None)

    async def _renew(self) -> None:
        """Claim again what this worker holds, so its idle time starts over: a slow run, or
        one waiting for its records to be saved, is not taken over while this worker lives."""
        ids = list(self._holding)
        for i in range(0, len(ids), 1000):
            await self._redis.xclaim(self.key, GROUP, self.name, 0, ids[i : i + 1000], justid=True)


class WorkerService:
    """A worker process's objects: database, writer, recorder, event hub and the run loop."""

    def __init__(self, settings: Settings, name: str) -> None:
        from app.core.security import SecretBox
        from app.db.session import Database
        from app.plugins.registry import PluginRegistry
        from app.services.live.hub import Hub
        from app.services.plugins.scheduler import PluginScheduler

        self.settings = settings
        self.name = name
        self.db = Database(settings.db_url, timeouts=settings.db_timeouts)
        self.executor = ThreadPoolExecutor(settings.plugin_threads, thread_name_prefix="plugin")
        self.hub = Hub(settings)  # run, health and metrics events reach the servers via Redis
        self.writer = records.TrackingWriter(self.db, settings, publish=self.hub.publish_metrics)
        self.recorder = records.TrackingRecorder(self.db, settings, self.hub)
        box = SecretBox(settings.encryption_keys)
        registry = PluginRegistry().load()
        self.runs = PluginScheduler(
            self.db, settings, registry, box, self.writer, self.recorder, self.executor
        )
        self.worker = RunWorker(settings, self.runs, name)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set, then wind down within SHUTDOWN_TIMEOUT_SECONDS."""
        await self.writer.start()
        await self.recorder.start()
        await self.hub.start(listen=False)
        log.info("worker started", extra={"worker": self.name, "queue": self.worker.key})
        try:
            await self.worker.run(stop)
        finally:
            await self._stop()

    async def _stop(self) -> None:
        log.info("worker stopping", extra={"worker": self.name})
        clock = ShutdownClock(self.settings.shutdown_timeout_seconds)
        await self.worker.drain(clock.left(3.0))
        await bounded(self.runs.stop(), clock.left(2.0), "the runs")
        await asyncio.gather(self.recorder.stop(clock.left(1.0)), self.writer.stop(clock.left(1.0)))
        await self.worker.close()
        await bounded(self.hub.stop(), clock.left(), "the event hub")
        self.executor.shutdown(wait=False, cancel_futures=True)
        await bounded(self.db.dispose(), clock.left(), "closing database connections")
        w = self.worker
        log.info(
            "worker stopped",
            extra={"worker": self.name, "ran": w.ran, "duplicates": w.duplicates},
        )
