"""The database probe: a `SELECT 1` in the background every DB_PROBE_SECONDS, so GET /health and
the request deadline know at once whether the database answers, whatever it does meanwhile.

Any statement that completes proves the same, so while the writer, the run recorder or the API
have had an answer within the last period the probe takes that as its check and sends nothing
(with a plugin at 1 s that saves a checkout, a query and a rollback every period; on SQLite each
is a hand-off to aiosqlite's thread and back). When the database stops answering, nothing
completes and the probe queries once nothing has for a period, so an outage shows as fast as
before.

The loop looks four times a period, so a check starts within a quarter period of the database's
last answer growing a period old, not up to a whole period later: with the writer answering every
second and `every` 2 s, a silent database shows as down 4-4.5 s after its last answer (it was up to
6 s when the loop only looked once a period).

`silent_since(t)` tells a request that has waited on the database whether anything has answered
since it began: the request deadline uses it to say 503 (the database is not answering) rather
than 504 for a statement that was already in flight when the database went silent."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlalchemy import event, text

from app.core.worker import CANCEL_GRACE_SECONDS, error_text
from app.db.session import Database

log = logging.getLogger(__name__)


class DatabaseProbe:
    def __init__(self, db: Database, every: float) -> None:
        self.db = db
        self.every = every
        self.ok: bool | None = None  # None until the first check has finished
        self.error: str | None = None
        self._checked_at: float | None = None
        self._check: asyncio.Task[None] | None = None
        self._check_started = 0.0
        self._task: asyncio.Task[None] | None = None
        self._answered_at: float | None = None  # the last statement that completed, any caller
        self._engines: list[Any] = []

    def _answered(self, *_args: Any) -> None:
        self._answered_at = time.monotonic()

    async def start(self) -> None:
        await self._tick()  # /health is right from the first request
        # A stand-in database (in tests) may have no engines: then the probe always queries.
        self._engines = getattr(self.db, "sync_engines", [])
        for engine in self._engines:
            event.listen(engine, "after_cursor_execute", self._answered)
        self._task = asyncio.create_task(self._loop(), name="database-probe")

    async def stop(self) -> None:
        for engine in self._engines:
            if event.contains(engine, "after_cursor_execute", self._answered):
                event.remove(engine, "after_cursor_execute", self._answered)
        live = {t for t in (self._task, self._check) if t is not None and not t.done()}
        for task in live:
            task.cancel()
        if live:
            # A check stuck on a silent socket may not end at once: do not wait for it long.
            await asyncio.wait(live, timeout=CANCEL_GRACE_SECONDS)

    @property
    def checked_seconds_ago(self) -> float | None:
        return None if self._checked_at is None else time.monotonic() - self._checked_at

    def down(self) -> bool:
        """The last check failed, or the one under way has waited its whole `every` already.

        A check slower than that is what "not answering" means; a merely slow answer on a loaded
        box (a second or so) is not an outage, and must not turn API reads into 503s.
        """
        if self.ok is False:
            return True
        running = self._check is not None and not self._check.done()
        return running and time.monotonic() - self._check_started > self.every

    def silent_since(self, since: float) -> bool:
        """The probe is waiting on a check, and nothing has answered since `since` (a request's
        start) nor for two periods.

        Two periods is as long as `down()` can take to say so (a check starts within a period
        and a quarter and gets a period to answer); this says it at two on the dot, whatever the
        loop's lag. A healthy database answers the check within a period and a quarter, and a
        stalled loop (no check under way) proves nothing about the database, so a merely slow
        request is not taken for a silent database.
        """
        if self._check is None or self._check.done():
            return False
        # A stand-in database (tests) has no engines: its checks are all that answers.
        answers = [t for t in (self._answered_at, self._checked_at if self.ok else None) if t]
        last = max(answers, default=0.0)
        return last < since and time.monotonic() - last > 2 * self.every

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every / 4)
            await self._tick()

    async def _tick(self) -> None:
        """Start a check if nothing has answered for a period; give it `every` seconds to answer.

        A check that does not answer in time counts as "down" but is left running (cancelling a
        query on a silent connection can itself hang); no second one starts beside it.
        """
        now = time.monotonic()
        if self._check is None or self._check.done():
            answered = self._answered_at
            if answered is not None and now - answered < self.every:
                self._record(True, None)  # a statement completed within the period
                self._checked_at = answered
                return
            if self._checked_at is not None and now - self._checked_at < self.every:
                return  # the last check is not a period old yet
            self._check = asyncio.create_task(self._one(), name="database-probe-check")
            self._check_started = now
        left = self._check_started + self.every - now
        done, _ = await asyncio.wait({self._check}, timeout=max(left, 0.0))
        if not done:
            self._record(False, f"no answer within {self.every:g} s")

    async def _one(self) -> None:
        try:
            async with self.db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            self._record(False, error_text(exc))
        else:
            self._record(True, None)

    def _record(self, ok: bool, error: str | None) -> None:
        self.ok, self.error, self._checked_at = ok, error, time.monotonic()
