"""The writers' thread on SQLite: whole transactions, shared by calls that come together, and
one caller's broken rows never costing the others theirs."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Column, Connection, Integer, MetaData, Table, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from app.db.session import Database
from app.db.sqlite_writes import bind, executemany
from app.models.base import UTCDateTime


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "w.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    database = Database(make_url(f"sqlite+aiosqlite:///{path}"))
    yield database
    await database.dispose()


def rows(db: Database) -> list[tuple[int, str]]:
    path = db.url.database
    assert path
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT id, v FROM t ORDER BY id").fetchall()


def insert(*pairs: tuple[int, str]) -> Callable[[Connection], str]:
    def work(conn: Connection) -> str:
        for i, v in pairs:
            conn.execute(text("INSERT INTO t (id, v) VALUES (:i, :v)"), {"i": i, "v": v})
        return threading.current_thread().name

    return work


async def test_a_call_is_committed_in_the_writers_thread(db: Database) -> None:
    assert db.writes is not None
    thread = await db.writes.run(insert((1, "a")))
    assert thread == "sqlite-writes" != threading.current_thread().name
    assert rows(db) == [(1, "a")]


async def test_a_failing_call_leaves_nothing_behind(db: Database) -> None:
    assert db.writes is not None

    def half_then_fail(conn: Connection) -> None:
        conn.execute(text("INSERT INTO t (id, v) VALUES (1, 'a')"))
        conn.execute(text("INSERT INTO nowhere VALUES (1)"))

    with pytest.raises(OperationalError):
        await db.writes.run(half_then_fail)
    assert rows(db) == []
    await db.writes.run(insert((2, "b")))
    assert rows(db) == [(2, "b")]


async def test_calls_made_together_share_a_transaction_and_a_bad_one_fails_alone(
    db: Database,
) -> None:
    """Three callers at once (in one transaction, unless the thread started before all came);
    the second's row conflicts with one already stored. It gets the integrity error; the first's
    and the third's rows are written all the same."""
    assert db.writes is not None
    await db.writes.run(insert((5, "stored")))
    results = await asyncio.gather(
        db.writes.run(insert((1, "a"), (2, "b"))),
        db.writes.run(insert((3, "c"), (5, "clash"))),
        db.writes.run(insert((4, "d"))),
        return_exceptions=True,
    )
    assert isinstance(results[1], IntegrityError)
    assert results[0] == results[2] == "sqlite-writes"
    assert rows(db) == [(1, "a"), (2, "b"), (4, "d"), (5, "stored")]


async def test_driver_statements_store_what_sqlalchemy_stores_and_are_seen_by_listeners(
    db: Database,
) -> None:
    """The hot path's executemany: values converted by the column type, cursor events fired."""
    assert db.writes is not None
    seen: list[str] = []
    event.listen(db.writes.engine, "after_cursor_execute", lambda *a: seen.append(a[2]))
    table = Table(
        "t", MetaData(), Column("id", Integer, primary_key=True), Column("v", UTCDateTime)
    )
    ts = datetime(2026, 12, 5, 1, 2, 3, 456789, tzinfo=UTC)

    def work(conn: Connection) -> None:
        executemany(
            conn, "INSERT INTO t (id, v) VALUES (?, ?)", [(1, bind(conn, UTCDateTime())(ts))]
        )
        conn.execute(table.insert(), {"id": 2, "v": ts})  # as SQLAlchemy stores it

    await db.writes.run(work)
    stored = rows(db)
    assert stored[0][1] == stored[1][1] == "2026-12-05 01:02:03.456789"
    assert "INSERT INTO t (id, v) VALUES (?, ?)" in seen

    def clash(conn: Connection) -> None:
        executemany(conn, "INSERT INTO t (id, v) VALUES (?, ?)", [(3, "x"), (1, "again")])

    with pytest.raises(IntegrityError):  # the driver's error, as SQLAlchemy raises it
        await db.writes.run(clash)
    assert [r[0] for r in rows(db)] == [1, 2]
