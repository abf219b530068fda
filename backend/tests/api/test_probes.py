"""Probe tokens, assignments and results through the API: scope, secrets isolation, K of N."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from app.models import Probe
from app.services.probes.watch import ProbeWatch


async def probe_token(client: httpx.AsyncClient, admin: dict[str, str], location: str) -> str:
    r = await client.post(
        "/api/v1/tokens",
        json={"name": f"probe {location}", "scope": "probe", "location": location},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert r.json()["scope"] == "probe" and r.json()["location"] == location
    return str(r.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make_plugin(
    client: httpx.AsyncClient, admin: dict[str, str], name: str, **fields: Any
) -> dict[str, Any]:
    body = {"name": name, "type": "tcp", "config": {"host": "127.0.0.1", "port": 9}, **fields}
    r = await client.post("/api/v1/plugins", json=body, headers=admin)
    assert r.status_code == 201, r.text
    return dict(r.json())


def result(plugin_id: int, ok: bool, at: datetime, value: float = 1.0) -> dict[str, Any]:
    return {
        "plugin_id": plugin_id,
        "started_at": at.isoformat(),
        "finished_at": (at + timedelta(milliseconds=5)).isoformat(),
        "status": "success" if ok else "error",
        "error": None if ok else "127.0.0.1:9 refused the connection",
        "duration_ms": 5.0,
        "samples": [{"name": "up", "value": value if ok else 0.0, "unit": "bool", "labels": {}}],
    }


async def push(
    client: httpx.AsyncClient, token: str, results: list[dict[str, Any]], key: str | None = None
) -> Any:
    headers = {**bearer(token), "Content-Encoding": "gzip", "Content-Type": "application/json"}
    r = await client.post(
        "/api/v1/probes/results",
        content=gzip.compress(json.dumps({"results": results}).encode()),
        headers={**headers, **({"Idempotency-Key": key} if key else {})},
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_probe_receives_only_its_own_locations_secrets(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    a, b = await probe_token(client, admin, "site-a"), await probe_token(client, admin, "site-b")
    for name, locs, secret in (
        ("redis-a", ["site-a"], "secret-of-a"),
        ("redis-b", ["site-b"], "secret-of-b"),
        ("redis-hub", None, "secret-of-hub"),
        ("redis-both", ["hub", "site-a", "site-b"], "secret-shared"),
    ):
        body = {"host": "127.0.0.1", "port": 6379, "password": secret}
        r = await client.post(
            "/api/v1/plugins",
            json={"name": name, "type": "redis", "config": body, "locations": locs},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        assert secret not in r.text  # the API still masks it for users
    r = await client.get("/api/v1/probes/assignments", headers=bearer(a))
    assert r.status_code == 200, r.text
    got = {p["name"]: p["config"]["password"] for p in r.json()["plugins"]}
    assert got == {"redis-a": "secret-of-a", "redis-both": "secret-shared"}
    assert "secret-of-b" not in r.text and "secret-of-hub" not in r.text
    r = await client.get("/api/v1/probes/assignments", headers=bearer(b))
    assert {p["name"] for p in r.json()["plugins"]} == {"redis-b", "redis-both"}
    assert "secret-of-a" not in r.text and "secret-of-hub" not in r.text


async def test_a_probe_token_can_do_nothing_else_and_is_revocable(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    token = await probe_token(client, admin, "site-a")
    for method, path in (("GET", "/api/v1/plugins"), ("POST", "/api/v1/tokens")):
        r = await client.request(method, path, headers=bearer(token), json={"name": "x"})
        assert r.status_code == 403, r.text
        assert r.json()["detail"].startswith("This is a probe token for location 'site-a'")
    # a user (even an admin) is not a probe
    r = await client.get("/api/v1/probes/assignments", headers=admin)
    assert r.status_code == 403
    assert "Only a probe token may call the probe endpoints" in r.json()["detail"]
    # revoked: refused at once
    tokens = (await client.get("/api/v1/tokens", headers=admin)).json()
    (mine,) = [t for t in tokens if t["location"] == "site-a"]
    assert (await client.delete(f"/api/v1/tokens/{mine['id']}", headers=admin)).status_code == 204
    r = await client.get("/api/v1/probes/assignments", headers=bearer(token))
    assert r.status_code == 401
    assert "unknown or was revoked" in r.json()["detail"]


async def test_bad_probe_input_gets_a_sentence(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.post("/api/v1/tokens", json={"name": "p", "scope": "probe"}, headers=admin)
    assert r.status_code == 422 and "location" in r.json()["detail"]
    r = await client.post(
        "/api/v1/tokens",
        json={"name": "p", "scope": "probe", "location": "Not Valid!"},
        headers=admin,
    )
    assert r.status_code == 422 and "lowercase letters" in r.json()["detail"]
    r = await client.post(
        "/api/v1/plugins",
        json={
            "name": "x",
            "type": "tcp",
            "config": {"host": "127.0.0.1", "port": 9},
            "locations": ["site-a"],
            "down_quorum": 2,
        },
        headers=admin,
    )
    assert r.status_code == 422 and "between 1 and the number of locations (1)" in r.text
    token = await probe_token(client, admin, "site-a")
    r = await client.post(
        "/api/v1/probes/results",
        content=b"not gzip",
        headers={**bearer(token), "Content-Encoding": "gzip"},
    )
    assert r.status_code == 422 and "not valid gzip" in r.json()["detail"]
    r = await client.post(
        "/api/v1/probes/results", json={"results": [{"plugin_id": 1}]}, headers=bearer(token)
    )
    assert r.status_code == 422 and "results.0.started_at" in r.json()["detail"]


async def test_results_carry_the_location_and_k_of_n_decides_health(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    a, b = await probe_token(client, admin, "site-a"), await probe_token(client, admin, "site-b")
    plugin = await make_plugin(
        client, admin, "nas ssh", locations=["site-a", "site-b"], down_quorum=2
    )
    other = await make_plugin(client, admin, "not theirs", locations=["site-b"])
    pid = plugin["id"]
    assert plugin["locations"] == ["site-a", "site-b"] and plugin["down_quorum"] == 2
    for token in (a, b):
        r = await client.post("/api/v1/probes/heartbeat", json={}, headers=bearer(token))
        assert r.status_code == 200, r.text
    t0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    assert await push(client, a, [result(pid, True, t0)]) == {
        "accepted": 1,
        "ignored": 0,
        "duplicate": False,
    }
    # a result for a plugin not assigned to site-a is ignored (never stored)
    assert await push(client, a, [result(other["id"], True, t0)]) == {
        "accepted": 0,
        "ignored": 1,
        "duplicate": False,
    }
    await push(client, b, [result(pid, True, t0)])
    health = (await client.get(f"/api/v1/plugins/{pid}/health", headers=admin)).json()
    assert health["status"] == "healthy"

    # B sees the target down (three failures: down from B), A still up: 1 of 2 < K=2
    await push(client, b, [result(pid, False, t0 + timedelta(seconds=s)) for s in (10, 20, 30)])
    await app.state.unity.writer.flushed()
    view = (await client.get(f"/api/v1/plugins/{pid}/locations", headers=admin)).json()
    by = {loc["location"]: loc for loc in view["locations"]}
    assert by["site-a"]["status"] == "healthy" and by["site-b"]["status"] == "down"
    assert by["site-b"]["last_error"] == "127.0.0.1:9 refused the connection"
    assert [v["value"] for v in by["site-a"]["latest"] if v["name"] == "up"] == [1.0]
    assert [v["value"] for v in by["site-b"]["latest"] if v["name"] == "up"] == [0.0]
    assert view["status"] == "degraded"
    health = (await client.get(f"/api/v1/plugins/{pid}/health", headers=admin)).json()
    assert health["status"] == "degraded"
    assert health["last_error"].startswith("down from 1 of 2 locations (K=2)")

    # K lowered to 1: one location is enough
    r = await client.patch(f"/api/v1/plugins/{pid}", json={"down_quorum": 1}, headers=admin)
    assert r.status_code == 200, r.text
    await ProbeWatch(app.state.unity.db, app.state.unity.hub).tick()
    health = (await client.get(f"/api/v1/plugins/{pid}/health", headers=admin)).json()
    assert health["status"] == "down"

    # series carry the location label
    series = (await client.get(f"/api/v1/metrics/series?plugin_id={pid}", headers=admin)).json()
    assert sorted(s["labels"]["location"] for s in series["items"]) == ["site-a", "site-b"]


async def test_a_batch_sent_again_after_a_lost_answer_is_stored_once(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """The probe keeps a batch until it gets a 200; when the answer is lost it sends the same
    batch (same Idempotency-Key) again, and the hub answers without storing it twice."""
    a = await probe_token(client, admin, "site-a")
    pid = (await make_plugin(client, admin, "web", locations=["site-a"]))["id"]
    await client.post("/api/v1/probes/heartbeat", json={}, headers=bearer(a))
    t0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    first = [result(pid, True, t0), result(pid, True, t0 + timedelta(seconds=10))]
    key = "000000000001-1767614400000-2.json.gz"
    assert await push(client, a, first, key) == {"accepted": 2, "ignored": 0, "duplicate": False}
    assert await push(client, a, first, key) == {"accepted": 0, "ignored": 0, "duplicate": True}
    # the next batch has a key of its own and is stored
    later = [result(pid, True, t0 + timedelta(seconds=20))]
    answer = await push(client, a, later, "000000000002-1767614420000-1.json.gz")
    assert answer["accepted"] == 1 and answer["duplicate"] is False
    await app.state.unity.writer.flushed()
    probes = {p["location"]: p for p in (await client.get("/api/v1/probes", headers=admin)).json()}
    assert probes["site-a"]["results_total"] == 3
    (series,) = (
        await client.get(f"/api/v1/metrics/series?plugin_id={pid}&name=up", headers=admin)
    ).json()["items"]
    q = await client.get(
        "/api/v1/metrics/query",
        params={
            "series_id": series["id"],
            "start": t0.isoformat(),
            "end": (t0 + timedelta(minutes=1)).isoformat(),
            "points": 1000,
        },
        headers=admin,
    )
    assert len(q.json()["series"][0]["points"]) == 3, q.text
    # a key too long to be a batch name is refused with a sentence
    r = await client.post(
        "/api/v1/probes/results",
        json={"results": []},
        headers={**bearer(a), "Idempotency-Key": "x" * 129},
    )
    assert r.status_code == 422, r.text


async def test_a_probe_silent_for_three_heartbeats_is_down_and_counts_as_down(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    a, b = await probe_token(client, admin, "site-a"), await probe_token(client, admin, "site-b")
    pid = (await make_plugin(client, admin, "web", locations=["site-a", "site-b"]))["id"]
    t0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    for token in (a, b):
        hb = {"heartbeat_seconds": 10, "spooled": 0, "dropped_total": 0}
        await client.post("/api/v1/probes/heartbeat", json=hb, headers=bearer(token))
        await push(client, token, [result(pid, True, t0)])
    probes = {p["location"]: p for p in (await client.get("/api/v1/probes", headers=admin)).json()}
    assert probes["site-b"]["status"] == "up" and probes["site-b"]["results_total"] == 1
    state = app.state.unity
    watch = ProbeWatch(state.db, state.hub)
    await watch.tick()
    assert (await client.get(f"/api/v1/plugins/{pid}/health", headers=admin)).json()[
        "status"
    ] == "healthy"
    # B last heard 31 s ago with a 10 s heartbeat: three intervals missed
    async with state.db.session() as session:
        await session.execute(
            update(Probe)
            .where(Probe.location == "site-b")
            .values(last_seen_at=datetime.now(UTC) - timedelta(seconds=31))
        )
        await session.commit()
    probes = {p["location"]: p for p in (await client.get("/api/v1/probes", headers=admin)).json()}
    assert probes["site-b"]["status"] == "down" and probes["site-a"]["status"] == "up"
    await watch.tick()
    health = (await client.get(f"/api/v1/plugins/{pid}/health", headers=admin)).json()
    assert health["status"] == "down"  # K defaults to 1
    assert "site-b: its probe is silent" in health["last_error"]
    # B is back: healthy again at the next look
    await client.post("/api/v1/probes/heartbeat", json={}, headers=bearer(b))
    await watch.tick()
    health = (await client.get(f"/api/v1/plugins/{pid}/health", headers=admin)).json()
    assert health["status"] == "healthy"
    # drops the probe reports are kept and shown
    hb = {"heartbeat_seconds": 10, "spooled": 4, "dropped_total": 7}
    await client.post("/api/v1/probes/heartbeat", json=hb, headers=bearer(b))
    probes = {p["location"]: p for p in (await client.get("/api/v1/probes", headers=admin)).json()}
    assert probes["site-b"]["dropped_total"] == 7 and probes["site-b"]["spooled"] == 4


async def test_locations_and_k_round_trip_through_config_as_code(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await make_plugin(client, admin, "plain")
    await make_plugin(client, admin, "spread", locations=["hub", "site-a"], down_quorum=2)
    r = await client.get("/api/v1/config/export", headers=admin)
    assert r.status_code == 200, r.text
    text = r.text
    assert "down_quorum: 2" in text and "- site-a" in text
    assert text.count("locations:") == 1  # the hub-only plugin's file entry is unchanged
    r = await client.post(
        "/api/v1/config/apply?dry_run=true",
        content=text,
        headers={**admin, "Content-Type": "application/yaml"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["changes"] == [], r.text  # export -> apply: nothing to change
    edited = text.replace("down_quorum: 2", "down_quorum: 3")
    r = await client.post(
        "/api/v1/config/apply?dry_run=true",
        content=edited,
        headers={**admin, "Content-Type": "application/yaml"},
    )
    assert r.status_code == 422, r.text
    assert "between 1 and the number of locations (2)" in r.text
