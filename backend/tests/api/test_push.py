"""Push (heartbeat) monitors over the API: the secret URL, calls, limits, health and alerting."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from app.core.logging import MaskPushTokens
from app.models import PushMonitor
from tests.conftest import make_settings


async def push_plugin(client: httpx.AsyncClient, admin: dict[str, str], **config: Any) -> dict:
    body = {
        "name": "nightly backup",
        "type": "push",
        "config": {"heartbeat_interval_seconds": 3600, "grace_seconds": 600, **config},
    }
    r = await client.post("/api/v1/plugins", json=body, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()


async def token_of(client: httpx.AsyncClient, admin: dict[str, str], plugin_id: int) -> str:
    r = await client.get(f"/api/v1/plugins/{plugin_id}/push-token", headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["url_path"] == f"/api/v1/push/{body['token']}"
    return str(body["token"])


async def run_now(client: httpx.AsyncClient, admin: dict[str, str], plugin_id: int) -> dict:
    r = await client.post(f"/api/v1/plugins/{plugin_id}/run", headers=admin)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_job_reports_up_then_down_and_health_follows(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    plugin = await push_plugin(client, admin)
    token = await token_of(client, admin, plugin["id"])
    assert len(token) >= 32  # 192 bits, URL-safe

    # Before any call, inside interval + grace: waiting, not failing.
    assert (await run_now(client, admin, plugin["id"]))["status"] == "success"

    r = await client.get(f"/api/v1/push/{token}", params={"status": "up", "msg": "OK", "ping": 12})
    assert r.status_code == 200 and r.json() == {"ok": True}
    run = await run_now(client, admin, plugin["id"])
    assert run["status"] == "success"
    health = (await client.get(f"/api/v1/plugins/{plugin['id']}/health", headers=admin)).json()
    assert health["status"] == "healthy"

    r = await client.post(f"/api/v1/push/{token}?status=down&msg=disk%20full")
    assert r.status_code == 200
    run = await run_now(client, admin, plugin["id"])
    assert run["status"] == "error" and "disk full" in run["error"]
    health = (await client.get(f"/api/v1/plugins/{plugin['id']}/health", headers=admin)).json()
    assert health["status"] == "down"  # one failed check is the outage for a push monitor


async def test_no_call_within_interval_and_grace_is_down(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    plugin = await push_plugin(client, admin, heartbeat_interval_seconds=60, grace_seconds=30)
    token = await token_of(client, admin, plugin["id"])
    assert (await client.get(f"/api/v1/push/{token}")).status_code == 200
    db = app.state.unity.db
    async with db.session() as session:  # the last call was 91 s ago
        await session.execute(
            update(PushMonitor).values(last_push_at=datetime.now(UTC) - timedelta(seconds=91))
        )
        await session.commit()
    run = await run_now(client, admin, plugin["id"])
    assert run["status"] == "error"
    assert "expected every 60 s with 30 s grace" in run["error"]
    health = (await client.get(f"/api/v1/plugins/{plugin['id']}/health", headers=admin)).json()
    assert health["status"] == "down"


async def test_samples_in_the_body_become_metrics(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    plugin = await push_plugin(client, admin)
    token = await token_of(client, admin, plugin["id"])
    body = [{"name": "backup_bytes", "value": 123, "unit": "bytes"}]
    r = await client.post(f"/api/v1/push/{token}", json=body)
    assert r.status_code == 200, r.text
    await app.state.unity.writer.flushed()
    r = await client.get(
        "/api/v1/metrics/latest", params={"plugin_id": plugin["id"]}, headers=admin
    )
    values = {s["name"]: s["value"] for s in r.json()["items"]}
    assert values["backup_bytes"] == 123

    too_many = [{"name": f"m{i}", "value": i} for i in range(101)]
    r = await client.post(f"/api/v1/push/{token}", json=too_many)
    assert r.status_code == 422 and "at most 100" in r.json()["detail"]
    r = await client.post(f"/api/v1/push/{token}", content=b"x" * (64 * 1024 + 1))
    assert r.status_code == 413 and r.json()["error"] == "PayloadTooLarge"
    r = await client.get(f"/api/v1/push/{token}", params={"status": "sideways"})
    assert r.status_code == 422 and "status" in r.json()["fields"]


async def test_push_limits_say_what_to_change(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    plugin = await push_plugin(client, admin)
    token = await token_of(client, admin, plugin["id"])
    r = await client.post(f"/api/v1/push/{token}", content=b"x" * (64 * 1024 + 1))
    assert r.status_code == 413 and "64 KB a push accepts" in r.json()["detail"]

    async def chunks() -> Any:  # no Content-Length: counted while it streams in
        for _ in range(5):
            yield b" " * (16 * 1024)

    r = await client.post(f"/api/v1/push/{token}", content=chunks())
    assert r.status_code == 413 and r.json()["error"] == "PayloadTooLarge"
    for method in ("GET", "POST"):
        r = await client.request(method, f"/api/v1/push/{token}", params={"msg": "x" * 501})
        assert r.status_code == 422 and "msg" in r.json()["fields"], r.text
        r = await client.request(method, f"/api/v1/push/{token}", params={"msg": "x" * 500})
        assert r.status_code == 200, r.text


async def test_token_is_stored_hashed_and_rotation_retires_the_old_url(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    plugin = await push_plugin(client, admin)
    old = await token_of(client, admin, plugin["id"])
    assert await token_of(client, admin, plugin["id"]) == old  # shown again, not re-made
    async with app.state.unity.db.session() as session:
        row = await session.get(PushMonitor, plugin["id"])
        assert row is not None
        assert row.token_hash == hashlib.sha256(old.encode()).hexdigest()
        assert old not in row.token_encrypted

    r = await client.post(f"/api/v1/plugins/{plugin['id']}/push-token", headers=admin)
    new = r.json()["token"]
    assert r.status_code == 200 and new != old
    gone = await client.get(f"/api/v1/push/{old}")
    never = await client.get("/api/v1/push/" + "A" * 32)
    assert gone.status_code == never.status_code == 404
    assert gone.json() == never.json()  # a rotated token reads as one that never existed
    assert old not in gone.text
    assert (await client.get(f"/api/v1/push/{new}")).status_code == 200

    r = await client.get(f"/api/v1/plugins/{plugin['id']}/push-token", headers=viewer)
    assert r.status_code == 403
    tcp = await client.post(
        "/api/v1/plugins",
        json={"name": "port", "type": "tcp", "config": {"host": "127.0.0.1", "port": 9}},
        headers=admin,
    )
    r = await client.get(f"/api/v1/plugins/{tcp.json()['id']}/push-token", headers=admin)
    assert r.status_code == 422 and "only push plugins" in r.json()["detail"]

    # Deleting the plugin retires its URL too.
    await client.delete(f"/api/v1/plugins/{plugin['id']}", headers=admin)
    assert (await client.get(f"/api/v1/push/{new}")).status_code == 404


@pytest.fixture
def settings(database_url: str, tmp_path: Any) -> Any:
    """Every test here: at most 3 calls a minute per token (no test above needs more)."""
    return make_settings(database_url, tmp_path, push_rate_per_minute=3)


async def test_calls_are_rate_limited_per_token(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    plugin = await push_plugin(client, admin)
    token = await token_of(client, admin, plugin["id"])
    codes = [(await client.get(f"/api/v1/push/{token}")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = await client.get(f"/api/v1/push/{token}")
    assert r.json()["error"] == "TooManyRequests" and int(r.headers["retry-after"]) > 0


def test_access_log_lines_hide_the_token() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/v1/push/s3cr3tT0ken?status=up", "1.1", 200),
        None,
    )
    MaskPushTokens().filter(record)
    assert "s3cr3tT0ken" not in record.getMessage()
    assert "/api/v1/push/***?status=up" in record.getMessage()
