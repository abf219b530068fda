"""API tokens: shown once, stored as a hash, used as a bearer token, expiring and revocable."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from app.models import ApiToken
from tests.conftest import PASSWORD, login

TOKENS = "/api/v1/tokens"


async def _create(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    r = await client.post(TOKENS, json={"name": "backup script", **body}, headers=headers)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def test_the_secret_is_shown_once_and_only_its_hash_is_stored(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await _create(client, admin)
    secret = created["token"]
    assert secret.startswith("unity_") and secret.startswith(created["prefix"])
    assert created["expires_at"] is None and created["last_used_at"] is None

    listed = (await client.get(TOKENS, headers=admin)).json()
    assert len(listed) == 1
    assert "token" not in listed[0] and secret not in str(listed)
    assert listed[0]["prefix"] == created["prefix"] and listed[0]["name"] == "backup script"

    async with app.state.unity.db.session() as session:
        row = (await session.scalars(select(ApiToken))).one()
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (row.token_hash, row.prefix, row.name)


async def test_a_token_authenticates_and_records_its_last_use(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await _create(client, admin)
    me = await client.get("/api/v1/auth/me", headers=_bearer(created["token"]))
    assert me.status_code == 200 and me.json()["username"] == "admin"
    # an admin's token may write
    r = await client.post(
        "/api/v1/users",
        json={"username": "made-by-script", "password": PASSWORD},
        headers=_bearer(created["token"]),
    )
    assert r.status_code == 201
    listed = (await client.get(TOKENS, headers=admin)).json()[0]
    used = datetime.fromisoformat(listed["last_used_at"])
    assert abs(datetime.now(UTC) - used) < timedelta(minutes=1)


async def test_expiry_is_honoured(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await _create(client, admin, expires_in_days=30)
    expires = datetime.fromisoformat(created["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)
    assert (
        await client.get("/api/v1/auth/me", headers=_bearer(created["token"]))
    ).status_code == 200

    async with app.state.unity.db.session() as session:
        await session.execute(
            update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()
    r = await client.get("/api/v1/auth/me", headers=_bearer(created["token"]))
    assert r.status_code == 401
    assert r.json()["detail"] == "This API token has expired; create a new one."
    r = await client.post(TOKENS, json={"name": "x", "expires_in_days": 0}, headers=admin)
    assert r.status_code == 422


async def test_revoke_makes_the_token_unknown(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    keep = await _create(client, admin, name="keep")
    gone = await _create(client, admin, name="gone")
    assert (await client.delete(f"{TOKENS}/{gone['id']}", headers=admin)).status_code == 204
    r = await client.get("/api/v1/auth/me", headers=_bearer(gone["token"]))
    assert r.status_code == 401
    assert r.json()["detail"] == "This API token is unknown or was revoked."
    assert (await client.get("/api/v1/auth/me", headers=_bearer(keep["token"]))).status_code == 200
    assert [t["name"] for t in (await client.get(TOKENS, headers=admin)).json()] == ["keep"]
    assert (await client.delete(f"{TOKENS}/{gone['id']}", headers=admin)).status_code == 404


async def test_viewers_cannot_create_or_revoke_and_see_no_other_tokens(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    created = await _create(client, admin)
    r = await client.post(TOKENS, json={"name": "mine"}, headers=viewer)
    assert r.status_code == 403 and r.json()["error"] == "Forbidden"
    assert (await client.delete(f"{TOKENS}/{created['id']}", headers=viewer)).status_code == 403
    assert (await client.get(TOKENS, headers=viewer)).json() == []


async def test_a_token_carries_its_owners_current_role_and_state(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.post(
        "/api/v1/users",
        json={"username": "ops", "password": PASSWORD, "role": "admin"},
        headers=admin,
    )
    uid = r.json()["id"]
    ops = await login(client, "ops")
    token = _bearer((await _create(client, ops))["token"])
    await client.patch(f"/api/v1/users/{uid}", json={"role": "viewer"}, headers=admin)
    assert (await client.get("/api/v1/plugins", headers=token)).status_code == 200
    r = await client.post(TOKENS, json={"name": "escalate"}, headers=token)
    assert r.status_code == 403
    await client.patch(f"/api/v1/users/{uid}", json={"disabled": True}, headers=admin)
    r = await client.get("/api/v1/plugins", headers=token)
    assert r.status_code == 401 and "disabled" in r.json()["detail"]
