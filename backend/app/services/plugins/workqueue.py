"""The run queue on Redis Streams: the leader enqueues due runs, `python -m app worker` runs them.

One stream (`RUN_QUEUE_KEY`) with one consumer group (`workers`). An entry is `(plugin id, due
time, the row's version)`. Workers claim entries with XREADGROUP, acknowledge them with XACK
once the run's records are saved, and take over with XAUTOCLAIM the entries of a worker that
stopped answering for `RUN_CLAIM_TIMEOUT_SECONDS`. A hash (`<key>:done`) holds, per plugin, the
due times that ran lately: a delivery of one of them is a duplicate and is dropped, so a run
happens at most once per due time.

With Redis unreachable the leader runs plugins in its own process (one log line when it starts,
one when Redis answers again); nothing is queued that no worker would see.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.core.config import Settings
from app.core.worker import Backoff, error_text

log = logging.getLogger(__name__)

GROUP = "workers"
SOCKET_TIMEOUT_SECONDS = 5.0  # above the workers' XREADGROUP block, below any claim timeout
CONNECT_TIMEOUT_SECONDS = 2.0
WORKERS_LOOK_SECONDS = 30.0  # how often the leader checks that some worker takes the runs

KEEP_DONE = 16  # due times remembered per plugin: older deliveries count as done
# Add each (plugin, due) pair given to the plugin's done list: its newest KEEP_DONE due times,
# comma-separated, oldest first. Exact per due time, so a taken-over run still runs after the
# plugin's next due time ran elsewhere.
MARK_DONE = """
local keep = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  local list = {}
  if cur then
    for d in string.gmatch(cur, '[^,]+') do list[#list + 1] = tonumber(d) end
  end
  list[#list + 1] = tonumber(ARGV[i + 1])
  table.sort(list)
  while #list > keep do table.remove(list, 1) end
  for j = 1, #list do list[j] = string.format('%d', list[j]) end
  redis.call('HSET', KEYS[1], ARGV[i], table.concat(list, ','))
end
return 1
"""


def ran_already(mark: str | None, due_ms: int) -> bool:
    """Whether a plugin's done list (see MARK_DONE) says this due time ran."""
    if not mark:
        return False
    dues = [int(d) for d in mark.split(",") if d]
    return due_ms in dues or (len(dues) >= KEEP_DONE and due_ms < dues[0])


def client(settings: Settings) -> Any:
    """A Redis client whose calls fail fast: a dead Redis must cost a run seconds, not minutes."""
    import redis.asyncio as aioredis  # only where used (house style 15)
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    assert settings.redis_url is not None
    return aioredis.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),  # our loops retry with backoff and say so
    )


def done_key(settings: Settings) -> str:
    return done_key_for(settings.run_queue_key)


def done_key_for(stream: str) -> str:
    """The hash of each plugin's latest due times that ran, beside its stream."""
    return f"{stream}:done"


def to_ms(when: datetime) -> int:
    return round(when.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


@dataclass(frozen=True, slots=True)
class Entry:
    """One due run, as it travels on the stream."""

    id: str  # the stream entry's id
    plugin_id: int
    due_ms: int
    version: str  # the row's updated_at (ISO 8601) when it was enqueued; "" if unknown

    @classmethod
    def parse(cls, entry_id: str, fields: dict[str, str]) -> Entry | None:
        try:
            return cls(entry_id, int(fields["p"]), int(fields["d"]), fields.get("v", ""))
        except (KeyError, TypeError, ValueError):
            return None


def fields_of(plugin_id: int, due: datetime, version: datetime | None) -> dict[str, str]:
    return {
        "p": str(plugin_id),
        "d": str(to_ms(due)),
        "v": version.isoformat() if version is not None else "",
    }


class RunQueue:
    """The leader's side: `enqueue` hands a due run to the workers, or says it could not.

    Runs due in the same moment go to Redis in one pipeline. While Redis is unreachable,
    `enqueue` answers False at once (the caller runs the plugin itself) and Redis is tried
    again after a backoff.
    """

    def __init__(
        self,
        settings: Settings,
        redis: Any = None,
        on_fallback: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self._redis = redis
        # Called when runs come back to this process: what it remembers of them (health) is
        # older than what the workers wrote meanwhile.
        self.on_fallback = on_fallback
        self._next_look = time.monotonic() + WORKERS_LOOK_SECONDS
        self._looking: asyncio.Task[None] | None = None
        self.idle_warned = False
        self._batch: list[tuple[dict[str, str], asyncio.Future[bool]]] = []
        self._flushing: asyncio.Task[None] | None = None
        self._backoff = Backoff()
        self._retry_at = 0.0  # monotonic; while in the future, Redis is considered down
        self.down_since: float | None = None
        self.error: str | None = None
        self.enqueued = 0
        self.in_process = 0  # runs done here because Redis was unreachable

    @property
    def down(self) -> bool:
        return self.down_since is not None

    async def enqueue(self, plugin_id: int, due: datetime, version: datetime | None) -> bool:
        """True once the run is on the stream; False if the caller must run it itself."""
        if self.down and time.monotonic() < self._retry_at:
            self.in_process += 1
            return False
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._batch.append((fields_of(plugin_id, due, version), future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush(), name="run-queue-flush")
        ok = await future
        if not ok:
            self.in_process += 1
        return ok

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the runs due in this same moment join the batch
        while self._batch:
            batch, self._batch = self._batch, []
            ok = await self._send([fields for fields, _ in batch])
            for _, future in batch:
                if not future.done():
                    future.set_result(ok)

    async def _send(self, entries: list[dict[str, str]]) -> bool:
        if self.down and time.monotonic() < self._retry_at:
            return False
        try:
            if self._redis is None:
                self._redis = client(self.settings)
            pipe = self._redis.pipeline(transaction=False)
            for fields in entries:
                pipe.xadd(
                    self.settings.run_queue_key,
                    fields,
                    maxlen=self.settings.run_queue_max_length,
                    approximate=True,
                )
            await pipe.execute()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.error = error_text(exc)
            self._retry_at = time.monotonic() + self._backoff.failed()
            if self.down_since is None:
                self.down_since = time.monotonic()
                if self.on_fallback is not None:
                    self.on_fallback()
                log.warning(
                    "run queue unreachable (%s): running plugins in this process until Redis "
                    "answers again",
                    self.error,
                )
            return False
        self.enqueued += len(entries)
        if time.monotonic() >= self._next_look and (self._looking is None or self._looking.done()):
            self._next_look = time.monotonic() + WORKERS_LOOK_SECONDS
            self._looking = asyncio.create_task(self._look_for_workers(), name="run-queue-look")
        if self.down_since is not None:
            log.warning(
                "run queue reachable again after %.0fs: runs go to the workers "
                "(%d ran in this process meanwhile)",
                time.monotonic() - self.down_since,
                self.in_process,
            )
            self.down_since, self.error = None, None
            self._backoff.reset()
        return True

    async def _look_for_workers(self) -> None:
        """Say so (once, until one shows up) when runs are queued and no worker takes them."""
        try:
            consumers = await self._redis.xinfo_consumers(self.settings.run_queue_key, GROUP)
        except Exception as exc:  # no group yet: no worker ever started
            log.debug("no consumer group: %s", exc)
            consumers = []
        window_ms = max(self.settings.run_claim_timeout_seconds, WORKERS_LOOK_SECONDS) * 1000
        alive = [c for c in consumers if int(c.get("idle", window_ms)) < window_ms]
        if alive:
            self.idle_warned = False
        elif not self.idle_warned:
            self.idle_warned = True
            log.warning(
                "runs are queued (RUN_WORKERS=true) but no worker has taken any for %.0fs: "
                "start `python -m app worker`, or set RUN_WORKERS=false to run them here",
                window_ms / 1000,
            )

    def summary(self) -> dict[str, Any]:
        return {
            "queue": "redis",
            "enqueued": self.enqueued,
            "ran_in_process": self.in_process,
            "queue_error": self.error,
        }

    async def close(self) -> None:
        for task in (self._flushing, self._looking):
            if task is not None and not task.done():
                task.cancel()
        for _, future in self._batch:
            if not future.done():
                future.set_result(False)
        self._batch = []
        if self._redis is not None:
            try:
                await asyncio.wait_for(self._redis.aclose(), 1)
            except Exception as exc:  # closing a dead connection: nothing to keep
                log.debug("closing the run queue's connection: %s", exc)
