"""Leader election: the PostgreSQL advisory lock that lets one replica's scheduler run plugins."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core.config import Settings
from app.core.worker import CANCEL_GRACE_SECONDS, Outage
from app.db.session import Database, is_unavailable

log = logging.getLogger(__name__)

LEADER_LOCK_ID = 0x756E6974_0002  # "unit" + 2: the scheduler leadership lock
# The leader hears at once when its lock's connection closes (a termination listener); this
# slower check is for a connection that went silent without closing.
LEADER_CHECK_SECONDS = 15.0


class LeaderElection:
    """Standby replicas retry the advisory lock; the leader keeps checking it still holds it.

    The lock lives as long as one dedicated connection, so holding it needs no heartbeat table
    and a replica killed with -9 loses it the moment PostgreSQL notices the connection is gone.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        on_elected: Callable[[], Awaitable[None]],
        on_lost: Callable[[str], Awaitable[None]],
        is_leader: Callable[[], bool],
    ) -> None:
        self.db = db
        self.settings = settings
        self._on_elected = on_elected
        self._on_lost = on_lost
        self._is_leader = is_leader
        self._conn: AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock_lost = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._elect(), name="scheduler-election")

    async def stop(self) -> None:
        """Stop competing; the lock itself is held until `release` (after runs are wound up)."""
        if self._task:
            self._task.cancel()
            # A check on a silent connection may not end at once: do not wait for it long.
            await asyncio.wait({self._task}, timeout=CANCEL_GRACE_SECONDS)

    async def release(self) -> None:
        await self._release()

    async def _elect(self) -> None:
        while True:
            try:
                if not self._is_leader():
                    if await self._try_lock():
                        await self._on_elected()
                elif self._conn is None:
                    raise ConnectionError("the leader lock's connection is gone")
                else:
                    await self._conn.execute(text("SELECT 1"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The lock's connection broke (database restart or outage). Keep running jobs:
                # nobody else can run them while the database is unreachable, and samples are
                # buffered. Re-acquire as soon as it answers again; step down if someone else won.
                await self._release()
                if self._is_leader():
                    try:
                        if not await self._try_lock():
                            await self._on_lost("another replica took the scheduler lock")
                    except Exception:
                        log.debug("database still unreachable for the leader lock: %s", exc)
            if self._is_leader() and self._conn is not None:
                wait = max(LEADER_CHECK_SECONDS, self.settings.leader_retry_seconds)
            else:
                wait = self.settings.leader_retry_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lock_lost.wait(), wait)
            self._lock_lost.clear()

    async def _try_lock(self) -> bool:
        if self._conn is None:
            self._conn = conn = await self.db.engine.connect()

            def closed(_driver: Any) -> None:
                if self._conn is conn:  # not when _release closed it on purpose
                    self._lock_lost.set()

            # asyncpg calls this when the server or the network closes the connection.
            driver = (await conn.get_raw_connection()).driver_connection
            if driver is not None:
                driver.add_termination_listener(closed)
        got = await self._conn.scalar(
            text("SELECT pg_try_advisory_lock(:id)"), {"id": LEADER_LOCK_ID}
        )
        await self._conn.commit()
        return bool(got)

    async def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        # Closing the session releases the advisory lock; a connection already gone took it along.
        for step in (conn.invalidate, conn.close):
            try:
                await step()
            except Exception as exc:
                log.debug("releasing the leader lock's connection: %s", exc)


def leader_job(
    name: str, func: Callable[[], Awaitable[Any]], seconds: int
) -> Callable[[], Awaitable[None]]:
    """A periodic job of the leader's, guarded: while the database is away it fails at each
    turn, and that is an outage of a few log lines (Outage), not a traceback per turn; other
    failures still raise to the log."""
    outage = Outage(log, f"the {name} job", lambda: f"it runs again every {seconds}s")

    async def guarded() -> None:
        try:
            await func()
        except asyncio.CancelledError:
            log.info("the %s job was cut short by the shutdown", name)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            outage.failed(exc)
        else:
            outage.recovered()

    return guarded


def job_row(job: Any) -> dict[str, Any]:
    """An APScheduler job as the scheduler API shows it."""
    interval = getattr(job.trigger, "interval", None)
    return {
        "id": job.id,
        "name": job.name,
        "next_run_at": job.next_run_time,
        "interval_seconds": interval.total_seconds() if interval else None,
    }
