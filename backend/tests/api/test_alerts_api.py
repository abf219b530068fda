"""The alerts and channels API: CRUD, roles, masked channel URLs, test sends, incident history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.models import AlertIncident, NotificationChannel
from tests.alert_helpers import Receiver
from tests.conftest import add_plugin


@pytest.fixture
async def plugin_id(app: Any) -> int:
    return await add_plugin(app.state.unity.db)


async def _channel(
    client: httpx.AsyncClient, admin: dict[str, str], url: str, name: str = "hook"
) -> dict[str, Any]:
    r = await client.post("/api/v1/channels", json={"name": name, "url": url}, headers=admin)
    assert r.status_code == 201, r.text
    return dict(r.json())


# ------------------------------------------------------------------------- channels
async def test_channel_urls_are_encrypted_and_never_returned(
    client: httpx.AsyncClient, admin: dict[str, str], app: Any, receiver: Receiver
) -> None:
    url = receiver.url("secret-token-path")
    ch = await _channel(client, admin, url)
    assert ch["url"] == "********" and ch["service"] == "JSON"
    assert ch["enabled"] and ch["send_resolved"]
    for r in (
        await client.get("/api/v1/channels", headers=admin),
        await client.get(f"/api/v1/channels/{ch['id']}", headers=admin),
    ):
        assert r.status_code == 200
        assert "secret-token-path" not in r.text
    async with app.state.unity.db.session() as s:
        stored = await s.get(NotificationChannel, ch["id"])
        assert stored is not None and "secret-token-path" not in stored.url_encrypted
        assert app.state.unity.box.decrypt(stored.url_encrypted) == {"url": url}

    # "********" keeps the stored URL; a new URL replaces it.
    r = await client.patch(
        f"/api/v1/channels/{ch['id']}", json={"url": "********", "name": "renamed"}, headers=admin
    )
    assert r.status_code == 200 and r.json()["name"] == "renamed"
    async with app.state.unity.db.session() as s:
        stored = await s.get(NotificationChannel, ch["id"])
        assert stored is not None
        assert app.state.unity.box.decrypt(stored.url_encrypted) == {"url": url}
    r = await client.patch(
        f"/api/v1/channels/{ch['id']}", json={"url": "ntfy://my-topic"}, headers=admin
    )
    assert r.status_code == 200 and r.json()["service"] == "ntfy"


async def test_channel_validation_and_conflicts(
    client: httpx.AsyncClient, admin: dict[str, str], receiver: Receiver
) -> None:
    r = await client.post(
        "/api/v1/channels", json={"name": "x", "url": "bogus://nothing"}, headers=admin
    )
    assert r.status_code == 422 and r.json()["error"] == "InvalidInput"
    assert "Apprise" in r.json()["detail"]
    await _channel(client, admin, receiver.url())
    r = await client.post(
        "/api/v1/channels", json={"name": "hook", "url": receiver.url()}, headers=admin
    )
    assert r.status_code == 409 and r.json()["error"] == "Conflict"
    r = await client.get("/api/v1/channels/999", headers=admin)
    assert r.status_code == 404 and r.json()["error"] == "NotFound"


async def test_send_test_reaches_the_receiver_and_is_logged(
    client: httpx.AsyncClient, admin: dict[str, str], receiver: Receiver
) -> None:
    ch = await _channel(client, admin, receiver.url())
    r = await client.post(f"/api/v1/channels/{ch['id']}/test", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True and r.json()["error"] is None
    [msg] = receiver.delivered
    assert msg["title"] == "Unity test notification" and "hook" in msg["message"]

    receiver.fail_next = 1
    r = await client.post(f"/api/v1/channels/{ch['id']}/test", headers=admin)
    assert r.status_code == 200
    assert r.json()["ok"] is False and "500" in r.json()["error"]

    r = await client.get(f"/api/v1/channels/{ch['id']}/deliveries", headers=admin)
    body = r.json()
    assert body["total"] == 2
    assert [d["status"] for d in body["items"]] == ["failed", "sent"]
    assert all(d["kind"] == "test" for d in body["items"])
    r = await client.get(f"/api/v1/channels/{ch['id']}/deliveries?status=sent", headers=admin)
    assert r.json()["total"] == 1


# ------------------------------------------------------------------------- rules
async def test_rule_crud(
    client: httpx.AsyncClient, admin: dict[str, str], plugin_id: int, receiver: Receiver
) -> None:
    ch = await _channel(client, admin, receiver.url())
    body = {
        "name": "disk",
        "kind": "metric",
        "plugin_id": plugin_id,
        "metric": "disk_used_percent",
        "labels": {"mount": "/"},
        "op": ">=",
        "threshold": 90,
        "for_seconds": 300,
        "channel_ids": [ch["id"]],
    }
    r = await client.post("/api/v1/alerts/rules", json=body, headers=admin)
    assert r.status_code == 201, r.text
    rule = r.json()
    assert rule["channel_ids"] == [ch["id"]] and rule["labels"] == {"mount": "/"}
    assert rule["keep_firing_seconds"] == 60 and rule["severity"] == "warning"
    assert rule["pending"] == 0 and rule["firing"] == 0

    r = await client.patch(
        f"/api/v1/alerts/rules/{rule['id']}",
        json={"threshold": 95, "channel_ids": [], "severity": "critical"},
        headers=admin,
    )
    assert r.status_code == 200
    assert r.json()["threshold"] == 95 and r.json()["channel_ids"] == []
    assert r.json()["metric"] == "disk_used_percent"

    r = await client.post(
        "/api/v1/alerts/rules",
        json={"name": "all down", "kind": "health", "for_seconds": 600},
        headers=admin,
    )
    assert r.status_code == 201 and r.json()["plugin_id"] is None and r.json()["metric"] is None

    r = await client.get("/api/v1/alerts/rules", headers=admin)
    assert [x["name"] for x in r.json()] == ["disk", "all down"]
    assert (
        await client.delete(f"/api/v1/alerts/rules/{rule['id']}", headers=admin)
    ).status_code == 204
    assert (
        await client.get(f"/api/v1/alerts/rules/{rule['id']}", headers=admin)
    ).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"name": "m", "kind": "metric"}, 422, "metric"),
        ({"name": "m", "metric": "x", "channel_ids": [12345]}, 422, "12345"),
        ({"name": "m", "metric": "x", "plugin_id": 12345}, 422, "12345"),
        ({"name": "m", "metric": "x", "op": "=>"}, 422, ""),
        ({"name": "m", "metric": "x", "for_seconds": -1}, 422, ""),
        ({"name": "m", "metric": "x", "surprise": 1}, 422, ""),
    ],
)
async def test_rule_validation(
    client: httpx.AsyncClient, admin: dict[str, str], body: dict[str, Any], status: int, needle: str
) -> None:
    r = await client.post("/api/v1/alerts/rules", json=body, headers=admin)
    assert r.status_code == status, r.text
    assert needle in r.text


async def test_viewers_read_but_cannot_write(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str], receiver: Receiver
) -> None:
    ch = await _channel(client, admin, receiver.url())
    for path in (
        "/api/v1/alerts/rules",
        "/api/v1/alerts/incidents",
        "/api/v1/alerts/silences",
        "/api/v1/alerts/states",
        "/api/v1/channels",
        f"/api/v1/channels/{ch['id']}/deliveries",
    ):
        assert (await client.get(path, headers=viewer)).status_code == 200, path
        assert (await client.get(path)).status_code == 401, path
    writes = [
        ("POST", "/api/v1/alerts/rules", {"name": "r", "metric": "x"}),
        ("POST", "/api/v1/channels", {"name": "c", "url": receiver.url()}),
        ("POST", f"/api/v1/channels/{ch['id']}/test", None),
        ("DELETE", f"/api/v1/channels/{ch['id']}", None),
        (
            "POST",
            "/api/v1/alerts/silences",
            {"starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-02T00:00:00Z"},
        ),
    ]
    for method, path, body in writes:
        r = await client.request(method, path, json=body, headers=viewer)
        assert r.status_code == 403 and r.json()["error"] == "Forbidden", path
    assert receiver.requests == []


# ------------------------------------------------------------------------- silences
async def test_silence_crud_and_active_filter(
    client: httpx.AsyncClient, admin: dict[str, str], plugin_id: int
) -> None:
    now = datetime.now(UTC)
    iso = lambda d: d.isoformat().replace("+00:00", "Z")  # noqa: E731
    r = await client.post(
        "/api/v1/alerts/silences",
        headers=admin,
        json={
            "plugin_id": plugin_id,
            "starts_at": iso(now - timedelta(minutes=5)),
            "ends_at": iso(now + timedelta(hours=2)),
            "comment": "disk swap",
        },
    )
    assert r.status_code == 201, r.text
    current = r.json()
    assert current["active"] is True and current["created_by"] == "admin"
    r = await client.post(
        "/api/v1/alerts/silences",
        headers=admin,
        json={
            "starts_at": iso(now + timedelta(days=1)),
            "ends_at": iso(now + timedelta(days=1, hours=1)),
        },
    )
    assert r.status_code == 201 and r.json()["active"] is False and r.json()["plugin_id"] is None

    r = await client.get("/api/v1/alerts/silences?active=true", headers=admin)
    assert [s["id"] for s in r.json()] == [current["id"]]
    assert len((await client.get("/api/v1/alerts/silences", headers=admin)).json()) == 2

    # End it early.
    r = await client.patch(
        f"/api/v1/alerts/silences/{current['id']}",
        headers=admin,
        json={"ends_at": iso(now - timedelta(seconds=1))},
    )
    assert r.status_code == 200 and r.json()["active"] is False
    assert (await client.get("/api/v1/alerts/silences?active=true", headers=admin)).json() == []
    r = await client.delete(f"/api/v1/alerts/silences/{current['id']}", headers=admin)
    assert r.status_code == 204


@pytest.mark.parametrize(
    "body",
    [
        {"starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"},
        {"starts_at": "2030-01-01T00:00:00", "ends_at": "2030-01-02T00:00:00"},  # no timezone
        {"starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-02T00:00:00Z", "plugin_id": 999},
    ],
)
async def test_silence_validation(
    client: httpx.AsyncClient, admin: dict[str, str], body: dict[str, Any]
) -> None:
    r = await client.post("/api/v1/alerts/silences", json=body, headers=admin)
    assert r.status_code == 422, r.text


# ------------------------------------------------------------------------- incidents
async def test_incident_history_filters_and_pages(
    client: httpx.AsyncClient, admin: dict[str, str], app: Any
) -> None:
    base = datetime(2030, 5, 1, tzinfo=UTC)
    async with app.state.unity.db.session() as s:
        for i in range(7):
            s.add(
                AlertIncident(
                    rule_id=None,
                    rule_name=f"r{i % 2}",
                    rule={"op": ">", "threshold": 1},
                    kind="metric",
                    severity="critical" if i % 2 else "warning",
                    plugin_id=i % 3,
                    plugin_name="p",
                    metric="m",
                    labels={},
                    status="firing" if i == 6 else "resolved",
                    summary=f"incident {i}",
                    started_at=base + timedelta(hours=i),
                    fired_at=base + timedelta(hours=i),
                    silenced=i == 3,
                    notified=i != 3,
                )
            )
        await s.commit()
    r = await client.get("/api/v1/alerts/incidents?limit=3", headers=admin)
    page = r.json()
    assert page["total"] == 7 and page["limit"] == 3
    assert [x["summary"] for x in page["items"]] == ["incident 6", "incident 5", "incident 4"]
    r = await client.get("/api/v1/alerts/incidents?limit=3&offset=6", headers=admin)
    assert [x["summary"] for x in r.json()["items"]] == ["incident 0"]

    async def count(query: str) -> int:
        r = await client.get(f"/api/v1/alerts/incidents?{query}", headers=admin)
        assert r.status_code == 200, r.text
        return int(r.json()["total"])

    assert await count("status=firing") == 1
    assert await count("severity=critical") == 3
    assert await count("plugin_id=0") == 3
    assert await count("silenced=true") == 1
    assert await count("since=2030-05-01T02:00:00Z&until=2030-05-01T04:00:00Z") == 2
    r = await client.get("/api/v1/alerts/incidents?since=2030-05-01T02:00:00", headers=admin)
    assert r.status_code == 422  # timestamps need a timezone

    first = page["items"][0]
    r = await client.get(f"/api/v1/alerts/incidents/{first['id']}", headers=admin)
    assert r.status_code == 200 and r.json()["deliveries"] == []
    assert (await client.get("/api/v1/alerts/incidents/99999", headers=admin)).status_code == 404


async def test_an_alert_shows_up_in_states_incidents_and_rule_counts(
    client: httpx.AsyncClient, admin: dict[str, str], app: Any, plugin_id: int, receiver: Receiver
) -> None:
    """Through the API alone: a rule, a sample that breaches it, and what the UI would show."""
    from app.plugins.base import Sample

    state = app.state.unity
    ch = await _channel(client, admin, receiver.url())
    r = await client.post(
        "/api/v1/alerts/rules",
        headers=admin,
        json={
            "name": "hot",
            "plugin_id": plugin_id,
            "metric": "temp_c",
            "threshold": 80,
            "for_seconds": 0,
            "channel_ids": [ch["id"]],
        },
    )
    rule = r.json()
    state.writer.submit(
        plugin_id, datetime.now(UTC), [Sample("temp_c", 85.5, "C", {"zone": "cpu"})]
    )
    await state.writer.flushed()
    await state.alerts.idle()

    [st] = (await client.get("/api/v1/alerts/states", headers=admin)).json()
    assert st["state"] == "firing" and st["rule_id"] == rule["id"] and st["value"] == 85.5
    assert st["labels"] == {"zone": "cpu"}
    got = (await client.get(f"/api/v1/alerts/rules/{rule['id']}", headers=admin)).json()
    assert got["firing"] == 1
    [incident] = (await client.get("/api/v1/alerts/incidents", headers=admin)).json()["items"]
    assert incident["status"] == "firing" and incident["value"] == 85.5
    assert incident["rule"]["threshold"] == 80 and incident["plugin_name"] == "nas"
    assert incident["fired_at"].endswith("Z")
    detail = (await client.get(f"/api/v1/alerts/incidents/{incident['id']}", headers=admin)).json()
    [delivery] = detail["deliveries"]
    assert delivery["status"] == "sent" and delivery["kind"] == "firing"
    assert receiver.delivered[0]["title"] == "[FIRING] hot: nas"

    async with state.db.session() as s:
        assert (await s.scalar(select(AlertIncident.silenced))) is False


async def test_operation_ids_read_well(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    ids = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {
        "alerts-list_rules",
        "alerts-create_rule",
        "alerts-list_incidents",
        "alerts-create_silence",
        "channels-test_channel",
        "channels-list_deliveries",
        "prometheus-metrics",
    } <= ids
