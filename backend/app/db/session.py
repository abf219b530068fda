"""Engine and session factory for the configured database (PostgreSQL or the SQLite default)."""

from __future__ import annotations

import errno
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session

from app.core.config import DbTimeouts
from app.db.sqlite_writes import SqliteWrites


def _sqlite_pragmas(busy_ms: int) -> Callable[[Any, Any], None]:
    def apply(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")  # first: it governs the ones below
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return apply


# A pooled connection idle at least this long is pinged before use; a busy one is not.
PING_AFTER_IDLE_SECONDS = 30.0


def _checked_in(_dbapi_conn: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _check_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    """Hand out only live connections, without a round trip per request.

    pool_pre_ping would cost three (asyncpg's ping is BEGIN; ";"; ROLLBACK) on every checkout,
    more than many of our queries. asyncpg keeps reading its socket, so a connection the server
    closed (restart, idle timeout) already knows it is closed; one idle for long is pinged.
    """
    driver = record.driver_connection
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the database closed this connection")
    idle = time.monotonic() - record.info.get("idle_since", time.monotonic())
    if idle >= PING_AFTER_IDLE_SECONDS:
        try:
            dbapi_conn.ping()
        except Exception as exc:
            raise DisconnectionError(str(exc)) from exc


# The client gives up this long after the server's statement_timeout, so a live server's own
# clear error comes first and only a silent one is cut off by the client.
CLIENT_GRACE_SECONDS = 5.0


def make_engine(url: URL, *, echo: bool = False, timeouts: DbTimeouts | None = None) -> AsyncEngine:
    t = timeouts or DbTimeouts()
    if url.get_backend_name() == "sqlite":
        # The lock wait is set once, by PRAGMA busy_timeout on each new connection.
        engine = create_async_engine(url, echo=echo)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(int(t.sqlite_busy * 1000)))
        return engine
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=10,
        max_overflow=10,
        pool_timeout=t.pool,
        # A dead or silent database must fail fast, not hang requests and plugin runs.
        connect_args={
            "timeout": t.connect,
            "command_timeout": t.statement + CLIENT_GRACE_SECONDS,
            "server_settings": {"statement_timeout": str(int(t.statement * 1000))},
        },
    )
    # The pool retries a checkout that raises DisconnectionError with a fresh connection.
    event.listen(engine.sync_engine.pool, "checkin", _checked_in)
    event.listen(engine.sync_engine.pool, "checkout", _check_out)
    return engine


class Database:
    """The engine plus its session factory; created and disposed by the app's lifespan."""

    def __init__(self, url: URL, *, echo: bool = False, timeouts: DbTimeouts | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo, timeouts=timeouts)
        # SQLite: the metrics writer's and the run recorder's transactions, one hand-off each.
        self.writes: SqliteWrites | None = None
        if self.is_sqlite:
            busy_ms = int((timeouts or DbTimeouts()).sqlite_busy * 1000)
            self.writes = SqliteWrites(url, _sqlite_pragmas(busy_ms))
        # This database's own Session class, so session events (after_commit_changing) are
        # listened for per app rather than process-wide.
        self.session_class: type[Session] = type("UnitySession", (Session,), {})
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=self.session_class
        )
        # For reads: no BEGIN and ROLLBACK round trips around them. Under READ COMMITTED each
        # statement takes its own snapshot inside a transaction too, so reads see the same data.
        self.read_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.read_sessionmaker = async_sessionmaker(
            self.read_engine,
            expire_on_commit=False,
            sync_session_class=self.session_class,
        )

    def after_commit_changing(
        self,
        callback: Callable[[], None],
        *,
        changed: tuple[type, ...] = (),
        deleted: tuple[type, ...] = (),
    ) -> None:
        """Call `callback` after each commit, through this database's sessions, that changed an
        instance of a class in `changed` or deleted one of `changed + deleted`. Bulk UPDATE and
        DELETE statements on those classes count too. In-memory caches use this to forget
        what a commit made stale."""
        key = object()  # this watch's mark in session.info
        watched = changed + deleted

        def after_flush(session: Session, _context: Any) -> None:
            if any(isinstance(o, changed) for o in session.dirty) or any(
                isinstance(o, watched) for o in session.deleted
            ):
                session.info[key] = True

        def do_orm_execute(state: ORMExecuteState) -> None:
            mapper = state.bind_mapper
            if (state.is_update or state.is_delete) and mapper and mapper.class_ in watched:
                state.session.info[key] = True

        def after_commit(session: Session) -> None:
            if session.info.pop(key, False):
                callback()

        event.listen(self.session_class, "after_flush", after_flush)
        event.listen(self.session_class, "do_orm_execute", do_orm_execute)
        event.listen(self.session_class, "after_commit", after_commit)
        event.listen(self.session_class, "after_rollback", lambda s: s.info.pop(key, None))

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def sync_engines(self) -> list[Engine]:
        """Every engine statements go through (for event listeners: the probe, tests)."""
        return [self.engine.sync_engine] + ([self.writes.engine] if self.writes else [])

    @asynccontextmanager
    async def session(self, *, read_only: bool = False) -> AsyncIterator[AsyncSession]:
        """A session; `read_only` ones autocommit each statement (use them only to read)."""
        async with (self.read_sessionmaker if read_only else self.sessionmaker)() as session:
            yield session

    async def dispose(self) -> None:
        if self.writes is not None:
            await self.writes.close()
        await self.engine.dispose()


async def asyncpg_of(conn: AsyncConnection) -> Any:
    """The asyncpg connection under a PostgreSQL connection, for COPY and prepared statements."""
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    return driver


# Socket errors that mean "the database host is not there" rather than a bug.
_UNREACHABLE_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ETIMEDOUT,
        errno.EPIPE,
    }
)


def _unavailable_one(exc: BaseException) -> bool:
    from sqlalchemy import exc as sa

    if isinstance(exc, TimeoutError | ConnectionError | socket.gaierror | sa.TimeoutError):
        return True  # a connect, checkout or statement that did not answer in time; refused
    if isinstance(exc, OSError):
        return exc.errno in _UNREACHABLE_ERRNOS
    if isinstance(exc, sa.DisconnectionError):
        return True
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa.OperationalError | sa.InterfaceError):
        return True  # SQLite locked or busy; a connection the driver found closed
    # Without PostgreSQL asyncpg was never imported, so no error can be one of its own.
    asyncpg = sys.modules.get("asyncpg")
    return asyncpg is not None and isinstance(
        exc,
        asyncpg.PostgresConnectionError  # refused, lost, CannotConnectNow (starting up)
        | asyncpg.InterfaceError  # the connection closed in the middle of an operation
        | asyncpg.exceptions.OperatorInterventionError  # shutdown, statement timeout
        | asyncpg.exceptions.InsufficientResourcesError,  # too many connections, disk full
    )


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` (or what it wraps) means the database is away, refusing or too slow:
    the caller should answer 503 and retry later, not report a bug."""
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if _unavailable_one(e):
            return True
        todo.extend(x for x in (getattr(e, "orig", None), e.__cause__) if x is not None)
    return False
