"""GET /health: the seed's body when all is well, 503 with a reason when the database is gone."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.db.session import make_engine
from app.main import create_app
from tests.conftest import asgi_client, make_settings, running_app, setup_admin
from tests.live import free_port


async def test_health_answers_the_seed_body(client: httpx.AsyncClient) -> None:
    # On PostgreSQL a replica stands by until it has won the scheduler lock (one round trip).
    body = await wait_for_health(client, 200)
    for _ in range(100):
        if body["role"] == "leader":
            break
        await asyncio.sleep(0.1)
        body = await wait_for_health(client, 200)
    assert body["status"] == "healthy"
    assert body["scheduler"] == "running"
    assert body["database"] == "ok"
    assert body["role"] == "leader"
    assert body["writer"]["dropped"] == 0


async def test_health_is_public_but_the_api_is_not(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).status_code == 200
    r = await client.get("/api/v1/plugins")
    assert r.status_code == 401
    assert r.json()["error"] == "Unauthorized"


async def wait_for_health(c: httpx.AsyncClient, code: int, within: float = 15.0) -> dict:
    """Poll /health until it answers `code` (the probe runs in the background); each answer
    must come at once, whatever the database does."""
    deadline = time.monotonic() + within
    while True:
        t0 = time.monotonic()
        r = await c.get("/health")
        assert time.monotonic() - t0 < 1.0, "/health waited for the database"
        if r.status_code == code:
            return dict(r.json())
        assert time.monotonic() < deadline, f"/health still {r.status_code}: {r.text}"
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("mode", ["refused", "silent"])
async def test_a_database_that_refuses_or_goes_silent_gives_503_and_the_process_stays_up(
    pg_url: str, tmp_path, mode: str
) -> None:
    settings = make_settings(pg_url, tmp_path, db_probe_seconds=0.3)
    app = create_app(settings)
    async with contextlib.AsyncExitStack() as stack:
        if mode == "silent":  # accepts connections and never says a word
            server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
            stack.push_async_callback(server.wait_closed)
            stack.callback(server.close)
            port = server.sockets[0].getsockname()[1]
        else:
            port = free_port()
        await stack.enter_async_context(app.router.lifespan_context(app))
        state = app.state.unity
        transport = httpx.ASGITransport(app=app)
        c = await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="t:"))
        c.base_url = httpx.URL("http://t")
        body = await wait_for_health(c, 200)
        assert body["database"] == "ok"
        assert 0 <= body["database_checked_seconds_ago"] < 10
        # Point the live engine at a port that refuses, or one that never answers.
        real = state.db.engine
        dead = make_url(pg_url).set(drivername="postgresql+asyncpg", port=port)
        state.db.engine = make_engine(dead)
        try:
            body = await wait_for_health(c, 503)
            assert body["status"] == "degraded"
            assert body["database"] == "down"
            assert "database not answering" in body["reason"]
            assert body["database_checked_seconds_ago"] < 10
            await wait_for_health(c, 503)  # still serving
        finally:
            await state.db.engine.dispose()
            state.db.engine = real
        await wait_for_health(c, 200)  # and back when the database is


async def test_api_answers_503_with_a_sentence_while_the_database_is_down(
    pg_url: str, tmp_path
) -> None:
    settings = make_settings(pg_url, tmp_path)
    async with running_app(settings) as app, asgi_client(app) as c:
        h = await setup_admin(c)
        state = app.state.unity
        from app.db.session import Database

        real, state.db = (
            state.db,
            Database(make_url(pg_url).set(drivername="postgresql+asyncpg", port=1)),
        )
        try:
            for method in ("GET", "POST"):  # read-only and read-write sessions alike
                r = await c.request(method, "/api/v1/plugins", headers=h, json={})
                assert r.status_code == 503
                assert r.json()["error"] == "DatabaseUnavailable"
                assert "retry in a few seconds" in r.json()["detail"].lower()
        finally:
            await state.db.dispose()
            state.db = real
