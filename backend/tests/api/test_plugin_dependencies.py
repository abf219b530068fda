"""Plugin dependencies over the API: parents, refused loops, deleted parents, proposals."""

from __future__ import annotations

import httpx

from tests.api.test_plugins import create


async def _tcp(client: httpx.AsyncClient, admin: dict[str, str], name: str, **body: object) -> dict:
    config = {"host": body.pop("host", "127.0.0.1"), "port": 22}
    return await create(client, admin, name=name, type="tcp", config=config, **body)


async def _patch(
    client: httpx.AsyncClient, admin: dict[str, str], plugin_id: int, **body: object
) -> httpx.Response:
    return await client.patch(f"/api/v1/plugins/{plugin_id}", json=body, headers=admin)


async def test_parents_are_set_read_and_changed(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    router = await _tcp(client, admin, "router")
    nas = await _tcp(client, admin, "nas", depends_on=[router["id"]])
    assert nas["depends_on"] == [router["id"]]
    assert router["depends_on"] == []

    r = await client.get(f"/api/v1/plugins/{nas['id']}", headers=admin)
    assert r.json()["depends_on"] == [router["id"]]
    listed = {p["name"]: p for p in (await client.get("/api/v1/plugins", headers=admin)).json()}
    assert listed["nas"]["depends_on"] == [router["id"]]

    # PATCH without depends_on keeps the parents; an empty list removes them.
    r = await _patch(client, admin, nas["id"], interval_seconds=120)
    assert r.status_code == 200 and r.json()["depends_on"] == [router["id"]]
    r = await _patch(client, admin, nas["id"], depends_on=[])
    assert r.status_code == 200 and r.json()["depends_on"] == []


async def test_loops_are_refused_with_the_loop_named(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    router = await _tcp(client, admin, "router")
    nas = await _tcp(client, admin, "nas", depends_on=[router["id"]])
    backup = await _tcp(client, admin, "backup", depends_on=[nas["id"]])

    r = await _patch(client, admin, router["id"], depends_on=[nas["id"]])
    assert r.status_code == 422
    assert "router → nas → router" in r.json()["detail"]
    assert "router → nas → router" in r.json()["fields"]["depends_on"]

    r = await _patch(client, admin, router["id"], depends_on=[backup["id"]])
    assert r.status_code == 422 and "router → backup → nas → router" in r.json()["detail"]

    r = await _patch(client, admin, nas["id"], depends_on=[nas["id"]])
    assert r.status_code == 422 and "nas → nas" in r.json()["detail"]

    # Nothing changed by the refused requests.
    r = await client.get(f"/api/v1/plugins/{router['id']}", headers=admin)
    assert r.json()["depends_on"] == []


async def test_unknown_parent_is_refused_and_nothing_is_created(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.post(
        "/api/v1/plugins",
        json={
            "name": "nas",
            "type": "tcp",
            "config": {"host": "nas.lan", "port": 22},
            "depends_on": [999],
        },
        headers=admin,
    )
    assert r.status_code == 422
    assert "no plugin with id 999" in r.json()["detail"]
    assert (await client.get("/api/v1/plugins", headers=admin)).json() == []


async def test_deleting_a_parent_drops_the_link(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    router = await _tcp(client, admin, "router")
    switch = await _tcp(client, admin, "switch")
    nas = await _tcp(client, admin, "nas", depends_on=[router["id"], switch["id"]])
    r = await client.delete(f"/api/v1/plugins/{router['id']}", headers=admin)
    assert r.status_code == 204
    r = await client.get(f"/api/v1/plugins/{nas['id']}", headers=admin)
    assert r.status_code == 200 and r.json()["depends_on"] == [switch["id"]]


async def test_proposals_pair_host_checks_with_the_same_hosts_ping(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    ping = await create(client, admin, name="nas ping", type="ping", config={"host": "NAS.lan"})
    other = await create(client, admin, name="pi ping", type="ping", config={"host": "10.0.0.7"})
    ssh_port = await _tcp(client, admin, "nas ssh port", host="nas.lan")
    web = await create(
        client, admin, name="nas web", type="http", config={"url": "http://nas.lan:8080/"}
    )
    pi = await _tcp(client, admin, "pi port", host="10.0.0.7")
    await _tcp(client, admin, "elsewhere", host="router.lan")

    r = await client.get("/api/v1/plugins/dependency-proposals", headers=viewer)
    assert r.status_code == 200, r.text
    got = {(p["plugin_name"], p["parent_name"]) for p in r.json()}
    assert got == {("nas ssh port", "nas ping"), ("nas web", "nas ping"), ("pi port", "pi ping")}
    reason = next(p["reason"] for p in r.json() if p["plugin_id"] == web["id"])
    assert "nas.lan" in reason

    # Accepting a proposal (PATCH) removes it from the list.
    r = await _patch(client, admin, ssh_port["id"], depends_on=[ping["id"]])
    assert r.status_code == 200
    r = await client.get("/api/v1/plugins/dependency-proposals", headers=viewer)
    assert {p["plugin_id"] for p in r.json()} == {web["id"], pi["id"]}
    assert other["id"] in {p["parent_id"] for p in r.json()}


async def test_viewers_cannot_set_parents(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    router = await _tcp(client, admin, "router")
    nas = await _tcp(client, admin, "nas")
    r = await _patch(client, viewer, nas["id"], depends_on=[router["id"]])
    assert r.status_code == 403
