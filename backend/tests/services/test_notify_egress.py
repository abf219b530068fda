"""Notification channels obey the SSRF policy: metadata never, denied ranges after DNS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.core import egress
from app.services.notify.notifier import egress_refusal
from tests.alert_helpers import Receiver
from tests.conftest import PASSWORD, make_settings, running_app


@pytest.fixture
async def denying(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """An admin's client of an app whose CHECK_DENY_NETWORKS covers loopback."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    settings = make_settings(url, tmp_path, check_deny_networks="127.0.0.0/8,::1/128")
    try:
        async with (
            running_app(settings) as app,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
        ):
            await c.post("/api/v1/auth/setup", json={"username": "admin", "password": PASSWORD})
            r = await c.post("/api/v1/auth/login", data={"username": "admin", "password": PASSWORD})
            yield c, {"Authorization": f"Bearer {r.json()['access_token']}"}
    finally:
        egress.configure(egress.DEFAULT_DENY, [])


async def test_a_webhook_into_a_denied_range_is_refused_without_connecting(
    denying: tuple[httpx.AsyncClient, dict[str, str]], receiver: Receiver
) -> None:
    client, admin = denying
    url = f"json://localhost:{receiver.port}/hook"
    r = await client.post("/api/v1/channels", json={"name": "hook", "url": url}, headers=admin)
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/channels/{r.json()['id']}/test", headers=admin)
    body = r.json()
    assert body["ok"] is False
    assert "localhost resolves to" in body["error"] and "CHECK_DENY_NETWORKS" in body["error"]
    assert receiver.requests == []


async def test_a_metadata_host_is_refused_when_the_channel_is_saved(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for url in ("json://169.254.169.254/latest", "gotify://metadata.google.internal/token"):
        r = await client.post("/api/v1/channels", json={"name": "m", "url": url}, headers=admin)
        assert r.status_code == 422 and "cloud metadata" in r.json()["detail"], r.text


async def test_a_cloud_service_token_is_not_taken_for_a_host() -> None:
    # tgram://<bot token>/<chat>: the "host" is a token, and Apprise talks to Telegram itself
    egress.configure(["0.0.0.0/0", "::/0"], [])
    try:
        assert await egress_refusal("tgram://123456789:AAbbCC/12345", 2) is None
        assert await egress_refusal("json://10.0.0.1/hook", 2) is not None
    finally:
        egress.configure(egress.DEFAULT_DENY, [])
