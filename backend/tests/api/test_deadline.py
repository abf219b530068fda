"""The request deadline and the last-resort error answers: always JSON, never a hang or a trace.

Routes that hang are added to the real app (a real `pg_sleep` in PostgreSQL, a cleanup that
ignores cancellation); bounds on time are generous: they prove "does not hang", nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.api.deadline import no_deadline
from app.core.config import DbTimeouts
from app.core.errors import DATABASE_UNAVAILABLE
from app.db.session import Database, is_unavailable
from app.main import create_app
from tests.conftest import PASSWORD, make_settings
from tests.faults.conftest import TcpProxy, via
from tests.live import free_port, serve_in_process

DEADLINE = 0.5
HANG = 30.0
NOT_HUNG = 10.0  # far above the deadline: only a hang fails it


def add_test_routes(app: FastAPI) -> None:
    async def slow() -> dict[str, str]:
        await asyncio.sleep(HANG)
        return {}

    async def stubborn() -> dict[str, str]:
        try:
            await asyncio.sleep(HANG)
        finally:  # a cleanup that hangs on a silent database, ignoring the cancellation
            await asyncio.shield(asyncio.sleep(3))
        return {}

    @no_deadline
    async def exempt() -> dict[str, str]:
        await asyncio.sleep(DEADLINE * 3)
        return {"done": "yes"}

    async def db_sleep() -> dict[str, str]:
        async with app.state.unity.db.session() as session:
            await session.execute(text("SELECT pg_sleep(30)"))
        return {}

    async def bug() -> dict[str, str]:
        raise RuntimeError("internal detail: password=hunter2")

    async def refused() -> dict[str, str]:
        raise ConnectionRefusedError(111, "Connect call failed ('10.0.0.9', 5432)")

    async def silent() -> dict[str, str]:
        raise TimeoutError  # what asyncpg raises when a connect gets no answer

    async def duplicate() -> dict[str, str]:
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    for path, endpoint in {
        "/t/slow": slow,
        "/t/stubborn": stubborn,
        "/t/exempt": exempt,
        "/t/db-sleep": db_sleep,
        "/t/bug": bug,
        "/t/refused": refused,
        "/t/silent": silent,
        "/t/duplicate": duplicate,
    }.items():
        app.add_api_route(path, endpoint, methods=["GET"])


@pytest.fixture
async def client(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(database_url, tmp_path, request_timeout_seconds=DEADLINE))
    add_test_routes(app)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


async def timed_get(client: httpx.AsyncClient, path: str) -> httpx.Response:
    t0 = time.monotonic()
    r = await client.get(path)
    assert time.monotonic() - t0 < NOT_HUNG, f"{path} hung"
    return r


@pytest.mark.parametrize("path", ["/t/slow", "/t/stubborn"])
async def test_a_slow_request_answers_json_at_the_deadline(
    client: httpx.AsyncClient, path: str
) -> None:
    r = await timed_get(client, path)
    assert r.status_code == 504
    assert r.json()["error"] == "Timeout"
    assert "longer than 0.5 s" in r.json()["detail"]
    # The app goes on serving.
    assert (await timed_get(client, "/health")).status_code == 200


async def test_a_statement_the_database_sits_on_answers_at_the_deadline(
    client: httpx.AsyncClient, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("pg_sleep is PostgreSQL's")
    r = await timed_get(client, "/t/db-sleep")
    assert r.status_code == 504
    assert r.json()["error"] == "Timeout"
    assert (await timed_get(client, "/health")).status_code == 200


async def test_routes_marked_no_deadline_may_take_longer(client: httpx.AsyncClient) -> None:
    r = await timed_get(client, "/t/exempt")
    assert r.status_code == 200
    assert r.json() == {"done": "yes"}


@pytest.mark.parametrize("path", ["/t/refused", "/t/silent"])
async def test_a_database_that_refuses_or_says_nothing_answers_503_with_a_sentence(
    client: httpx.AsyncClient, path: str
) -> None:
    r = await timed_get(client, path)
    assert r.status_code == 503
    assert r.headers["retry-after"] == "5"
    assert r.json() == {"error": "DatabaseUnavailable", "detail": DATABASE_UNAVAILABLE}


@pytest.mark.parametrize("path", ["/t/bug", "/t/duplicate"])
async def test_a_bug_answers_a_json_500_without_internals(
    client: httpx.AsyncClient, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    r = await timed_get(client, path)
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error"] == "ServerError"
    assert "hunter2" not in r.text and "duplicate" not in r.text
    assert "unhandled error" in caplog.text  # the traceback is in the log instead


async def test_a_database_that_refuses_gives_503_on_real_routes(pg_url: str, tmp_path) -> None:
    """Reads, writes and login once PostgreSQL is on a port where nothing listens."""
    app = create_app(make_settings(pg_url, tmp_path))
    async with app.router.lifespan_context(app):
        state = app.state.unity
        dead = make_url(pg_url).set(drivername="postgresql+asyncpg", port=free_port())
        real, state.db = state.db, Database(dead)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                auth = {"Authorization": "Bearer unity_notarealtoken"}
                for method, path, kw in (
                    ("GET", "/api/v1/plugins", {"headers": auth}),
                    ("POST", "/api/v1/plugins", {"headers": auth, "json": {}}),
                    ("POST", "/api/v1/auth/login", {"data": {"username": "a", "password": "b"}}),
                ):
                    t0 = time.monotonic()
                    r = await c.request(method, path, **kw)
                    assert time.monotonic() - t0 < NOT_HUNG
                    assert r.status_code == 503, (path, r.text)
                    assert r.json()["error"] == "DatabaseUnavailable"
                    assert r.headers["retry-after"] == "5"
        finally:
            await state.db.dispose()
            state.db = real


async def test_the_websocket_handshake_says_try_again_later_when_the_database_is_down(
    tmp_path: Any,
) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'ws.db'}", tmp_path))
    async with serve_in_process(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as c:
        await c.post("/api/v1/auth/setup", json={"username": "admin", "password": PASSWORD})
        r = await c.post("/api/v1/auth/login", data={"username": "admin", "password": PASSWORD})
        token = r.json()["access_token"]
        state = app.state.unity
        real, state.db = state.db, Database(make_url(f"sqlite+aiosqlite:///{tmp_path}/no/x.db"))
        try:
            async with connect(f"ws://{host}/ws/metrics?token={token}") as ws:
                with pytest.raises(ConnectionClosed) as info:
                    await asyncio.wait_for(ws.recv(), NOT_HUNG)
            assert info.value.rcvd is not None
            assert info.value.rcvd.code == 1013
            assert "retry" in info.value.rcvd.reason
        finally:
            await state.db.dispose()
            state.db = real
        async with connect(f"ws://{host}/ws/metrics?token={token}") as ws:  # back to normal
            assert json.loads(await asyncio.wait_for(ws.recv(), NOT_HUNG))["type"] == "hello"


# ------------------------------------------------------------------ is_unavailable, real errors
async def test_real_connection_failures_count_as_unavailable(pg_url: str) -> None:
    port = free_port()
    with pytest.raises(OSError) as refused:
        await asyncpg.connect(make_url(pg_url).set(port=port).render_as_string(False), timeout=5)
    assert is_unavailable(refused.value)

    # Through SQLAlchemy, wrapped as it reaches a route.
    dead = Database(make_url(pg_url).set(drivername="postgresql+asyncpg", port=port))
    try:
        with pytest.raises(Exception) as wrapped:
            async with dead.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        assert is_unavailable(wrapped.value)
    finally:
        await dead.dispose()

    # The pool had no connection free in time: all of its 20 are held.
    url = make_url(pg_url).set(drivername="postgresql+asyncpg")
    db = Database(url, timeouts=DbTimeouts(pool=0.1))
    try:
        async with contextlib.AsyncExitStack() as held:
            for _ in range(20):
                await held.enter_async_context(db.engine.connect())
            with pytest.raises(Exception) as pool:
                async with db.engine.connect():
                    pass
        assert is_unavailable(pool.value)
    finally:
        await db.dispose()

    # PostgreSQL starting up or shutting down.
    assert is_unavailable(asyncpg.exceptions.CannotConnectNowError("the database is starting"))


async def test_errors_that_are_bugs_or_bad_input_are_not_unavailable(pg_url: str) -> None:
    db = Database(make_url(pg_url).set(drivername="postgresql+asyncpg"))
    try:
        with pytest.raises(Exception) as syntax:
            async with db.engine.connect() as conn:
                await conn.execute(text("SELEKT 1"))
        assert not is_unavailable(syntax.value)
    finally:
        await db.dispose()
    assert not is_unavailable(ValueError("bad"))
    assert not is_unavailable(FileNotFoundError(2, "no such file"))


@contextlib.asynccontextmanager
async def behind_a_proxy(
    pg_url: str, tmp_path: Path, deadline: float, probe: float
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str], TcpProxy]]:
    """The app on PostgreSQL through a proxy the test can silence, with a signed-in admin; the
    connect timeout is longer than the deadline, so only the deadline can answer a silence."""
    target = make_url(pg_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    settings = make_settings(
        via(proxy, pg_url),
        tmp_path,
        request_timeout_seconds=deadline,
        db_probe_seconds=probe,
        db_connect_timeout_seconds=30,
    )
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                await c.post("/api/v1/auth/setup", json={"username": "a", "password": PASSWORD})
                r = await c.post("/api/v1/auth/login", data={"username": "a", "password": PASSWORD})
                auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
                assert (await c.get("/api/v1/plugins", headers=auth)).status_code == 200
                yield c, auth, proxy
    finally:
        proxy.close()


async def test_a_silent_database_answers_503_at_the_deadline(pg_url: str, tmp_path) -> None:
    """Connections accepted and never answered: the deadline answers, and says why (the probe
    has noticed the silence by then)."""
    async with behind_a_proxy(pg_url, tmp_path, deadline=2.0, probe=0.3) as (c, auth, proxy):
        proxy.silence()
        for method in ("GET", "POST", "GET"):
            t0 = time.monotonic()
            r = await c.request(method, "/api/v1/plugins", headers=auth, json={})
            assert time.monotonic() - t0 < NOT_HUNG
            assert r.status_code == 503, r.text
            assert r.json()["error"] == "DatabaseUnavailable"
        proxy.restore()
        for _ in range(100):
            r = await c.get("/api/v1/plugins", headers=auth)
            if r.status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert r.status_code == 200, "no recovery after the silence"


async def test_a_statement_in_flight_when_the_database_goes_silent_answers_503(
    pg_url: str, tmp_path
) -> None:
    """The read goes out right after the last answer, before the probe can know: the deadline
    still says 503, because nothing has answered since the read began (it said 504 when only the
    probe was asked, which knew 2-3 periods after the last answer). The periods keep about
    production's ratio: a 5 s deadline over a 2 s probe."""
    async with behind_a_proxy(pg_url, tmp_path, deadline=1.0, probe=0.45) as (c, auth, proxy):
        proxy.silence()
        t0 = time.monotonic()
        r = await c.get("/api/v1/plugins", headers=auth)
        assert time.monotonic() - t0 < NOT_HUNG
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "DatabaseUnavailable"


async def test_a_slow_statement_on_a_healthy_database_is_not_taken_for_silence(
    pg_url: str, tmp_path: Path
) -> None:
    """A probe period under half the deadline, so "nothing answered for two periods" is asked at
    each deadline: the probe's own checks answer within every period, and each slow statement
    stays a 504."""
    settings = make_settings(pg_url, tmp_path, request_timeout_seconds=1.5, db_probe_seconds=0.6)
    app = create_app(settings)
    add_test_routes(app)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            for _ in range(4):
                r = await timed_get(c, "/t/db-sleep")
                assert r.status_code == 504, r.text
