"""GET /health: the seed's body when all is well, 503 with a reason when the database is gone."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import make_url

from tests.conftest import asgi_client, make_settings, running_app, setup_admin


async def test_health_answers_the_seed_body(client: httpx.AsyncClient) -> None:
    r = await client.get("/health")
    assert r.status_code == 200
    body = r.json()
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


async def test_unreachable_database_gives_503_and_the_process_stays_up(
    pg_url: str, tmp_path
) -> None:
    settings = make_settings(pg_url, tmp_path)
    async with running_app(settings) as app, asgi_client(app) as c:
        # Point the live engine at a port where nothing listens, as if PostgreSQL went away.
        state = app.state.unity
        await state.db.engine.dispose()
        dead = make_url(pg_url).set(drivername="postgresql+asyncpg", port=1)
        from app.db.session import make_engine

        state.db.engine = make_engine(dead)
        r = await c.get("/health")
        assert r.status_code == 503
        body = r.json()
        assert body["status"] != "healthy"
        assert body["database"] == "unreachable"
        assert "database unreachable" in body["reason"]
        # still serving
        assert (await c.get("/health")).status_code == 503


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
                assert r.json()["error"] == "Unavailable"
                assert "try again" in r.json()["detail"]
        finally:
            await state.db.dispose()
            state.db = real
