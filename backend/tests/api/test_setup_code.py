"""First-run setup cannot be claimed by someone else on the LAN: it needs the setup code from
the server log unless the request comes from the server itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.main import create_app
from tests.conftest import PASSWORD, make_settings
from tests.core.test_cli import run_cli

LAN = ("192.168.1.50", 50000)
ADMIN = {"username": "admin", "password": PASSWORD}

Client = Callable[[tuple[str, int]], httpx.AsyncClient]


@asynccontextmanager
async def unity(tmp_path: Path, **overrides: Any) -> AsyncIterator[Client]:
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path, **overrides)
    app = create_app(settings)
    async with app.router.lifespan_context(app):

        def client(peer: tuple[str, int]) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=peer)
            return httpx.AsyncClient(transport=transport, base_url="http://unity.lan")

        yield client


def code_in(tmp_path: Path) -> str:
    return (tmp_path / ".setup_code").read_text()


async def test_a_lan_client_needs_the_code_from_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if True:  # the server's log goes to stdout
        async with unity(tmp_path) as make, make(LAN) as lan:
            code = code_in(tmp_path)
            logged = capsys.readouterr().out
            assert code in logged and "docker compose logs backend" in logged
            assert (tmp_path / ".setup_code").stat().st_mode & 0o077 == 0

            r = await lan.get("/api/v1/auth/setup")
            assert r.json() == {"needs_setup": True, "needs_code": True}
            r = await lan.post("/api/v1/auth/setup", json=ADMIN)
            assert r.status_code == 403
            assert "setup code is needed" in r.json()["detail"]
            r = await lan.post("/api/v1/auth/setup", json={**ADMIN, "setup_code": "AAAA-BBBB-CCCC"})
            assert r.status_code == 403 and "setup code is wrong" in r.json()["detail"]
            assert code not in r.text

            r = await lan.post("/api/v1/auth/setup", json={**ADMIN, "setup_code": code.lower()})
            assert r.status_code == 201, r.text
            assert not (tmp_path / ".setup_code").exists()  # used up
            r = await lan.post("/api/v1/auth/setup", json={**ADMIN, "setup_code": code})
            assert r.status_code == 409


async def test_the_server_itself_needs_no_code(tmp_path: Path) -> None:
    async with unity(tmp_path) as make, make(("127.0.0.1", 40000)) as local:
        assert (await local.get("/api/v1/auth/setup")).json()["needs_code"] is False
        r = await local.post("/api/v1/auth/setup", json=ADMIN)
        assert r.status_code == 201


async def test_a_spoofed_forwarded_for_does_not_make_a_lan_client_local(tmp_path: Path) -> None:
    async with unity(tmp_path) as make, make(LAN) as lan:
        r = await lan.post(
            "/api/v1/auth/setup", json=ADMIN, headers={"X-Forwarded-For": "127.0.0.1"}
        )
        assert r.status_code == 403


async def test_behind_a_local_proxy_the_real_client_counts(tmp_path: Path) -> None:
    async with unity(tmp_path) as make, make(("127.0.0.1", 40000)) as proxy:
        forwarded = {"X-Forwarded-For": "192.168.1.50"}
        r = await proxy.get("/api/v1/auth/setup", headers=forwarded)
        assert r.json()["needs_code"] is True
        r = await proxy.post("/api/v1/auth/setup", json=ADMIN, headers=forwarded)
        assert r.status_code == 403


async def test_setup_code_from_the_environment_and_loopback_off(tmp_path: Path) -> None:
    async with (
        unity(tmp_path, setup_code="my-own-code", setup_allow_loopback=False) as make,
        make(("127.0.0.1", 40000)) as local,
    ):
        assert not (tmp_path / ".setup_code").exists()
        assert (await local.get("/api/v1/auth/setup")).json()["needs_code"] is True
        r = await local.post("/api/v1/auth/setup", json=ADMIN)
        assert r.status_code == 403
        r = await local.post("/api/v1/auth/setup", json={**ADMIN, "setup_code": "MY-OWN-CODE"})
        assert r.status_code == 201


async def test_the_cli_prints_the_code(tmp_path: Path) -> None:
    async with unity(tmp_path):
        code = code_in(tmp_path)
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = run_cli(tmp_path, "setup-code", DATABASE_URL=db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == code  # logs go to stdout too
    (tmp_path / ".setup_code").unlink()
    result = run_cli(tmp_path, "setup-code", DATABASE_URL=db)
    assert result.returncode == 1 and "there is no setup code" in result.stderr
