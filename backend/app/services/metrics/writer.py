"""The metrics write path: a bounded buffer, batched COPY/INSERT and live-value callbacks.

A run's values go to `publish` (the hub) when the writer accepts them, not when they are
committed a flush interval later: live values reach browsers in milliseconds. Only a run with
a series the writer has not seen yet waits for the commit that creates the series (its id is
part of the event). A published value can still be lost, as any buffered one: when the buffer
overflows in a long database outage or the shutdown deadline passes first; both are counted
(`dropped`, and the error logged at stop) and /health shows them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import repeat

from app.core.config import Settings
from app.core.timers import FLUSH_PHASE, until_next
from app.core.worker import OUTAGE_REPORT_SECONDS, Backoff, Outage, drain, error_text
from app.db.session import Database
from app.plugins.base import Sample
from app.services.metrics.batch import Batch, Committed, Prepared, Publish, WriterStats
from app.services.metrics.latest import LatestView
from app.services.metrics.series_cache import YIELD_EVERY, SeriesCache
from app.services.metrics.store import SampleStore

log = logging.getLogger(__name__)

# With a backlog, up to this many batches' worth go into one transaction: one series update and
# one commit for all of them (group commit). Without a backlog batches stay at batch_size.
GROUP_BATCHES = 8
# Retry delay while stopping: the shutdown deadline, not the backoff, bounds the wait.
STOPPING_RETRY_SECONDS = 0.5


class MetricsWriter:
    def __init__(self, db: Database, settings: Settings, publish: Publish | None = None) -> None:
        self.db = db
        self.batch_size = settings.writer_batch_size
        self.flush_seconds = settings.writer_flush_seconds
        self.buffer_max = settings.writer_buffer_max
        self.publish = publish
        self.latest = LatestView()
        self._publishing: set[asyncio.Task[None]] = set()
        self.stats = WriterStats()
        self._queue: deque[Batch] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.series = SeriesCache(db)
        self._stopping = False
        self._first_at = 0.0  # monotonic time the oldest unwritten batch arrived
        self._idle = asyncio.Event()
        self._idle.set()
        self._hurry = False  # flushed() was called: write without waiting for the flush time
        self.store = SampleStore(db)
        self.outage = Outage(log, "metrics writes", self._counts)
        self._taken = 0  # samples taken from the buffer and not yet committed or put back
        self._drops_logged = (0, 0.0)  # (dropped count, monotonic time) at the last drop line

    # ----------------------------------------------------------------- producer side
    def submit(self, plugin_id: int, ts: datetime, samples: list[Sample]) -> Batch:
        """Queue samples for writing; never blocks. Drops the oldest when the buffer is full.

        The returned batch's `written` event is set once it is committed (or dropped).
        """
        if not samples:
            batch = Batch(plugin_id, ts, samples)
            batch.written.set()
            return batch
        # A huge run (100,000 samples) goes in batch-sized pieces: each write, its commit
        # callbacks and its events stay small, so other work on the loop goes on in between.
        step = self.batch_size
        was_empty = not self._queue
        if was_empty:
            self._first_at = time.monotonic()
        for start in range(0, len(samples), step):
            piece = samples if len(samples) <= step else samples[start : start + step]
            batch = Batch(plugin_id, ts, piece)
            self._queue.append(batch)
            self._publish_accepted(batch)
        self.stats.buffered += len(samples)
        if was_empty or self.stats.buffered >= self.batch_size:
            self._wake.set()  # start the flush timer, or flush a full batch now
        self._idle.clear()
        while self.stats.buffered > self.buffer_max and len(self._queue) > 1:
            old = self._queue.popleft()
            self.stats.buffered -= len(old.samples)
            self.stats.dropped += len(old.samples)
            old.written.set()
            self._log_drops()
        return batch

    def _publish_accepted(self, batch: Batch) -> None:
        """Send a run's values live now when every series is known (see the module's doc)."""
        if self.publish is None:
            return
        refs = self.series.known(batch.plugin_id, batch.samples)
        if refs is None:
            return  # a new series: published once the commit has created it
        batch.published = True
        rows = list(zip(refs, batch.samples, strict=True))
        task = asyncio.create_task(self._publish_one(batch.plugin_id, batch.ts, rows))
        self._publishing.add(task)  # a task nobody references may be collected mid-way
        task.add_done_callback(self._publishing.discard)

    async def _publish_one(
        self, plugin_id: int, ts: datetime, rows: list[tuple[tuple[int, str], Sample]]
    ) -> None:
        assert self.publish is not None
        try:
            await self.publish(plugin_id, ts, rows)
        except Exception:
            log.exception("publishing live values failed")

    def _counts(self) -> str:
        return (
            f"{self.stats.buffered} samples buffered (WRITER_BUFFER_MAX={self.buffer_max}), "
            f"{self.stats.dropped} dropped"
        )

    def _log_drops(self) -> None:
        """The first drop, then at most one line a minute: a long outage is a few lines."""
        logged, at = self._drops_logged
        now = time.monotonic()
        if logged and now - at < OUTAGE_REPORT_SECONDS:
            return
        self._drops_logged = (self.stats.dropped, now)
        log.warning(
            "metrics buffer full: dropping the oldest samples (%d since the last such line); %s",
            self.stats.dropped - logged,
            self._counts(),
        )

    def rolled_up(self, tier: str, until: datetime) -> None:
        """A roll-up tier is done up to `until` (maintenance in this process)."""
        self.store.marks[tier] = until

    def forget_plugin(self, plugin_id: int) -> None:
        self.series.forget_plugin(plugin_id)
        self.latest.forget_plugin(plugin_id)

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="metrics-writer")

    async def stop(self, deadline: float) -> None:
        """Flush what can be flushed within `deadline` seconds, then stop."""
        self._stopping = True
        self._wake.set()
        await drain(self._task, deadline)
        if unwritten := self.stats.buffered + self._taken:
            log.error(
                "stopped with %d samples unwritten: the database did not take them within "
                "the shutdown deadline (%gs)",
                unwritten,
                deadline,
            )

    async def flushed(self, within: float = 10.0) -> None:
        """Write everything submitted so far now, and wait for it (tests and benchmarks)."""
        self._hurry = True
        self._wake.set()
        await asyncio.wait_for(self._idle.wait(), within)

    # ----------------------------------------------------------------- consumer side
    async def _run(self) -> None:
        """Take batches, prepare them, store them: the two stages overlap.

        While one group's COPY and commit are in the database, the next group is prepared
        (series ids, records) on the loop, so Python and PostgreSQL work at the same time.
        """
        backoff = Backoff()
        storing: tuple[asyncio.Task[None], list[Batch], Prepared] | None = None
        while True:
            if not self._queue and storing is None:
                self._idle.set()
                self._hurry = False
                if self._stopping:
                    return
                await self._wake.wait()  # nothing to write: sleep until something comes
                self._wake.clear()
                continue
            batches: list[Batch] = []
            prepared = None
            if self._queue:
                # Let a batch fill up for about flush_seconds from its first sample; not while a
                # store is under way, when stopping or when there is enough already (submit()
                # wakes us then).
                wait = self._flush_wait()
                if (
                    storing is None
                    and not self._stopping
                    and not self._hurry
                    and self.stats.buffered < self.batch_size
                    and wait > 0
                ):
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), wait)
                self._wake.clear()
                batches = self._take()
            error: Exception | None = None
            if batches:
                try:
                    prepared = await self._prepare(batches)
                except Exception as exc:
                    error = exc
            requeue = [batches] if error is not None else []
            if storing is not None:
                task, stored, done = storing
                storing = None
                try:
                    await task
                except Exception as exc:
                    error = exc
                    requeue = [batches, stored]  # the older group ends up first
                else:
                    backoff.reset()
                    await self._committed(stored, done)
            if error is not None:  # the database is down or refused: keep the data, retry
                for group in requeue:
                    self._queue.extendleft(reversed(group))
                    back = sum(len(b.samples) for b in group)
                    self.stats.buffered += back
                    self._taken -= back
                self.stats.failures += 1
                self.stats.last_error = error_text(error)
                self.stats.last_error_at = datetime.now(UTC)
                delay = backoff.failed()
                self.outage.failed(error, delay)
                # Stopping: keep trying, briefly, until stop()'s deadline cancels us.
                await asyncio.sleep(min(delay, STOPPING_RETRY_SECONDS) if self._stopping else delay)
                continue
            if prepared is not None:
                storing = (asyncio.create_task(self._store(prepared)), batches, prepared)

    async def _store(self, p: Prepared) -> None:
        await self.store.store(p)
        self.stats.written += len(p.records)
        self.stats.discarded += p.discarded
        self.stats.batches += 1

    def _flush_wait(self) -> float:
        """Seconds until the flush: flush_seconds after the first sample.

        Moved earlier to the last shared instant (whole second + FLUSH_PHASE) before that,
        when there is one, so the flush comes with the other timers of that second.
        """
        left = self._first_at + self.flush_seconds - time.monotonic()
        aligned = until_next(1.0, FLUSH_PHASE)
        return aligned + math.floor(left - aligned) if aligned < left else left

    async def _committed(self, batches: list[Batch], done: Prepared) -> None:
        self._taken -= sum(len(b.samples) for b in batches)
        self.outage.recovered()
        self.stats.last_error = None
        self.stats.last_flush_at = datetime.now(UTC)
        for b in batches:
            b.written.set()
        if self.publish is not None:
            for plugin_id, ts, rows in done.committed:
                await self._publish_one(plugin_id, ts, rows)
                await asyncio.sleep(0)  # each event is encoded on the loop: let others in

    def _take(self) -> list[Batch]:
        taken: list[Batch] = []
        count = 0
        # SQLite has one write lock: long transactions would stall run records; no grouping there.
        limit = self.batch_size * (1 if self.db.is_sqlite else GROUP_BATCHES)
        while self._queue and (count == 0 or count + len(self._queue[0].samples) <= limit):
            b = self._queue.popleft()
            taken.append(b)
            count += len(b.samples)
        self.stats.buffered -= count
        self._taken += count
        return taken

    async def _prepare(self, batches: list[Batch]) -> Prepared:
        """Series ids and the rows to write (Python work; the database only for new series)."""
        await self.series.resolve(batches)
        records: list[tuple[int, datetime, float]] = []
        # A run split in pieces shares (plugin, ts): its record range, for repeated series.
        runs: dict[tuple[int, datetime], list[int]] = {}
        committed: list[Committed] = []
        discarded = n = 0
        latest: dict[int, int] = {}  # series -> index of its newest record
        newest: datetime | None = None
        oldest: datetime | None = None
        for b in batches:
            plugin_id, ts, samples = b.plugin_id, b.ts, b.samples
            refs = b.refs
            if None in refs:  # series of a plugin deleted meanwhile: nowhere to go
                kept = [(r, x) for r, x in zip(refs, samples, strict=True) if r is not None]
                discarded += len(samples) - len(kept)
                refs, samples = [r for r, _ in kept], [x for _, x in kept]
            if not samples:
                continue
            sids = [r[0] for r in refs]  # type: ignore[index]
            values = [float(x.value) for x in samples]
            first = len(records)
            placed = runs.setdefault((plugin_id, ts), [])
            if not placed and len(set(sids)) == len(sids):
                # The usual run: every series once. Whole-list operations, no per-sample code.
                records.extend(zip(sids, repeat(ts), values))
                placed.extend(range(first, len(records)))
                index: Iterable[int] = range(first, len(records))
            else:  # a series repeated within one run: the last value wins
                seen = {records[i][0]: i for i in placed}
                index = []
                for sid, value in zip(sids, values, strict=True):
                    i = seen.get(sid)
                    if i is None:
                        i = seen[sid] = len(records)
                        records.append((sid, ts, value))
                        placed.append(i)
                    else:
                        records[i] = (sid, ts, value)
                    index.append(i)
            if newest is None or ts >= newest:  # in order: this run is every series' newest
                newest = ts
                latest.update(zip(sids, index, strict=True))
            else:
                for sid, i in zip(sids, index, strict=True):
                    j = latest.get(sid)
                    if j is None or ts >= records[j][1]:
                        latest[sid] = i
            if not b.published:
                committed.append((plugin_id, ts, list(zip(refs, samples, strict=True))))  # type: ignore[arg-type]
            oldest = ts if oldest is None or ts < oldest else oldest
            n += len(samples)
            if n >= YIELD_EVERY:
                n = 0
                await asyncio.sleep(0)  # a 100,000-sample write must not hold the loop
        latest_rows = {sid: (records[j][1], records[j][2]) for sid, j in latest.items()}
        return Prepared(records, latest_rows, committed, discarded, oldest)
