"""GET /api/v1/events and an incident's "what changed" window (±15 minutes of its start)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.models import AlertIncident, AuditEntry, Event
from app.plugins.base import Plugin, Sample

# A fixed instant, so nothing depends on the wall clock's minute.
T0 = datetime(2026, 3, 1, 2, 0, 0, tzinfo=UTC)


class Rebooting(Plugin):
    """Emits a reboot on every run, like a host whose uptime keeps resetting."""

    type = "test_rebooting"
    name = description = "rebooting"

    async def collect_data(self) -> list[Sample]:
        self.emit_event("host_rebooted", "host rebooted", labels={"host": "nas"}, at=T0)
        return [Sample("uptime", 1.0, "seconds")]


@pytest.fixture
async def app(settings: Any) -> Any:
    from tests.conftest import running_app

    async with running_app(settings) as application:
        application.state.unity.registry.register(Rebooting)
        yield application


async def test_events_a_run_emits_are_stored_and_listed(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    body = {"name": "nas", "type": "test_rebooting", "config": {}, "enabled": False}
    r = await client.post("/api/v1/plugins", json=body, headers=admin)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    r = await client.post(f"/api/v1/plugins/{pid}/run", headers=admin)
    assert r.status_code == 200, r.text
    r = await client.get(
        "/api/v1/events", params={"plugin_id": pid, "kind": "host_rebooted"}, headers=viewer
    )
    assert r.status_code == 200, r.text
    (event,) = r.json()["items"]
    assert event["plugin_name"] == "nas"
    assert event["at"] == "2026-03-01T02:00:00Z"
    assert event["labels"] == {"host": "nas"}
    r = await client.get("/api/v1/events", params={"plugin_id": pid}, headers=viewer)
    assert {e["kind"] for e in r.json()["items"]} == {"host_rebooted", "config_changed"}
    r = await client.get(
        "/api/v1/events", params={"until": (T0 - timedelta(seconds=1)).isoformat()}, headers=viewer
    )
    assert r.json()["total"] == 0


async def _incident(app: Any) -> int:
    async with app.state.unity.db.session() as s:
        incident = AlertIncident(
            rule_name="disk full",
            rule={},
            kind="metric",
            severity="warning",
            plugin_name="nas",
            labels={},
            status="firing",
            summary="disk 98 %",
            started_at=T0,
            fired_at=T0 + timedelta(minutes=5),
        )
        s.add(incident)
        for minutes in (-20, -15, -10, 0, 14, 16):
            s.add(
                Event(
                    at=T0 + timedelta(minutes=minutes), kind="host_rebooted", summary=str(minutes)
                )
            )
        for minutes in (-16, -3):
            s.add(
                AuditEntry(
                    at=T0 + timedelta(minutes=minutes),
                    actor="admin",
                    via="api",
                    object_type="plugin",
                    object_id="1",
                    object_name="backup",
                    action="update",
                    changes={"config.schedule": {"old": "03:00", "new": "02:00"}},
                )
            )
        await s.commit()
        return incident.id


async def test_incident_changes_cover_fifteen_minutes_either_side(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    incident_id = await _incident(app)
    r = await client.get(f"/api/v1/alerts/incidents/{incident_id}/changes", headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["start"] == "2026-03-01T01:45:00Z"
    assert body["end"] == "2026-03-01T02:15:00Z"
    assert [e["summary"] for e in body["events"]] == ["-15", "-10", "0", "14"]  # oldest first
    (change,) = body["audit"]
    assert change["at"] == "2026-03-01T01:57:00Z"
    assert change["changes"]["config.schedule"] == {"old": "03:00", "new": "02:00"}
    # A viewer sees that something changed and who did it, not the values.
    r = await client.get(f"/api/v1/alerts/incidents/{incident_id}/changes", headers=viewer)
    assert r.json()["audit"][0]["changes"] == {"config.schedule": "changed"}
    r = await client.get("/api/v1/alerts/incidents/999999/changes", headers=viewer)
    assert r.status_code == 404
    assert "GET /api/v1/alerts/incidents" in r.json()["detail"]
