"""Login rate limits (per address, per username, via trusted proxies only), CORS, trusted hosts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.config import Settings
from tests.conftest import PASSWORD, make_settings, running_app

IP_LIMIT = 4
USER_LIMIT = 3
ATTACKER = "203.0.113.9"  # not a trusted proxy
PROXY = "127.0.0.1"  # trusted by default, like nginx in front of the backend


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Limits, CORS and hosts are in-process concerns: SQLite only."""
    return f"sqlite:///{tmp_path / 'homelab.db'}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        login_rate_per_minute_ip=IP_LIMIT,
        login_rate_per_minute_user=USER_LIMIT,
    )


@asynccontextmanager
async def peer(
    app: Any, address: str, base_url: str = "http://t"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose TCP peer address is `address`, as the ASGI server would report it."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as c:
        yield c


async def _login(
    c: httpx.AsyncClient, user: str, pw: str, xff: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": xff} if xff else {}
    return await c.post(
        "/api/v1/auth/login", data={"username": user, "password": pw}, headers=headers
    )


def _assert_429(r: httpx.Response, which: str) -> None:
    assert r.status_code == 429, r.text
    retry = int(r.headers["Retry-After"])
    assert 1 <= retry <= 61
    body = r.json()
    assert body["error"] == "TooManyRequests"
    assert body["detail"] == (
        f"Too many failed sign-in attempts {which}; try again in {retry} seconds."
    )


async def test_per_address_limit_holds_and_a_spoofed_forwarded_for_does_not_escape_it(
    app: Any, admin: dict[str, str]
) -> None:
    async with peer(app, ATTACKER) as c:
        # different usernames, so only the per-address limit is in play
        for i in range(IP_LIMIT):
            r = await _login(c, f"guess{i}", "wrong-password", xff=f"198.51.100.{i}")
            assert r.status_code == 401
        for i in range(5):
            r = await _login(c, f"other{i}", "wrong-password", xff=f"192.0.2.{i}")
            _assert_429(r, "from your address")
        # even the right password is refused from that address until the window passes
        _assert_429(await _login(c, "admin", PASSWORD, xff="192.0.2.200"), "from your address")
    async with peer(app, "203.0.113.10") as other:
        assert (await _login(other, "admin", PASSWORD)).status_code == 200


async def test_per_username_limit_holds_across_addresses(app: Any, admin: dict[str, str]) -> None:
    for i in range(USER_LIMIT):
        async with peer(app, f"203.0.113.{20 + i}") as c:
            assert (await _login(c, "admin", "wrong-password")).status_code == 401
    async with peer(app, "203.0.113.99") as c:
        _assert_429(await _login(c, "admin", PASSWORD), "for this account")
        _assert_429(await _login(c, "ADMIN", "wrong-password"), "for this account")
        # another account from the same fresh address is unaffected
        r = await _login(c, "someone-else", "wrong-password")
        assert r.status_code == 401


async def test_a_trusted_proxy_forwards_each_clients_own_address(
    app: Any, admin: dict[str, str]
) -> None:
    async with peer(app, PROXY) as nginx:
        for i in range(IP_LIMIT):
            r = await _login(nginx, f"guess{i}", "wrong-password", xff="198.51.100.1")
            assert r.status_code == 401
        _assert_429(
            await _login(nginx, "x", "wrong-password", xff="198.51.100.1"), "from your address"
        )
        # a client prepending a fake address: nginx appends the real one, which is what counts
        r = await _login(nginx, "x", "wrong-password", xff="10.9.9.9, 198.51.100.1")
        _assert_429(r, "from your address")
        # the limited client does not lock out everyone else behind the same proxy
        r = await _login(nginx, "admin", PASSWORD, xff="198.51.100.2")
        assert r.status_code == 200


async def test_a_successful_login_resets_only_the_account_limit(
    app: Any, admin: dict[str, str]
) -> None:
    async with peer(app, PROXY) as nginx:
        for i in range(USER_LIMIT - 1):
            await _login(nginx, "admin", "wrong-password", xff=f"198.51.100.{30 + i}")
        assert (await _login(nginx, "admin", PASSWORD, xff="198.51.100.40")).status_code == 200
        for i in range(USER_LIMIT - 1):  # would be over the limit without the reset
            r = await _login(nginx, "admin", "wrong-password", xff=f"198.51.100.{50 + i}")
            assert r.status_code == 401


@asynccontextmanager
async def running(tmp_path: Path, **overrides: Any) -> AsyncIterator[Any]:
    async with running_app(
        make_settings(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, **overrides)
    ) as app:
        yield app


ALLOWED = "http://unity-ui.lan:5173"


async def test_cors_headers_only_for_listed_origins(tmp_path: Path) -> None:
    async with running(tmp_path, cors_origins=[ALLOWED]) as app, peer(app, ATTACKER) as c:
        r = await c.get("/health", headers={"Origin": ALLOWED})
        assert r.headers["access-control-allow-origin"] == ALLOWED
        assert r.headers["access-control-allow-credentials"] == "true"
        r = await c.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers

        preflight = {
            "Access-Control-Request-Method": "DELETE",
            "Access-Control-Request-Headers": "authorization",
        }
        r = await c.options("/api/v1/plugins/1", headers={"Origin": ALLOWED, **preflight})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == ALLOWED
        assert "authorization" in r.headers["access-control-allow-headers"].lower()
        r = await c.options(
            "/api/v1/plugins/1", headers={"Origin": "https://evil.example", **preflight}
        )
        assert r.status_code == 400
        assert "access-control-allow-origin" not in r.headers


async def test_no_cors_headers_at_all_by_default(app: Any) -> None:
    async with peer(app, ATTACKER) as c:
        r = await c.get("/health", headers={"Origin": ALLOWED})
        assert not [h for h in r.headers if h.startswith("access-control-")]


async def test_trusted_hosts_refuse_other_host_headers(tmp_path: Path) -> None:
    async with running(tmp_path, trusted_hosts=["unity.lan", "*.home.arpa"]) as app:
        for host in ("unity.lan", "nas.home.arpa"):
            async with peer(app, ATTACKER, base_url=f"http://{host}") as c:
                assert (await c.get("/health")).status_code == 200
        async with peer(app, ATTACKER, base_url="http://rebound.example") as c:
            r = await c.get("/health")
            assert r.status_code == 400
            assert (await c.get("/api/v1/auth/setup")).status_code == 400
