"""SQLite writes of the background workers: a whole transaction per hand-off, in one thread.

Through aiosqlite every DBAPI call (cursor, execute, fetch, close, commit) is a hand-off to the
connection's thread and back, and each hand-back wakes the event loop: the metrics writer's
and the run recorder's transactions cost ~60 wake-ups a second with a plugin at 1 s, more CPU
on a VM than the statements themselves. Here the writer and the recorder hand over a function
of a synchronous connection instead; it runs in this module's one thread on its own
connection to the same file, and one call back to the loop settles it. Calls that queue while
a transaction runs go into the next one together (group commit). SQLite has one write lock, so
one writing thread loses nothing; the API and the readers keep the async pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.types import TypeEngine

T = TypeVar("T")
GATHER_SECONDS = 0.003  # how long the thread waits for more calls before it starts a transaction
Work = Callable[[Connection], Any]
# (work, the caller's future) or, to stop the thread, (None, a future set once it has stopped)
_Item = tuple[Work | None, "asyncio.Future[Any]"]


class SqliteWrites:
    """One thread and one connection that run whole write transactions for the event loop."""

    def __init__(self, url: URL, on_connect: Callable[[Any, Any], None]) -> None:
        # The same file through the standard library's driver (aiosqlite wraps it too).
        self.engine: Engine = create_engine(url.set(drivername="sqlite"), pool_size=1)
        event.listen(self.engine, "connect", on_connect)
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    async def run(self, work: Callable[[Connection], T]) -> T:
        """Run `work(conn)` in a transaction (committed after it returns) and give its result.

        `work` may share its transaction with other calls queued at the same time: it must not
        commit or roll back itself, and must be safe to run again (after another call's
        integrity error the others are run again without it).
        """
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="sqlite-writes", daemon=True)
            self._thread.start()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put((work, future))
        return await future

    async def close(self, within: float = 5.0) -> None:
        """Finish what is queued, close the connection and end the thread (if it started)."""
        if self._thread is None:
            self.engine.dispose()
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put((None, done))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(done), within)
        self._thread = None

    # ----------------------------------------------------------------- the thread
    def _serve(self) -> None:
        while True:
            group = [self._queue.get()]
            # The writer and the recorder flush at the same instant of each second: wait a
            # moment for the other, so both go in one transaction and one wake-up of the loop.
            until = time.monotonic() + GATHER_SECONDS
            with contextlib.suppress(queue.Empty):
                while group[-1][0] is not None:
                    group.append(self._queue.get(timeout=max(0.0, until - time.monotonic())))
            work = [item for item in group if item[0] is not None]
            if work:
                self._run_group(work)
            if group[-1][0] is None:  # asked to stop, after what was queued before
                self.engine.dispose()
                _settle([(group[-1][1], True, None)])
                return

    def _run_group(self, group: list[_Item]) -> None:
        pending = group
        while pending:
            failed: int | None = None
            values: list[Any] = []
            try:
                # begin(): committed even when every statement went straight to the driver
                with self.engine.connect() as conn, conn.begin():
                    for i, (work, _) in enumerate(pending):
                        assert work is not None
                        try:
                            values.append(work(conn))
                        except IntegrityError:
                            failed = i
                            raise
            except Exception as exc:
                if failed is not None and len(pending) > 1:
                    # One caller's rows do not fit (its plugin was deleted): the others' may,
                    # so they go again, in a transaction of their own.
                    _settle([(pending[failed][1], False, exc)])
                    pending = pending[:failed] + pending[failed + 1 :]
                    continue
                _settle([(fut, False, exc) for _, fut in pending])
                return
            _settle([(fut, True, v) for (_, fut), v in zip(pending, values, strict=True)])
            return


def executemany(conn: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """The driver's own executemany, for the hot statements of each flush.

    SQLAlchemy's execution of a statement costs ~0.2 ms of CPU beyond SQLite's own work (a
    metrics flush of 25 values: 0.8 ms against 0.2 ms straight to the driver). Values must be
    ready for the driver (`bind` gives a column type's converter); the engine's cursor events
    still fire, so the database probe and the tests see these statements.
    """
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    dispatch = conn.dispatch
    if dispatch.before_cursor_execute:
        for fn in dispatch.before_cursor_execute:
            fn(conn, cursor, sql, rows, None, True)
    base = conn.dialect.loaded_dbapi.Error
    try:
        cursor.executemany(sql, rows)
    except base as exc:  # as SQLAlchemy raises it: IntegrityError, OperationalError, ...
        raise DBAPIError.instance(sql, rows, exc, base, hide_parameters=True, ismulti=True) from exc
    finally:
        cursor.close()
    if dispatch.after_cursor_execute:
        for fn in dispatch.after_cursor_execute:
            fn(conn, cursor, sql, rows, None, True)


def bind(conn: Connection, type_: TypeEngine[Any]) -> Callable[[Any], Any]:
    """A column type's value converter for this driver (how SQLAlchemy would store it)."""
    processor = type_.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return processor or (lambda value: value)


def _settle(outcomes: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    """Hand results back to the loop: one call for the whole group, so one wake-up."""

    def apply() -> None:
        for fut, ok, value in outcomes:
            if fut.done():  # the caller was cancelled (a stop deadline) meanwhile
                continue
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)

    loop = outcomes[0][0].get_loop()
    with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
        loop.call_soon_threadsafe(apply)
