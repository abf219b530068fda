"""The connectivity canary: while Unity's own network is down, alerts are unknown and held; when
it is back, one "Unity lost its network" notice carries what is still firing; uptime counts the
outage as unknown time.

The canary's target is a TCP listener on 127.0.0.1 that the test closes and opens (nothing
leaves the machine); notices reach a real loopback webhook through Apprise json://.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.core.config import Settings
from app.models import (
    AlertIncident,
    CanaryOutage,
    PluginInstance,
    PluginRun,
)
from app.models.enums import CanaryState
from app.services.alerts import canary, incidents
from app.services.metrics import prometheus, uptime_query
from app.services.metrics.uptime import fold_plugin
from tests.alert_helpers import Receiver
from tests.conftest import asgi_client, make_settings, running_app, setup_admin
from tests.services.test_dependency_alerts import Port
from tests.services.test_notify_grouping import Env
from tests.services.test_uptime import HOUR, at, totals


# ------------------------------------------------------------------------- pure parts
def test_the_default_gateway_is_read_from_the_routing_table(tmp_path: Path) -> None:
    route = tmp_path / "route"
    route.write_text(
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n"
        "eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n"
        "eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\n"
    )
    assert canary.default_gateway(route) == "192.168.1.1"
    route.write_text("Iface\tDestination\tGateway \tFlags\n")
    assert canary.default_gateway(route) is None
    assert canary.default_gateway(tmp_path / "missing") is None


def test_targets_parse_or_say_what_is_wrong() -> None:
    assert canary.parse_target("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert canary.parse_target("router.lan") == ("router.lan", 443)
    assert canary.parse_target("[::1]:53") == ("::1", 53)
    with pytest.raises(ValueError, match="not host, host:port or gateway"):
        canary.parse_target("127.0.0.1:0")


def test_canary_time_is_unknown_and_maintenance_still_wins() -> None:
    runs = [(at(0), "success"), (at(60), "error"), (at(120), "error"), (at(180), "success")]
    offline = [(at(50), at(200))]  # the network was out: the errors prove nothing
    assert totals(fold_plugin(runs, at(0), at(240), 60, (), offline)) == {
        "up_s": 50.0 + 40.0,
        "down_s": 0.0,
        "maintenance_s": 0.0,
        "unknown_s": 150.0,
        "percent": 100.0,
    }
    figures = totals(fold_plugin(runs, at(0), at(240), 60, [(at(100), at(120))], offline))
    assert figures["maintenance_s"] == 20.0 and figures["unknown_s"] == 130.0


# ------------------------------------------------------------------------- end to end
@pytest.fixture
def listener() -> Any:
    port = Port()
    yield port
    port.close()


def canary_settings(database_url: str, tmp_path: Path, port: int, **extra: Any) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        scheduler_enabled=False,
        canary_targets=[f"127.0.0.1:{port}"],
        canary_failures=2,
        canary_settle_seconds=60,
        canary_timeout_seconds=2,
        **extra,
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path, listener: Port) -> Settings:
    return canary_settings(database_url, tmp_path, listener.port)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    async with running_app(settings) as application:
        yield application


@pytest.fixture
def env(app: Any, receiver: Receiver) -> Env:
    e = Env(app.state.unity, receiver)
    app.state.unity.canary.clock = e.clock
    return e


async def _setup(env: Env, names: list[str], group_seconds: int = 0) -> None:
    for name in names:
        await env.plugin(name)
    hook = await env.channel(group_seconds=group_seconds)
    await env.rule("anything down", hook.id)


async def _network_down(env: Env, listener: Port) -> None:
    listener.close()
    assert (await env.state.canary.check()).state != CanaryState.DOWN  # one round: not yet
    env.clock.advance(30)
    assert (await env.state.canary.check()).state == CanaryState.DOWN


async def test_the_canary_holds_alerts_and_sends_one_notice_when_the_network_is_back(
    app: Any, env: Env, listener: Port
) -> None:
    await _setup(env, ["web", "nas", "dns"])
    assert (await env.state.canary.check()).state == CanaryState.UP
    await _network_down(env, listener)

    for name in ("web", "nas", "dns"):
        await env.health(name, "down", advance=5)
    await env.health("dns", "healthy", advance=20)  # dns comes back while the network is out
    await env.tick(advance=60)
    assert env.receiver.delivered == []  # held
    found = {i.plugin_name: i for i in await _incidents(env)}
    assert all(i.network_down and not i.notified for i in found.values())
    async with env.state.db.session() as s:
        lines = [(e.kind, e.detail) for e in await incidents.timeline(s, found["web"].id)]
    assert ("unknown", "unknown — Unity's own network is down; notice held") in lines

    async with env.state.db.session() as s:
        assert "\nunity_network_up 0\n" in await prometheus.render(env.state, s)
    async with asgi_client(app) as client:
        headers = await setup_admin(client)
        r = await client.get("/api/v1/alerts/canary", headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["state"] == "down" and body["enabled"] and body["hold_notifications"]
        assert body["targets"][0]["ok"] is False
        assert body["outages"][0]["ended_at"] is None
        r = await client.get(f"/api/v1/alerts/incidents/{found['web'].id}", headers=headers)
        assert r.json()["network_down"] is True

    listener.open()
    env.clock.advance(30)
    assert (await env.state.canary.check()).state == CanaryState.UP
    await env.tick(advance=59)
    assert env.receiver.delivered == []  # the checks get CANARY_SETTLE_SECONDS to run again
    await env.tick(advance=1)
    assert len(env.receiver.delivered) == 1, env.titles()
    [notice] = env.receiver.delivered
    assert notice["title"].startswith("[NETWORK] Unity lost its network for ")
    assert notice["title"].endswith("; 2 checks down: nas, web")
    assert "Recovered with the network (1): dns" in notice["message"]
    assert "anything down: web" in notice["message"]
    assert "anything down: nas" in notice["message"]

    await env.tick(advance=600)
    assert len(env.receiver.delivered) == 1  # announced once
    await env.health("web", "healthy", advance=5)  # announced, so its resolution is sent
    assert env.titles()[-1] == "[RESOLVED] anything down: web"

    async with asgi_client(app) as client:
        headers = await _login(client)
        r = await client.get("/api/v1/alerts/canary", headers=headers)
        assert r.json()["state"] == "up" and r.json()["outages"][0]["announced"] is True


async def test_with_a_group_window_the_network_notice_and_what_it_held_are_one_message(
    env: Env, listener: Port
) -> None:
    await _setup(env, ["web", "nas"], group_seconds=30)
    await env.state.canary.check()
    await _network_down(env, listener)
    await env.health("web", "down", advance=5)
    await env.health("nas", "down", advance=5)
    listener.open()
    await env.state.canary.check()
    await env.tick(advance=60)  # settled: the notice and the held alerts open one group
    assert env.receiver.delivered == []
    await env.tick(advance=30)
    assert len(env.receiver.delivered) == 1, env.titles()
    assert env.titles()[0].endswith("; 2 checks down: nas, web")


async def test_without_holding_alerts_go_out_but_are_marked_unknown(
    database_url: str, tmp_path: Path, listener: Port, receiver: Receiver
) -> None:
    settings = canary_settings(
        database_url, tmp_path, listener.port, canary_hold_notifications=False
    )
    async with running_app(settings) as app:
        env = Env(app.state.unity, receiver)
        app.state.unity.canary.clock = env.clock
        await _setup(env, ["web"])
        await _network_down(env, listener)
        await env.health("web", "down", advance=5)
        assert env.titles() == ["[FIRING] anything down: web"]
        [incident] = await _incidents(env)
        assert incident.network_down and incident.notified
        listener.open()
        await env.state.canary.check()
        await env.tick(advance=60)
        titles = env.titles()
        assert len(titles) == 2 and titles[1].startswith("[NETWORK] Unity lost its network")


async def test_canary_downtime_counts_as_unknown_uptime(app: Any, env: Env) -> None:
    state = env.state
    t0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    async with state.db.session() as s:
        plugin = PluginInstance(
            name="web", type="tcp", config={}, interval_seconds=60, created_at=t0
        )
        s.add(plugin)
        await s.flush()
        for minute in range(60):  # a check a minute; it fails from 10:20 to 10:40
            status = "error" if 20 <= minute < 40 else "success"
            s.add(
                PluginRun(
                    plugin_id=plugin.id,
                    status=status,
                    started_at=t0 + timedelta(minutes=minute),
                )
            )
        # Unity's own network was out 10:15-10:35: 15 of the 20 failing minutes are unknown.
        s.add(
            CanaryOutage(started_at=t0 + timedelta(minutes=15), ended_at=t0 + timedelta(minutes=35))
        )
        await s.commit()
        plugin_id = int(plugin.id)
    end = t0 + timedelta(hours=1)
    state.uptime.clock = lambda: end + timedelta(minutes=5)
    await state.uptime.run()
    async with state.db.session() as s:
        figures = (await uptime_query.plugin_uptime(s, plugin_id, end + HOUR))["windows"]["24h"]
    # Folded up to 11:03:30; the last run (10:59) holds for two intervals, to 11:01.
    assert figures["down_s"] == 5 * 60  # 10:35-10:40
    assert figures["unknown_s"] == 20 * 60 + 150  # the outage, then no data after 11:01
    assert figures["up_s"] == 15 * 60 + 21 * 60
    assert figures["percent"] == pytest.approx(100 * 36 / 41, abs=1e-3)


async def _incidents(env: Env) -> list[AlertIncident]:
    async with env.state.db.session() as s:
        return list(await s.scalars(select(AlertIncident).order_by(AlertIncident.id)))


async def _login(client: Any) -> dict[str, str]:
    from tests.conftest import PASSWORD

    r = await client.post("/api/v1/auth/login", data={"username": "admin", "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
