"""Browser sessions: an HttpOnly cookie with CSRF protection; bearer tokens keep working."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from app.main import create_app
from tests.conftest import PASSWORD, make_settings
from tests.live import serve_in_process

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
FORM = {"username": "admin", "password": PASSWORD}


async def sign_in(client: httpx.AsyncClient, **headers: str) -> str:
    """Sign the client's cookie jar in; returns the CSRF token."""
    r = await client.post("/api/v1/auth/session", data=FORM, headers=headers)
    assert r.status_code == 200, r.text
    return str(r.json()["csrf_token"])


def plugin_body(name: str) -> dict[str, object]:
    return {
        "name": name,
        "type": "http",
        "config": {"url": "http://127.0.0.1:9/"},
        "enabled": False,
    }


async def test_signing_in_sets_an_httponly_lax_cookie_javascript_never_sees(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.post("/api/v1/auth/session", data=FORM, headers={"User-Agent": FIREFOX})
    assert r.status_code == 200
    cookies = {c.split("=", 1)[0]: c for c in r.headers.get_list("set-cookie")}
    session = cookies["unity_session"]
    assert "HttpOnly" in session and "SameSite=lax" in session and "Path=/" in session
    assert "Secure" not in session  # plain http here
    csrf = cookies["unity_csrf"]
    assert "HttpOnly" not in csrf and r.json()["csrf_token"] in csrf
    token = client.cookies["unity_session"]
    assert token not in r.text  # the body carries no session secret
    assert r.json()["user"]["username"] == "admin"
    assert (await client.get("/api/v1/auth/me")).json()["username"] == "admin"


async def test_behind_https_the_cookie_is_secure(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.post("/api/v1/auth/session", data=FORM, headers={"X-Forwarded-Proto": "https"})
    assert all("Secure" in c for c in r.headers.get_list("set-cookie"))


async def test_forwarded_proto_from_an_untrusted_peer_is_ignored(
    app: Any, admin: dict[str, str]
) -> None:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await c.post("/api/v1/auth/session", data=FORM, headers={"X-Forwarded-Proto": "https"})
    assert r.status_code == 200, r.text
    assert not any("Secure" in c for c in r.headers.get_list("set-cookie"))


async def test_a_state_change_needs_the_csrf_header(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    csrf = await sign_in(client)
    # A cross-site form post: the browser sends the cookie, but no header.
    r = await client.post(
        "/api/v1/plugins", json=plugin_body("forged"), headers={"Origin": "http://evil.example"}
    )
    assert r.status_code == 403
    assert "X-CSRF-Token" in r.json()["detail"]
    # One character off; "x" + csrf[1:] was the same token whenever it began with "x" (1 in 64).
    forged = ("y" if csrf[0] == "x" else "x") + csrf[1:]
    r = await client.post(
        "/api/v1/plugins", json=plugin_body("forged"), headers={"X-CSRF-Token": forged}
    )
    assert r.status_code == 403
    # The SPA: same site, header copied from the unity_csrf cookie.
    r = await client.post(
        "/api/v1/plugins",
        json=plugin_body("mine"),
        headers={"X-CSRF-Token": client.cookies["unity_csrf"]},
    )
    assert r.status_code == 201, r.text
    names = [p["name"] for p in (await client.get("/api/v1/plugins")).json()]
    assert names == ["mine"]


async def test_bearer_tokens_need_no_csrf_token(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.post("/api/v1/plugins", json=plugin_body("curl"), headers=admin)
    assert r.status_code == 201


async def test_signing_in_from_another_site_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.post(
        "/api/v1/auth/session", data=FORM, headers={"Origin": "http://evil.example"}
    )
    assert r.status_code == 403 and "CORS_ORIGINS" in r.json()["detail"]
    assert "unity_session" not in client.cookies
    await sign_in(client, Origin="http://testserver")


async def test_sign_out_ends_the_session_server_side(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    csrf = await sign_in(client)
    stolen = client.cookies["unity_session"]
    assert (await client.get("/api/v1/auth/me")).status_code == 200  # now in the reads' cache
    r = await client.delete("/api/v1/auth/session", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    assert "unity_session" not in client.cookies
    client.cookies.set("unity_session", stolen)  # a copy kept by someone else
    r = await client.get("/api/v1/auth/me")
    assert r.status_code == 401 and "signed out" in r.json()["detail"]


async def test_a_password_change_ends_every_session(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    csrf = await sign_in(client)
    r = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "another-password-1"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 204
    r = await client.get("/api/v1/auth/me")
    assert r.status_code == 401 and "password was changed" in r.json()["detail"]


async def test_sessions_are_listed_and_can_be_revoked(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    transport = client._transport
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as laptop:
        await sign_in(laptop, **{"User-Agent": FIREFOX})
        csrf = await sign_in(client, **{"User-Agent": "curl/8.5.0"})
        listed = (await client.get("/api/v1/auth/sessions")).json()
        assert {s["device"] for s in listed} == {"Firefox on Linux", "curl"}
        other = next(s for s in listed if not s["current"])
        assert other["device"] == "Firefox on Linux" and other["address"] == "127.0.0.1"
        r = await client.delete(
            f"/api/v1/auth/sessions/{other['id']}", headers={"X-CSRF-Token": csrf}
        )
        assert r.status_code == 204
        assert (await laptop.get("/api/v1/auth/me")).status_code == 401
        assert (await client.get("/api/v1/auth/me")).status_code == 200
        r = await client.delete("/api/v1/auth/sessions/999999", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 404


async def test_the_websocket_signs_in_with_the_cookie(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'ws.db'}", tmp_path))
    async with serve_in_process(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as c:
        await c.post("/api/v1/auth/setup", json=FORM)
        await sign_in(c)
        cookie = f"unity_session={c.cookies['unity_session']}"
        headers = {"Cookie": cookie, "Origin": f"http://{host}"}
        async with connect(f"ws://{host}/ws/metrics", additional_headers=headers) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert hello == {"type": "hello", "user": "admin", "subscribed": "all"}
