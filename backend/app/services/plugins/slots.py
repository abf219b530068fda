"""Slot jobs: one APScheduler job per (interval, whole-second phase) starts all of its plugins.

APScheduler's cost is per job firing (the wake-up, the next fire time, the job store update, a
task per job): at 10,000 instances every 10 s that was 1,000 firings a second and ~15-20 % of the
process's samples. Instances that share an interval and a phase are due at the same instant
anyway, so one job per such slot starts all of them; each member still gets its own run, its own
start lateness, its own lock (a run still going makes its plugin skip the slot, as
`max_instances=1` did per plugin), and the slot job keeps `coalesce` and the misfire grace.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
PREFIX = "slot:"
# Runs a slot starts before it lets the loop turn once (their sockets' events, the API, the
# writer): a thousand runs due together do not hold the loop for one long stretch.
RAMP = 250

Slot = tuple[int, int]  # (interval seconds, phase: seconds after each whole interval)


def phase(plugin_id: int, interval: int) -> int:
    """A fixed start offset per plugin, so instances with one interval don't all fire at once.

    Offsets are whole seconds: the instances sharing a second start together and the process
    wakes once a second for all of them, not once per instance (each wake-up of an idle box
    costs more CPU than a loopback check). Spread over `interval` slots, no slot is a herd.
    """
    return plugin_id * 7919 % interval


def last_due(slot: Slot, now: datetime) -> datetime:
    """The slot's fire time that `now` belongs to: the latest one, or the next one when `now`
    is less than half an interval before it (a timer firing a little early is not late)."""
    interval, offset = slot
    elapsed = (now - EPOCH).total_seconds() - offset
    return EPOCH + timedelta(seconds=offset + math.floor(elapsed / interval + 0.5) * interval)


def slot_id(slot: Slot) -> str:
    return f"{PREFIX}{slot[0]}:{slot[1]}"


class Slots:
    """The plugins of each slot, its APScheduler job, and the scheduled runs still going."""

    def __init__(
        self,
        scheduler: AsyncIOScheduler,
        start_run: Callable[[int, datetime], Coroutine[Any, Any, None]],
    ) -> None:
        self.scheduler = scheduler
        self._start_run = start_run
        self._members: dict[Slot, dict[int, str]] = {}  # slot -> {plugin id: name}
        self._slot_of: dict[int, Slot] = {}
        self.running: dict[int, asyncio.Task[None]] = {}  # plugin id -> its scheduled run

    def __contains__(self, plugin_id: object) -> bool:
        return plugin_id in self._slot_of

    def slot_of(self, plugin_id: int) -> Slot | None:
        return self._slot_of.get(plugin_id)

    def add(self, plugin_id: int, name: str, interval: int) -> None:
        slot = (interval, phase(plugin_id, interval))
        if self._slot_of.get(plugin_id) != slot:
            self.remove(plugin_id)
        members = self._members.get(slot)
        if members is None:
            members = self._members[slot] = {}
            self.scheduler.add_job(
                self._fire,
                IntervalTrigger(
                    seconds=interval, start_date=EPOCH + timedelta(seconds=slot[1]), timezone=UTC
                ),
                args=[slot],
                id=slot_id(slot),
                name=f"plugins every {interval} s at +{slot[1]} s",
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(1, interval),
            )
        members[plugin_id] = name
        self._slot_of[plugin_id] = slot

    def remove(self, plugin_id: int) -> None:
        slot = self._slot_of.pop(plugin_id, None)
        if slot is None:
            return
        members = self._members.get(slot, {})
        members.pop(plugin_id, None)
        if not members:
            self._members.pop(slot, None)
            if self.scheduler.get_job(slot_id(slot)) is not None:
                self.scheduler.remove_job(slot_id(slot))

    def clear(self) -> None:
        """Forget every slot (the scheduler's jobs were removed with it: a leader stepping down)."""
        self._members.clear()
        self._slot_of.clear()

    def rows(self) -> list[dict[str, Any]]:
        """Each slot job, then each of its plugins with the slot's next run, for the API."""
        out: list[dict[str, Any]] = []
        for slot, members in sorted(self._members.items()):
            job = self.scheduler.get_job(slot_id(slot))
            due = job.next_run_time if job is not None else None
            every = float(slot[0])
            out.append(
                {
                    "id": slot_id(slot),
                    "name": f"{len(members)} plugin(s) every {slot[0]} s at +{slot[1]} s",
                    "next_run_at": due,
                    "interval_seconds": every,
                }
            )
            out += [
                {"id": f"plugin:{i}", "name": name, "next_run_at": due, "interval_seconds": every}
                for i, name in members.items()
            ]
        return out

    async def _fire(self, slot: Slot) -> None:
        """Start a run for each member of the slot that has none going."""
        due = last_due(slot, datetime.now(UTC))
        busy: list[int] = []
        for n, plugin_id in enumerate(list(self._members.get(slot, ()))):
            if n and n % RAMP == 0:
                try:
                    await asyncio.sleep(0)
                except asyncio.CancelledError:  # the shutdown: the rest do not start
                    log.info("slot %s cut short by the shutdown", slot_id(slot))
                    return
                if plugin_id not in self._members.get(slot, ()):
                    continue  # unscheduled meanwhile
            if plugin_id in self.running:
                busy.append(plugin_id)
                continue
            task = asyncio.create_task(self._start_run(plugin_id, due))
            self.running[plugin_id] = task
            task.add_done_callback(partial(self._done, plugin_id))
        if busy:
            log.info(
                "%d scheduled run(s) skipped: the previous run is still going (plugins %s)",
                len(busy),
                ", ".join(map(str, busy[:10])) + (", …" if len(busy) > 10 else ""),
            )

    def _done(self, plugin_id: int, task: asyncio.Task[None]) -> None:
        if self.running.get(plugin_id) is task:
            del self.running[plugin_id]
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("scheduled run failed: %r", exc, exc_info=exc, extra={"plugin_id": plugin_id})
