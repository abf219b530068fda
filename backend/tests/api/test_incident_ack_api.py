"""POST /api/v1/alerts/incidents/{id}/ack: who may, what it records, what it refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from app.models import AlertIncident


async def _firing(app: Any) -> int:
    now = datetime.now(UTC)
    async with app.state.unity.db.session() as s:
        incident = AlertIncident(
            rule_id=None,
            rule_name="down",
            rule={},
            kind="health",
            severity="critical",
            plugin_id=None,
            plugin_name="router",
            labels={},
            status="firing",
            summary="router is down",
            started_at=now,
            fired_at=now,
            notified=True,
        )
        s.add(incident)
        await s.commit()
        return incident.id


async def test_acknowledge_records_who_when_and_why(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str], app: Any
) -> None:
    incident_id = await _firing(app)
    url = f"/api/v1/alerts/incidents/{incident_id}/ack"

    r = await client.post(url, json={"comment": "rebooting it"}, headers=viewer)
    assert r.status_code == 403

    r = await client.post(url, json={"comment": "rebooting it"}, headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["acknowledged_by"] == "admin" and body["ack_comment"] == "rebooting it"
    assert body["acknowledged_at"] is not None

    r = await client.post(url, json={}, headers=admin)
    assert r.status_code == 409 and "already acknowledged by admin" in r.json()["detail"]

    r = await client.get(f"/api/v1/alerts/incidents/{incident_id}", headers=viewer)
    assert [(e["kind"], e["detail"]) for e in r.json()["timeline"]] == [
        ("acknowledged", "by admin: rebooting it")
    ]

    r = await client.post("/api/v1/alerts/incidents/999/ack", json={}, headers=admin)
    assert r.status_code == 404
    r = await client.post(url, json={"comment": "x" * 2001}, headers=admin)
    assert r.status_code == 422
