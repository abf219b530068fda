"""Setup, settings bootstrap, login, /me, and sessions ending on password change or disable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import jwt

from tests.conftest import PASSWORD, TEST_JWT, asgi_client, login, make_settings, running_app

NEW_PASSWORD = "a-brand-new-password"


async def test_setup_creates_the_first_admin_then_answers_409(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/auth/setup")).json() == {
        "needs_setup": True,
        "needs_code": False,
    }
    r = await client.post("/api/v1/auth/setup", json={"username": "owner", "password": PASSWORD})
    assert r.status_code == 201
    assert r.json()["role"] == "admin" and "password" not in r.text
    assert (await client.get("/api/v1/auth/setup")).json() == {
        "needs_setup": False,
        "needs_code": False,
    }
    r = await client.post("/api/v1/auth/setup", json={"username": "other", "password": PASSWORD})
    assert r.status_code == 409
    assert r.json() == {
        "error": "Conflict",
        "detail": "Unity is already set up; sign in with an existing account instead.",
    }
    r = await client.post("/api/v1/auth/login", data={"username": "other", "password": PASSWORD})
    assert r.status_code == 401


async def test_setup_refuses_short_passwords(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/auth/setup", json={"username": "owner", "password": "short"})
    assert r.status_code == 422
    assert (await client.get("/api/v1/auth/setup")).json() == {
        "needs_setup": True,
        "needs_code": False,
    }


async def test_admin_from_settings_on_a_fresh_database(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(
        database_url, tmp_path, admin_username="root", admin_password="bootstrap-pass-1"
    )
    for attempt in range(2):  # a restart must neither fail nor reset the password
        if attempt:
            settings = make_settings(
                database_url, tmp_path, admin_username="root", admin_password="changed-in-env"
            )
        async with running_app(settings) as app, asgi_client(app) as c:
            assert (await c.get("/api/v1/auth/setup")).json() == {
                "needs_setup": False,
                "needs_code": False,
            }
            h = await login(c, "root", "bootstrap-pass-1")
            me = (await c.get("/api/v1/auth/me", headers=h)).json()
            assert me["username"] == "root" and me["role"] == "admin"
            assert len((await c.get("/api/v1/users", headers=h)).json()) == 1
            r = await c.post("/api/v1/auth/setup", json={"username": "x", "password": PASSWORD})
            assert r.status_code == 409


async def test_login_answers_a_bearer_token_that_works(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.post("/api/v1/auth/login", data={"username": "admin", "password": PASSWORD})
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 720 * 60
    claims = jwt.decode(body["access_token"], TEST_JWT, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 720 * 60
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["username"] == "admin" and me.json()["last_login_at"] is not None


async def test_wrong_password_and_unknown_user_look_the_same(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    wrong = await client.post("/api/v1/auth/login", data={"username": "admin", "password": "nope"})
    unknown = await client.post("/api/v1/auth/login", data={"username": "ghost", "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "error": "Unauthorized",
            "detail": "Wrong username or password.",
        }
    )


async def _refused(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    r = await client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401, r.text
    body: dict[str, Any] = r.json()
    assert body["error"] == "Unauthorized"
    return body


async def test_own_password_change_ends_every_earlier_session(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    other_device = await login(client, "viewer")
    r = await client.post(
        "/api/v1/auth/password",
        json={"current_password": "not-it", "new_password": NEW_PASSWORD},
        headers=viewer,
    )
    assert r.status_code == 403 and "current password is wrong" in r.json()["detail"]
    assert (await client.get("/api/v1/auth/me", headers=viewer)).status_code == 200

    r = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=viewer,
    )
    assert r.status_code == 204
    for old in (viewer, other_device):
        assert "password was changed" in (await _refused(client, old))["detail"]
    r = await client.post("/api/v1/auth/login", data={"username": "viewer", "password": PASSWORD})
    assert r.status_code == 401
    fresh = await login(client, "viewer", NEW_PASSWORD)
    assert (await client.get("/api/v1/auth/me", headers=fresh)).status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=admin)).status_code == 200


async def _viewer_id(client: httpx.AsyncClient, admin: dict[str, str]) -> int:
    users = (await client.get("/api/v1/users", headers=admin)).json()
    return int(next(u["id"] for u in users if u["username"] == "viewer"))


async def test_admin_password_reset_ends_the_users_sessions(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    uid = await _viewer_id(client, admin)
    r = await client.patch(f"/api/v1/users/{uid}", json={"password": NEW_PASSWORD}, headers=admin)
    assert r.status_code == 200
    assert "password was changed" in (await _refused(client, viewer))["detail"]
    await login(client, "viewer", NEW_PASSWORD)


async def test_disabling_ends_sessions_and_re_enabling_does_not_revive_them(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    uid = await _viewer_id(client, admin)
    r = await client.patch(f"/api/v1/users/{uid}", json={"disabled": True}, headers=admin)
    assert r.json()["disabled"] is True
    assert "disabled" in (await _refused(client, viewer))["detail"]
    r = await client.post("/api/v1/auth/login", data={"username": "viewer", "password": PASSWORD})
    assert r.status_code == 401 and "disabled" in r.json()["detail"]

    await client.patch(f"/api/v1/users/{uid}", json={"disabled": False}, headers=admin)
    await _refused(client, viewer)  # the token from before the disable stays dead
    await login(client, "viewer")


async def test_a_deleted_users_token_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    uid = await _viewer_id(client, admin)
    assert (await client.delete(f"/api/v1/users/{uid}", headers=admin)).status_code == 204
    assert "no longer exists" in (await _refused(client, viewer))["detail"]


async def test_a_role_change_applies_to_existing_sessions_at_once(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    uid = await _viewer_id(client, admin)
    await client.patch(f"/api/v1/users/{uid}", json={"role": "admin"}, headers=admin)
    r = await client.post(
        "/api/v1/users", json={"username": "third", "password": PASSWORD}, headers=viewer
    )
    assert r.status_code == 201
    await client.patch(f"/api/v1/users/{uid}", json={"role": "viewer"}, headers=admin)
    r = await client.post(
        "/api/v1/users", json={"username": "fourth", "password": PASSWORD}, headers=viewer
    )
    assert r.status_code == 403
