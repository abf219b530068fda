"""The database probe: a `SELECT 1` in the background every DB_PROBE_SECONDS, so GET /health and
the request deadline know at once whether the database answers, whatever it does meanwhile.

Any statement that completes proves the same, so while the writer, the run recorder or the API
have had an answer within the last period the probe takes that as its check and sends nothing
(with a plugin at 1 s that saves a checkout, a query and a rollback every period; on SQLite each
is a hand-off to aiosqlite's thread and back). When the database stops answering, nothing
completes and the probe queries again, so an outage shows as fast as before."""

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

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            await self._tick()

    async def _tick(self) -> None:
        """Start a check unless one is still running; give it `every` seconds to answer.

        A check that does not answer in time counts as "down" but is left running (cancelling a
        query on a silent connection can itself hang); no second one starts beside it.
        """
        if self._check is None or self._check.done():
            answered = self._answered_at
            if answered is not None and time.monotonic() - answered < self.every:
                self._record(True, None)  # a statement completed within the period
                self._checked_at = answered
                return
            self._check = asyncio.create_task(self._one(), name="database-probe-check")
            self._check_started = time.monotonic()
        done, _ = await asyncio.wait({self._check}, timeout=self.every)
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
