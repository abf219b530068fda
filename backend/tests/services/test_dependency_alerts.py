"""One outage, one notification: real tcp checks behind a parent, a real loopback receiver.

A parent `tcp` check and its dependents all target a TCP listener this test opens and closes on
127.0.0.1; runs go through the real scheduler, recorder, hub and alert engine; notifications go
through Apprise json:// to a loopback HTTP server. Nothing is faked but the schedule (the test
runs plugins itself, the parent first, which is what a `for` window longer than the parent's
interval gives in production).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.core.config import Settings
from app.models import AlertIncident
from app.services.alerts import dependencies, incidents, rules
from app.services.notify import channels
from app.services.plugins import instances
from app.state import AppState
from tests.alert_helpers import Receiver
from tests.conftest import asgi_client, make_settings, running_app, setup_admin

CHILDREN = 20


class Port:
    """A TCP listener on 127.0.0.1 that can be closed and opened again on the same port."""

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.port = 0
        self.open()

    def open(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        self.sock = sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # Runs are started by the test; one failed run makes a plugin down.
    return make_settings(database_url, tmp_path, scheduler_enabled=False, health_down_after=1)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    async with running_app(settings) as app:
        yield app


@pytest.fixture
def state(app: Any) -> AppState:
    unity: AppState = app.state.unity
    return unity


@pytest.fixture
def ports() -> Any:
    made: list[Port] = []

    def make() -> Port:
        made.append(Port())
        return made[-1]

    yield make
    for p in made:
        p.close()


async def _tcp(state: AppState, name: str, port: Port, parents: list[int] | None = None) -> int:
    async with state.db.session() as s:
        plugin = await instances.create_plugin(
            s,
            state.registry,
            state.box,
            name=name,
            type_="tcp",
            config={"host": "127.0.0.1", "port": port.port, "timeout_seconds": 2},
            interval_seconds=3600,
            timeout_seconds=5,
            enabled=True,
            depends_on=parents,
        )
        return plugin.id


async def _setup(state: AppState, receiver: Receiver) -> None:
    async with state.db.session() as s:
        channel = await channels.create_channel(
            s, state.box, name="hook", url=receiver.url(), enabled=True, send_resolved=True
        )
        data = {
            "name": "anything down",
            "kind": "health",
            "plugin_id": None,
            "for_seconds": 0,
            "keep_firing_seconds": 0,
            "severity": "critical",
            "channel_ids": [channel.id],
        }
        await rules.create_rule(s, data, state.alerts)


async def _run(state: AppState, *plugin_ids: int) -> None:
    """Run each plugin, then let the engine evaluate (events, then a timer tick)."""
    for plugin_id in plugin_ids:
        await state.scheduler.run(plugin_id, "manual")
        await state.alerts.idle()
    await state.alerts.tick()
    await state.alerts.idle()


async def _incidents(state: AppState) -> dict[str, AlertIncident]:
    async with state.db.session() as s:
        rows = await s.scalars(select(AlertIncident).order_by(AlertIncident.id))
        return {str(i.plugin_name): i for i in rows}


async def test_a_parent_outage_with_twenty_children_sends_one_notice_each_way(
    app: Any, state: AppState, receiver: Receiver, ports: Any
) -> None:
    target = ports()
    await _setup(state, receiver)
    router = await _tcp(state, "router", target)
    kids = [await _tcp(state, f"check {n:02}", target, [router]) for n in range(CHILDREN)]
    await _run(state, router, *kids)
    assert receiver.delivered == []

    target.close()
    await _run(state, router, *kids)
    assert len(receiver.delivered) == 1, [d["title"] for d in receiver.delivered]
    notice = receiver.delivered[0]
    assert "router" in notice["title"] and f"{CHILDREN} checks affected" in notice["title"]
    for n in range(CHILDREN):
        assert f"check {n:02}" in notice["message"]

    found = await _incidents(state)
    assert len(found) == CHILDREN + 1
    assert all(found[f"check {n:02}"].suppressed_by == "router" for n in range(CHILDREN))
    assert not any(found[f"check {n:02}"].notified for n in range(CHILDREN))
    async with state.db.session() as s:
        parent = found["router"]
        affected = await dependencies.affected_incidents(s, parent)
        assert len(affected) == CHILDREN
        kinds = [e.kind for e in await incidents.timeline(s, parent.id)]
        assert kinds.count("affected") == CHILDREN and kinds[0] == "opened"
        assert "notified" in kinds
    async with asgi_client(app) as client:
        headers = await setup_admin(client)
        r = await client.get(f"/api/v1/alerts/incidents/{parent.id}", headers=headers)
        assert r.status_code == 200, r.text
        assert {a["plugin_name"] for a in r.json()["affected"]} == set(found) - {"router"}
        child = found["check 00"]
        r = await client.get(f"/api/v1/alerts/incidents/{child.id}", headers=headers)
        assert r.json()["suppressed_by"] == "router" and r.json()["deliveries"] == []
        assert [e["kind"] for e in r.json()["timeline"]] == ["opened", "suppressed"]

    target.open()
    await _run(state, router, *kids)
    assert len(receiver.delivered) == 2
    assert receiver.delivered[1]["title"].startswith("[RESOLVED]")
    assert "router" in receiver.delivered[1]["title"]
    assert all(i.status == "resolved" for i in (await _incidents(state)).values())


async def test_a_child_still_down_after_its_parent_is_back_alerts_then(
    state: AppState, receiver: Receiver, ports: Any
) -> None:
    uplink, service = ports(), ports()
    await _setup(state, receiver)
    router = await _tcp(state, "router", uplink)
    nas = await _tcp(state, "nas", service, [router])
    await _run(state, router, nas)

    uplink.close()
    service.close()
    await _run(state, router, nas)
    assert [d["title"] for d in receiver.delivered] == [
        "[FIRING] anything down: router (1 check affected)"
    ]

    uplink.open()  # the router is back, the NAS is not
    await _run(state, router, nas)
    titles = [d["title"] for d in receiver.delivered]
    assert len(titles) == 3, titles
    assert titles[1].startswith("[RESOLVED] anything down: router")
    assert titles[2] == "[FIRING] anything down: nas"
    assert "Held while router was down" in receiver.delivered[2]["message"]


async def test_a_child_down_before_its_parent_is_not_suppressed(
    state: AppState, receiver: Receiver, ports: Any
) -> None:
    uplink, service = ports(), ports()
    await _setup(state, receiver)
    router = await _tcp(state, "router", uplink)
    nas = await _tcp(state, "nas", service, [router])
    await _run(state, router, nas)
    service.close()
    await _run(state, nas)
    assert [d["title"] for d in receiver.delivered] == ["[FIRING] anything down: nas"]
    assert (await _incidents(state))["nas"].suppressed_by is None


async def test_a_disabled_parent_suppresses_nothing(
    state: AppState, receiver: Receiver, ports: Any
) -> None:
    uplink, service = ports(), ports()
    await _setup(state, receiver)
    router = await _tcp(state, "router", uplink)
    nas = await _tcp(state, "nas", service, [router])
    uplink.close()
    await _run(state, router)
    async with state.db.session() as s:
        row = await instances.get_plugin(s, router)
        await instances.update_plugin(s, state.registry, state.box, row, {"enabled": False})
    service.close()
    await _run(state, nas)
    titles = [d["title"] for d in receiver.delivered]
    assert "[FIRING] anything down: nas" in titles, titles
    assert (await _incidents(state))["nas"].suppressed_by is None
