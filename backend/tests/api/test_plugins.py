"""Plugin instances over the API: CRUD, validation messages, run now, history and health."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


async def create(client: httpx.AsyncClient, admin: dict[str, str], **body: object) -> dict:
    r = await client.post("/api/v1/plugins", json=body, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()


async def create_tcp(
    client: httpx.AsyncClient, admin: dict[str, str], name: str, port: int, interval: int
) -> dict:
    """A tcp plugin checking a port on loopback: the cheapest real plugin to run."""
    config = {"host": "127.0.0.1", "port": port}
    return await create(
        client, admin, name=name, type="tcp", config=config, interval_seconds=interval
    )


async def test_catalog_lists_every_builtin_with_a_schema(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.get("/api/v1/plugin-types", headers=admin)
    assert r.status_code == 200
    types = {t["type"]: t for t in r.json()}
    assert {"system", "http", "tcp", "ping", "dns", "ssh", "docker"} <= set(types)
    tcp = types["tcp"]
    assert tcp["config_schema"]["properties"]["port"]["type"] == "integer"
    assert "port" in tcp["config_schema"]["required"]
    assert tcp["default_interval_seconds"] > 0
    assert "password" in types["ssh"]["secret_fields"]


async def test_create_run_and_read_history(
    client: httpx.AsyncClient, admin: dict[str, str], listener: int
) -> None:
    plugin = await create_tcp(client, admin, "nas ssh", listener, 3600)
    assert plugin["health"]["status"] == "unknown"
    assert plugin["timeout_seconds"] <= plugin["interval_seconds"]

    r = await client.post(f"/api/v1/plugins/{plugin['id']}/run", headers=admin)
    assert r.status_code == 200, r.text
    run = r.json()
    assert run["status"] == "success"
    assert run["sample_count"] >= 2
    assert run["duration_ms"] >= 0

    r = await client.get(f"/api/v1/plugins/{plugin['id']}/health", headers=admin)
    assert r.json()["status"] == "healthy"
    assert r.json()["last_success_at"] is not None

    r = await client.get(f"/api/v1/plugins/{plugin['id']}/runs", headers=admin)
    page = r.json()
    assert page["total"] == 1
    assert page["items"][0]["id"] == run["id"]
    assert set(page["items"][0]) >= {
        "id",
        "status",
        "started_at",
        "finished_at",
        "duration_ms",
        "error",
        "sample_count",
    }

    # samples reach the store once the writer commits
    app_state = client._transport.app.state.unity  # type: ignore[attr-defined]
    await app_state.writer.flushed()
    r = await client.get(
        "/api/v1/metrics/latest", params={"plugin_id": plugin["id"]}, headers=admin
    )
    names = {i["name"]: i for i in r.json()["items"]}
    assert names["up"]["value"] == 1.0
    assert names["tcp_connect_time"]["unit"] == "ms"


async def test_a_down_target_turns_the_plugin_down_with_a_reason(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    port = closed_port()
    plugin = await create(
        client,
        admin,
        name="gone",
        type="tcp",
        config={"host": "127.0.0.1", "port": port},
        interval_seconds=3600,
    )
    for _ in range(3):
        run = (await client.post(f"/api/v1/plugins/{plugin['id']}/run", headers=admin)).json()
        assert run["status"] == "error"
        assert str(port) in run["error"]
    health = (await client.get(f"/api/v1/plugins/{plugin['id']}/health", headers=admin)).json()
    assert health["status"] == "down"
    assert health["consecutive_failures"] == 3
    assert str(port) in health["last_error"]
    app_state = client._transport.app.state.unity  # type: ignore[attr-defined]
    await app_state.writer.flushed()
    latest = (await client.get("/api/v1/metrics/latest", headers=admin)).json()["items"]
    assert [i["value"] for i in latest if i["name"] == "up"] == [0.0]


@pytest.mark.parametrize(
    ("body", "field", "phrase"),
    [
        ({"type": "tcp", "config": {"host": "127.0.0.1"}}, "config.port", "is required"),
        (
            {"type": "tcp", "config": {"host": "127.0.0.1", "port": 70000}},
            "config.port",
            "must be an integer between 1 and 65535",
        ),
        ({"type": "http", "config": {"url": "file:///etc/passwd"}}, "config.url", ""),
        (
            {"type": "tcp", "config": {"host": "x", "port": 1, "colour": "red"}},
            "config.colour",
            "is not a known field",
        ),
        ({"type": "nope", "config": {}}, "", "Unknown plugin type 'nope'"),
        (
            {
                "type": "tcp",
                "config": {"host": "h", "port": 1},
                "interval_seconds": 10,
                "timeout_seconds": 20,
            },
            "",
            "must not exceed interval_seconds",
        ),
    ],
)
async def test_bad_config_gets_a_422_naming_the_field(
    client: httpx.AsyncClient, admin: dict[str, str], body: dict, field: str, phrase: str
) -> None:
    r = await client.post("/api/v1/plugins", json={"name": "bad", **body}, headers=admin)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert r.json()["error"] == "InvalidInput"
    assert field in detail
    assert phrase in detail
    if field:  # the form shows the sentence next to the field, without its name
        assert phrase in r.json()["fields"][field]
        assert "Value error" not in r.json()["fields"][field]


async def test_a_typed_check_timeout_is_never_cut_short(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    tcp = {"host": "127.0.0.1", "port": closed_port()}
    # Both typed and in conflict: refused, with the range that would work.
    body = {"name": "slow", "type": "tcp", "interval_seconds": 60, "timeout_seconds": 5}
    r = await client.post(
        "/api/v1/plugins", json={**body, "config": {**tcp, "timeout_seconds": 30}}, headers=admin
    )
    assert r.status_code == 422, r.text
    said = r.json()["fields"]["config.timeout_seconds"]
    assert "30 s" in said and "at most 5 s" in said and "up to the interval, 60 s" in said
    # Only the check's timeout typed: the run gets room for it.
    made = await create(
        client, admin, name="roomy", type="tcp", interval_seconds=120,
        config={**tcp, "timeout_seconds": 45},
    )  # fmt: skip
    assert (made["timeout_seconds"], made["config"]["timeout_seconds"]) == (45, 45)
    # Neither typed, a short interval: the check's default follows the run's timeout.
    quick = await create(client, admin, name="quick", type="tcp", interval_seconds=3, config=tcp)
    assert (quick["timeout_seconds"], quick["config"]["timeout_seconds"]) == (3, 3.0)
    assert isinstance(quick["config"]["timeout_seconds"], float)  # as typed values are stored
    # Lowering the run's timeout under the stored check timeout is refused too.
    r = await client.patch(
        f"/api/v1/plugins/{made['id']}", json={"timeout_seconds": 10}, headers=admin
    )
    assert r.status_code == 422, r.text
    assert "at most 10 s" in r.json()["fields"]["config.timeout_seconds"]


async def test_duplicate_name_is_a_conflict(
    client: httpx.AsyncClient, admin: dict[str, str], listener: int
) -> None:
    body = {"name": "same", "type": "tcp", "config": {"host": "127.0.0.1", "port": listener}}
    await create(client, admin, **body)
    r = await client.post("/api/v1/plugins", json=body, headers=admin)
    assert r.status_code == 409
    assert "already exists" in r.json()["detail"]


async def test_update_disable_enable_delete_reschedule_at_once(
    client: httpx.AsyncClient, admin: dict[str, str], listener: int
) -> None:
    plugin = await create_tcp(client, admin, "svc", listener, 300)
    pid = plugin["id"]

    async def job_ids() -> dict[str, str]:
        r = await client.get("/api/v1/scheduler", headers=admin)
        assert r.json()["role"] == "leader"
        return {j["id"]: j["name"] for j in r.json()["jobs"]}

    assert f"plugin:{pid}" in await job_ids()
    r = await client.patch(f"/api/v1/plugins/{pid}", json={"enabled": False}, headers=admin)
    assert r.json()["enabled"] is False
    assert f"plugin:{pid}" not in await job_ids()
    r = await client.patch(
        f"/api/v1/plugins/{pid}",
        json={"enabled": True, "name": "svc2", "interval_seconds": 120},
        headers=admin,
    )
    assert r.json()["interval_seconds"] == 120
    assert (await job_ids())[f"plugin:{pid}"] == "svc2"
    r = await client.patch(f"/api/v1/plugins/{pid}", json={"type": "http"}, headers=admin)
    assert r.status_code == 422
    r = await client.delete(f"/api/v1/plugins/{pid}", headers=admin)
    assert r.status_code == 204
    assert f"plugin:{pid}" not in await job_ids()
    r = await client.get(f"/api/v1/plugins/{pid}", headers=admin)
    assert r.status_code == 404
    assert r.json() == {"error": "NotFound", "detail": r.json()["detail"]}


async def test_runs_paginate_newest_first(
    client: httpx.AsyncClient, admin: dict[str, str], listener: int
) -> None:
    plugin = await create_tcp(client, admin, "p", listener, 3600)
    ids = []
    for _ in range(5):
        ids.append(
            (await client.post(f"/api/v1/plugins/{plugin['id']}/run", headers=admin)).json()["id"]
        )
        await asyncio.sleep(0.01)
    r = await client.get(
        f"/api/v1/plugins/{plugin['id']}/runs", params={"limit": 2, "offset": 1}, headers=admin
    )
    page = r.json()
    assert page["total"] == 5
    assert [i["id"] for i in page["items"]] == [ids[3], ids[2]]
    r = await client.get(f"/api/v1/plugins/{plugin['id']}/runs", params={"limit": 0}, headers=admin)
    assert r.status_code == 422


async def test_a_null_config_in_a_patch_leaves_the_config_as_it_is(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """`null` means "unchanged" for every field of a PATCH, config included (it was a 500)."""
    plugin = await create_tcp(client, admin, "null config", closed_port(), 300)
    r = await client.patch(
        f"/api/v1/plugins/{plugin['id']}", json={"config": None, "name": "renamed"}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "renamed"
    assert r.json()["config"] == plugin["config"]
