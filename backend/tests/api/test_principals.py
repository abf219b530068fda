"""Recent sign-ins answer reads from memory; every change to who may do what still takes effect."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.db.session import make_engine
from app.models import User
from app.services.auth import principals as auth
from tests.conftest import recorded_statements


async def test_a_read_with_a_recent_token_skips_the_user_lookup(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    assert (await client.get("/api/v1/auth/me", headers=admin)).status_code == 200
    with recorded_statements(app.state.unity.db) as seen:
        r = await client.get("/api/v1/auth/me", headers=admin)
        assert r.status_code == 200 and r.json()["username"] == "admin"
        assert seen == []
        # a write looks the caller up again
        r = await client.post("/api/v1/tokens", json={"name": "ci"}, headers=admin)
        assert r.status_code == 201, r.text
    assert any("FROM users" in s.sql for s in seen)


async def test_a_change_made_here_ends_cached_reads_at_once(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    assert (await client.get("/api/v1/auth/me", headers=viewer)).status_code == 200
    users = (await client.get("/api/v1/users", headers=admin)).json()
    vid = next(u["id"] for u in users if u["username"] == "viewer")
    r = await client.patch(f"/api/v1/users/{vid}", json={"role": "admin"}, headers=admin)
    assert r.status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=viewer)).json()["role"] == "admin"
    r = await client.patch(f"/api/v1/users/{vid}", json={"disabled": True}, headers=admin)
    assert r.status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=viewer)).status_code == 401


async def test_a_change_made_by_another_replica_ends_reads_within_the_ttl_and_writes_at_once(
    app: Any,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    viewer: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(auth, "PRINCIPAL_TTL_SECONDS", 0.5)
    assert (await client.get("/api/v1/auth/me", headers=viewer)).status_code == 200
    # Another process disables the viewer: no session of this app sees it happen.
    other = make_engine(app.state.unity.db.url)
    try:
        async with other.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE users SET disabled = true, token_generation = token_generation + 1 "
                    "WHERE username = 'viewer'"
                )
            )
    finally:
        await other.dispose()
    assert (await client.get("/api/v1/auth/me", headers=viewer)).status_code == 200  # cached
    r = await client.post("/api/v1/tokens", json={"name": "x"}, headers=viewer)
    assert r.status_code == 401
    await asyncio.sleep(0.6)
    r = await client.get("/api/v1/auth/me", headers=viewer)
    assert r.status_code == 401
    assert "sign in again" in r.json()["detail"]


def test_an_entry_never_outlives_its_token_nor_survives_a_change() -> None:
    principals = auth.Principals()
    user = User(id=1, username="a", role="viewer", disabled=False, token_generation=0)
    soon = datetime.now(UTC) + timedelta(seconds=0.05)
    principals.put("t1", user, soon, principals.epoch)
    principals.put("t2", user, None, principals.epoch)
    assert principals.get("t1") is user and principals.get("t2") is user
    epoch = principals.epoch  # a lookup begins ...
    principals.clear()  # ... a change commits ...
    principals.put("t3", user, None, epoch)  # ... and what the lookup read is not kept
    assert principals.get("t2") is None and principals.get("t3") is None
    principals.put("t1", user, soon, principals.epoch)
    time.sleep(0.06)
    assert principals.get("t1") is None
