"""The SSRF policy through the API: who may create checks, and what a refused check says."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.core import egress
from app.main import create_app
from tests.conftest import PASSWORD, make_settings

METADATA = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


async def test_a_metadata_url_is_refused_with_a_sentence(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {"name": "meta", "type": "http", "config": {"url": METADATA}}
    r = await client.post("/api/v1/plugins", headers=admin, json=body)
    assert r.status_code == 422
    assert "cloud metadata address" in r.json()["fields"]["config.url"]
    assert (await client.get("/api/v1/plugins", headers=admin)).json() == []


async def test_viewers_cannot_create_or_edit_checks(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    body = {"name": "lan", "type": "http", "config": {"url": "http://192.168.1.1/"}}
    body["enabled"] = False
    r = await client.post("/api/v1/plugins", headers=viewer, json=body)
    assert r.status_code == 403
    r = await client.post("/api/v1/plugins", headers=admin, json=body)
    assert r.status_code == 201
    r = await client.patch(
        f"/api/v1/plugins/{r.json()['id']}", headers=viewer, json={"config": {"url": METADATA}}
    )
    assert r.status_code == 403


@pytest.fixture
async def denying_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path, check_deny_networks="127.0.0.0/8,::1/128"
    )
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                yield c
    finally:
        egress.configure(egress.DEFAULT_DENY, [])


async def test_the_setting_reaches_the_checks(denying_client: httpx.AsyncClient) -> None:
    c = denying_client
    await c.post("/api/v1/auth/setup", json={"username": "admin", "password": PASSWORD})
    r = await c.post("/api/v1/auth/login", data={"username": "admin", "password": PASSWORD})
    admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
    body = {"name": "self", "type": "http", "config": {"url": "http://localhost:9/"}}
    r = await c.post("/api/v1/plugins", headers=admin, json={**body, "enabled": False})
    assert r.status_code == 201, r.text
    r = await c.post(f"/api/v1/plugins/{r.json()['id']}/run", headers=admin)
    assert r.status_code == 200
    assert r.json()["status"] == "error"
    assert "localhost resolves to" in r.json()["error"]
    assert "CHECK_DENY_NETWORKS" in r.json()["error"]
