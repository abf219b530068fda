"""Single sign-on against a real OpenID provider (`oidc-provider` from npm) on loopback.

The provider's development login form stands in for the person: any username signs in as
that account, and its groups follow the name (see frontend/e2e/oidc-provider.mjs).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from app.core.config import Settings
from tests.conftest import make_settings, running_app, skip_or_fail
from tests.live import free_port, stop_process

FRONTEND = Path(__file__).resolve().parents[3] / "frontend"
UNITY = "http://testserver"
REDIRECT = UNITY + "/api/v1/auth/oidc/callback"


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    node = shutil.which("node")
    if node is None or not (FRONTEND / "node_modules" / "oidc-provider").is_dir():
        skip_or_fail(
            "node and frontend/node_modules/oidc-provider (npm ci in frontend/) are needed"
        )
    port = free_port()
    proc = subprocess.Popen(
        [str(node), "e2e/oidc-provider.mjs", str(port), REDIRECT],
        cwd=FRONTEND,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # warnings first, then "listening <issuer>"
            if line.startswith("listening "):
                break
        else:
            pytest.fail(f"the OpenID provider did not start (exit {proc.wait(5)})")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc, grace=5)


def oidc_settings(issuer: str, database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "oidc_issuer": issuer,
        "oidc_client_id": "unity",
        "oidc_client_secret": "unity-test-secret",
        "oidc_name": "Test ID",
        "oidc_scopes": "openid profile email groups",
        "oidc_allowed_groups": ["unity-users"],
        "oidc_admin_groups": ["unity-admins"],
    }
    return make_settings(database_url, tmp_path, **{**values, **overrides})


@pytest.fixture
def settings(issuer: str, database_url: str, tmp_path: Path) -> Settings:
    return oidc_settings(issuer, database_url, tmp_path)


async def at_provider(client: httpx.AsyncClient, username: str) -> str:
    """Start SSO in Unity, sign in at the provider as `username`; the URL it sends us back to."""
    r = await client.get("/api/v1/auth/oidc/login")
    assert r.status_code == 302, r.text
    assert "code_challenge_method=S256" in r.headers["location"]
    async with httpx.AsyncClient(timeout=10) as browser:  # the browser's visit to the provider
        r = await browser.get(r.headers["location"])
        for _ in range(12):
            if r.is_redirect:
                url = urljoin(str(r.url), r.headers["location"])
                if url.startswith(UNITY):
                    return url
                r = await browser.get(url)
                continue
            action = re.search(r'<form[^>]*action="([^"]+)"', r.text)
            assert action, r.text[:500]
            data = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', r.text))
            if 'name="login"' in r.text:
                data |= {"login": username, "password": "any password"}
            r = await browser.post(urljoin(str(r.url), action[1]), data=data)
    raise AssertionError("the provider never sent the browser back")


async def sign_in(client: httpx.AsyncClient, username: str) -> httpx.Response:
    back = await at_provider(client, username)
    return await client.get(back[len(UNITY) :])


async def test_sso_signs_in_with_the_mapped_role_and_creates_the_user_once(
    client: httpx.AsyncClient,
) -> None:
    info = (await client.get("/api/v1/auth/oidc")).json()
    assert info == {
        "enabled": True,
        "name": "Test ID",
        "hide_password_form": False,
        "forward_auth": False,
    }
    r = await sign_in(client, "admin-alice")
    assert r.status_code == 302 and r.headers["location"] == "/", r.text
    cookies = " ".join(r.headers.get_list("set-cookie"))
    assert "unity_session=" in cookies and "HttpOnly" in cookies
    me = (await client.get("/api/v1/auth/me")).json()
    assert (me["username"], me["role"]) == ("admin-alice", "admin")
    csrf = {"X-CSRF-Token": client.cookies["unity_csrf"]}
    assert (await client.delete("/api/v1/auth/session", headers=csrf)).status_code == 204

    r = await sign_in(client, "bob")
    assert r.status_code == 302
    bob = (await client.get("/api/v1/auth/me")).json()
    assert (bob["username"], bob["role"]) == ("bob", "viewer")
    assert (await client.get("/api/v1/users")).status_code == 403
    client.cookies.clear()
    await sign_in(client, "bob")
    assert (await client.get("/api/v1/auth/me")).json()["id"] == bob["id"]


async def test_a_tampered_state_is_refused(client: httpx.AsyncClient) -> None:
    back = await at_provider(client, "carol")
    forged = re.sub(r"state=[^&]+", "state=forged", back)
    r = await client.get(forged[len(UNITY) :])
    assert r.status_code == 400 and "state does not match" in r.json()["detail"]
    assert "unity_session" not in client.cookies


async def test_a_user_outside_the_allowed_groups_is_refused(client: httpx.AsyncClient) -> None:
    r = await sign_in(client, "outsider-mallory")
    assert r.status_code == 403 and "OIDC_ALLOWED_GROUPS" in r.json()["detail"]
    assert "unity_session" not in client.cookies


async def test_an_expired_id_token_is_refused(app: Any, client: httpx.AsyncClient) -> None:
    app.state.unity.oidc.clock = lambda: time.time() + 2 * 3600  # the provider's tokens last 1 h
    r = await sign_in(client, "dave")
    assert r.status_code == 400 and "expired" in r.json()["detail"]


async def test_a_provider_with_another_issuer_is_refused(issuer: str, tmp_path: Path) -> None:
    settings = oidc_settings(issuer + "/", f"sqlite:///{tmp_path / 'homelab.db'}", tmp_path)
    async with (
        running_app(settings) as app,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=UNITY) as client,
    ):
        r = await client.get("/api/v1/auth/oidc/login")
    assert r.status_code == 400 and "calls itself" in r.json()["detail"]


async def test_without_settings_there_is_no_sso(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'homelab.db'}", tmp_path)
    async with (
        running_app(settings) as app,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=UNITY) as client,
    ):
        assert (await client.get("/api/v1/auth/oidc")).json()["enabled"] is False
        assert (await client.get("/api/v1/auth/oidc/login")).status_code == 404
