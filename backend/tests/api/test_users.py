"""User management: list, create, change role, disable, reset password, delete; one admin stays."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import PASSWORD, login

FIELDS_SHOWN = ("id", "username", "role", "disabled", "created_at", "last_login_at", "totp_enabled")
USERS = "/api/v1/users"


async def _create(
    client: httpx.AsyncClient, admin: dict[str, str], name: str, role: str = "viewer"
) -> dict[str, Any]:
    r = await client.post(
        USERS, json={"username": name, "password": PASSWORD, "role": role}, headers=admin
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def _admin_id(client: httpx.AsyncClient, admin: dict[str, str]) -> int:
    return int((await client.get("/api/v1/auth/me", headers=admin)).json()["id"])


async def test_list_create_and_the_fields_shown(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    made = await _create(client, admin, "alice")
    assert made["role"] == "viewer" and made["disabled"] is False
    users = (await client.get(USERS, headers=admin)).json()
    assert [u["username"] for u in users] == ["admin", "alice"]
    for user in users:
        assert set(user) == {*FIELDS_SHOWN}
    r = await client.post(USERS, json={"username": "alice", "password": PASSWORD}, headers=admin)
    assert r.status_code == 409 and "already exists" in r.json()["detail"]
    r = await client.post(
        USERS, json={"username": "bad name!", "password": PASSWORD}, headers=admin
    )
    assert r.status_code == 422
    r = await client.post(
        USERS, json={"username": "bob", "password": PASSWORD, "role": "root"}, headers=admin
    )
    assert r.status_code == 422


async def test_role_change_disable_and_password_reset(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    uid = (await _create(client, admin, "alice"))["id"]
    r = await client.patch(f"{USERS}/{uid}", json={"role": "admin"}, headers=admin)
    assert r.json()["role"] == "admin"
    alice = await login(client, "alice")
    assert (await client.get(USERS, headers=alice)).status_code == 200

    r = await client.patch(f"{USERS}/{uid}", json={"disabled": True}, headers=admin)
    assert r.json()["disabled"] is True
    r = await client.post("/api/v1/auth/login", data={"username": "alice", "password": PASSWORD})
    assert r.status_code == 401

    r = await client.patch(
        f"{USERS}/{uid}", json={"disabled": False, "password": "reset-by-admin"}, headers=admin
    )
    assert r.status_code == 200 and r.json()["disabled"] is False
    await login(client, "alice", "reset-by-admin")
    r = await client.patch(f"{USERS}/{uid}", json={"password": "short"}, headers=admin)
    assert r.status_code == 422
    r = await client.patch(f"{USERS}/999999", json={"role": "viewer"}, headers=admin)
    assert r.status_code == 404 and r.json()["error"] == "NotFound"


async def test_the_last_active_admin_cannot_be_demoted_disabled_or_deleted(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    me = await _admin_id(client, admin)
    for change in ({"role": "viewer"}, {"disabled": True}):
        r = await client.patch(f"{USERS}/{me}", json=change, headers=admin)
        assert r.status_code == 409, change
        assert r.json() == {
            "error": "Conflict",
            "detail": "This is the last active admin; make another user admin first.",
        }
    # deleting goes through a second admin, who then tries to delete the first
    await _create(client, admin, "second", role="admin")
    second = await login(client, "second")
    second_id = await _admin_id(client, second)
    assert (
        await client.patch(f"{USERS}/{second_id}", json={"disabled": True}, headers=admin)
    ).status_code == 200
    # a disabled admin does not count: the first is the last active one again
    assert (
        await client.patch(f"{USERS}/{me}", json={"role": "viewer"}, headers=admin)
    ).status_code == 409
    # ...but the disabled admin itself may be demoted or deleted freely
    r = await client.patch(f"{USERS}/{second_id}", json={"role": "viewer"}, headers=admin)
    assert r.status_code == 200
    r = await client.delete(f"{USERS}/{me}", headers=admin)
    assert r.status_code == 409 and "own account" in r.json()["detail"]
    users = (await client.get(USERS, headers=admin)).json()
    assert {u["username"]: u["role"] for u in users} == {"admin": "admin", "second": "viewer"}


async def test_an_admin_can_be_deleted_while_another_remains(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await _create(client, admin, "second", role="admin")
    second = await login(client, "second")
    me = await _admin_id(client, admin)
    assert (await client.delete(f"{USERS}/{me}", headers=second)).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=admin)).status_code == 401
    users = (await client.get(USERS, headers=second)).json()
    assert [u["username"] for u in users] == ["second"]
    second_id = users[0]["id"]
    r = await client.patch(f"{USERS}/{second_id}", json={"role": "viewer"}, headers=second)
    assert r.status_code == 409


async def test_deleting_a_user_revokes_their_api_tokens(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    uid = (await _create(client, admin, "script-owner", role="admin"))["id"]
    owner = await login(client, "script-owner")
    token = (await client.post("/api/v1/tokens", json={"name": "cron"}, headers=owner)).json()
    bearer = {"Authorization": f"Bearer {token['token']}"}
    assert (await client.get("/api/v1/auth/me", headers=bearer)).status_code == 200
    assert (await client.delete(f"{USERS}/{uid}", headers=admin)).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=bearer)).status_code == 401
    assert (await client.get("/api/v1/tokens", headers=admin)).json() == []
    assert (await client.delete(f"{USERS}/{uid}", headers=admin)).status_code == 404


async def test_viewers_cannot_manage_users(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    me = await _admin_id(client, admin)
    assert (await client.get(USERS, headers=viewer)).status_code == 403
    r = await client.patch(f"{USERS}/{me}", json={"password": "taken-over!"}, headers=viewer)
    assert r.status_code == 403
    assert (await client.delete(f"{USERS}/{me}", headers=viewer)).status_code == 403
    await login(client, "admin")  # the password did not change
