"""/api/v1/maintenance: create, list, change, end and delete windows; clear refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def test_windows_round_trip_and_end(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    once = {
        "name": "NAS firmware",
        "kind": "once",
        "starts_at": iso(now - timedelta(minutes=5)),
        "ends_at": iso(now + timedelta(hours=2)),
        "all_plugins": True,
    }
    r = await client.post("/api/v1/maintenance", json=once, headers=admin)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["active"] is True and made["created_by"] == "admin"
    weekly = {
        "name": "Sunday backups",
        "kind": "weekly",
        "weekdays": [6],
        "start_time": "03:00",
        "duration_seconds": 7200,
        "timezone": "Europe/Berlin",
        "all_plugins": True,
    }
    r = await client.post("/api/v1/maintenance", json=weekly, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["next_start"] is not None

    listed = (await client.get("/api/v1/maintenance", headers=viewer)).json()
    assert {w["name"] for w in listed} == {"NAS firmware", "Sunday backups"}
    active = (await client.get("/api/v1/maintenance?active=true", headers=viewer)).json()
    assert [w["name"] for w in active] == ["NAS firmware"]
    assert (await client.post("/api/v1/maintenance", json=once, headers=viewer)).status_code == 403

    r = await client.patch(
        f"/api/v1/maintenance/{made['id']}", json={"comment": "v2.1"}, headers=admin
    )
    assert r.status_code == 200 and r.json()["comment"] == "v2.1"
    r = await client.post(f"/api/v1/maintenance/{made['id']}/end", headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False
    r = await client.delete(f"/api/v1/maintenance/{made['id']}", headers=admin)
    assert r.status_code == 204
    r = await client.get(f"/api/v1/maintenance/{made['id']}", headers=admin)
    assert r.status_code == 404 and "GET /api/v1/maintenance" in r.json()["detail"]


async def test_bad_windows_are_refused_with_a_sentence(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    cases = [
        ({"kind": "once", "starts_at": iso(now), "all_plugins": True}, "ends_at"),
        ({"kind": "weekly", "duration_seconds": 600, "all_plugins": True}, "weekdays"),
        ({"kind": "cron", "cron": "0 3 * *", "duration_seconds": 600, "all_plugins": True}, "cron"),
        (
            {"kind": "weekly", "weekdays": [0], "start_time": "03:00", "all_plugins": True},
            "duration",
        ),
        (
            {
                "kind": "cron",
                "cron": "0 3 * * 0",
                "duration_seconds": 600,
                "timezone": "Mars/Olympus",
                "all_plugins": True,
            },
            "timezone",
        ),
        ({"kind": "cron", "cron": "0 3 * * 0", "duration_seconds": 600}, "plugin_ids"),
        (
            {"kind": "cron", "cron": "0 3 * * 0", "duration_seconds": 600, "plugin_ids": [999]},
            "plugin_ids",
        ),
    ]
    for body, field in cases:
        r = await client.post("/api/v1/maintenance", json={"name": "x", **body}, headers=admin)
        assert r.status_code == 422, (body, r.text)
        error = r.json()
        assert field in (error.get("fields") or {}) or field in error["detail"], (body, error)
