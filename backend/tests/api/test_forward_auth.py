"""Forward auth: a header from a trusted proxy signs the browser in; from anyone else, never."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.config import Settings
from tests.conftest import make_settings, running_app

PROXY = "127.0.0.1"  # in TRUSTED_PROXIES by default, like Authelia's Traefik in front
ATTACKER = "203.0.113.9"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, forward_auth_header="Remote-User")


def peer(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 4321))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_the_trusted_proxy_signs_an_existing_user_in(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    assert (await client.get("/api/v1/auth/oidc")).json()["forward_auth"] is True
    async with peer(app, PROXY) as browser:
        r = await browser.post("/api/v1/auth/forward", headers={"Remote-User": "admin"})
        assert r.status_code == 200, r.text
        assert r.json()["user"]["username"] == "admin"
        assert (await browser.get("/api/v1/auth/me")).json()["role"] == "admin"
        # it is a cookie session like any other: writes need the CSRF token
        r = await browser.post("/api/v1/tokens", json={"name": "x"})
        assert r.status_code == 403
        unknown = await browser.post("/api/v1/auth/forward", headers={"Remote-User": "nobody"})
        assert unknown.status_code == 403 and "FORWARD_AUTH_AUTO_CREATE" in unknown.json()["detail"]


async def test_a_spoofed_header_from_an_untrusted_address_is_ignored_with_a_warning(
    app: Any, admin: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with peer(app, ATTACKER) as browser:
        r = await browser.post(
            "/api/v1/auth/forward",
            headers={"Remote-User": "admin", "X-Forwarded-For": PROXY},
        )
        assert r.status_code == 403 and "TRUSTED_PROXIES" in r.json()["detail"]
        assert "unity_session" not in browser.cookies
        assert (
            await browser.get("/api/v1/auth/me", headers={"Remote-User": "admin"})
        ).status_code == 401
    assert "forward-auth header ignored" in caplog.text


async def test_off_by_default(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'homelab.db'}", tmp_path)
    async with running_app(settings) as app, peer(app, PROXY) as browser:
        r = await browser.post("/api/v1/auth/forward", headers={"Remote-User": "admin"})
        assert r.status_code == 403 and "FORWARD_AUTH_HEADER" in r.json()["detail"]
