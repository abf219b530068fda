"""Sessions on PostgreSQL: live pooled connections without a ping per checkout, cheap reads."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db import session as db_session
from app.db.session import Database

pytestmark = pytest.mark.postgres


def database(pg_url: str) -> Database:
    return Database(make_url(pg_url).set(drivername="postgresql+asyncpg"))


async def backend_pid(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int(await conn.scalar(text("SELECT pg_backend_pid()")))


async def test_a_connection_the_server_closed_is_replaced_not_handed_out(pg_url: str) -> None:
    db, admin = database(pg_url), database(pg_url)
    try:
        pid = await backend_pid(db)
        assert await backend_pid(db) == pid  # reused from the pool, as expected
        async with admin.engine.connect() as conn:
            assert await conn.scalar(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        await asyncio.sleep(0.2)  # the server's goodbye reaches the idle connection's socket
        # No error for the caller: the closed connection is dropped and a new one is made.
        assert await backend_pid(db) != pid
    finally:
        await db.dispose()
        await admin.dispose()


async def test_busy_connections_are_not_pinged_and_idle_ones_are(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection as Adapted

    db = database(pg_url)
    pings = 0
    real = Adapted.ping

    def counting_ping(self: Adapted) -> None:
        nonlocal pings
        pings += 1
        real(self)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(Adapted, "ping", counting_ping)
    try:
        await backend_pid(db)
        for _ in range(3):
            await backend_pid(db)
        assert pings == 0
        monkeypatch.setattr(db_session, "PING_AFTER_IDLE_SECONDS", 0.0)
        await backend_pid(db)
        assert pings == 1
    finally:
        await db.dispose()


async def test_read_only_sessions_run_outside_a_transaction(pg_url: str) -> None:
    db = database(pg_url)
    try:
        for read_only, in_transaction in ((True, False), (False, True)):
            async with db.session(read_only=read_only) as session:
                await session.execute(text("SELECT 1"))
                raw = await (await session.connection()).get_raw_connection()
                assert raw.driver_connection.is_in_transaction() is in_transaction
    finally:
        await db.dispose()


async def test_the_timeout_settings_reach_the_server_and_the_pool(pg_url: str, tmp_path) -> None:
    from tests.conftest import make_settings

    settings = make_settings(
        pg_url, tmp_path, db_statement_timeout_seconds=7.5, db_pool_timeout_seconds=1.5
    )
    db = Database(settings.db_url, timeouts=settings.db_timeouts)
    try:
        async with db.engine.connect() as conn:
            assert await conn.scalar(text("SHOW statement_timeout")) == "7500ms"
        assert db.engine.pool.timeout() == 1.5  # type: ignore[attr-defined]
    finally:
        await db.dispose()


async def test_a_statement_past_the_timeout_is_cancelled_by_the_server(pg_url: str) -> None:
    from app.core.config import DbTimeouts

    url = make_url(pg_url).set(drivername="postgresql+asyncpg")
    db = Database(url, timeouts=DbTimeouts(statement=0.2))
    try:
        async with db.engine.connect() as conn:
            with pytest.raises(Exception, match="statement timeout"):
                await conn.execute(text("SELECT pg_sleep(30)"))
    finally:
        await db.dispose()


async def test_sqlite_waits_for_its_lock_as_long_as_the_setting_says(tmp_path) -> None:
    from app.core.config import DbTimeouts

    url = make_url(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    db = Database(url, timeouts=DbTimeouts(sqlite_busy=1.25))
    try:
        async with db.engine.connect() as conn:
            assert await conn.scalar(text("PRAGMA busy_timeout")) == 1250
    finally:
        await db.dispose()
