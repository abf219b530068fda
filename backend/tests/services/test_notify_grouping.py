"""Group windows and quiet hours per channel: many alerts, one message; quiet nights, one digest.

A real app on a manual clock, health changes published through the hub the way plugin runs
publish them, and a real loopback webhook (Apprise json://) receiving what goes out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.core.config import Settings
from app.models import NotificationChannel, NotificationDelivery, PluginHealth
from app.services.alerts import rules
from app.services.notify import channels, grouping
from app.state import AppState
from tests.alert_helpers import FakeClock, Receiver, set_health
from tests.conftest import asgi_client, make_settings, plugin_row, running_app, setup_admin

# A Tuesday in winter: Europe/Berlin is UTC+1, so 22:00 UTC is 23:00 there.
EVENING = datetime(2026, 3, 10, 21, 30, tzinfo=UTC)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # The product's default group window (the test conftest turns it off for other tests).
    return make_settings(database_url, tmp_path, scheduler_enabled=False, notify_group_seconds=30)


class Env:
    def __init__(self, state: AppState, receiver: Receiver) -> None:
        self.state = state
        self.receiver = receiver
        self.clock = FakeClock(EVENING)
        state.alerts.clock = self.clock
        state.alerts.notifier.clock = self.clock
        self.plugins: dict[str, int] = {}

    async def plugin(self, name: str) -> int:
        async with self.state.db.session() as s:
            row = plugin_row(name)
            row.health = PluginHealth(status="healthy", consecutive_failures=0)
            s.add(row)
            await s.commit()
            self.plugins[name] = row.id
            return int(row.id)

    async def channel(self, **fields: Any) -> NotificationChannel:
        async with self.state.db.session() as s:
            return await channels.create_channel(
                s,
                self.state.box,
                name=fields.pop("name", "hook"),
                url=self.receiver.url(),
                enabled=True,
                send_resolved=True,
                **fields,
            )

    async def rule(self, name: str, channel_id: int, **fields: Any) -> None:
        data: dict[str, Any] = {
            "name": name,
            "kind": "health",
            "plugin_id": None,
            "for_seconds": 0,
            "keep_firing_seconds": 0,
            "severity": "warning",
            "channel_ids": [channel_id],
        }
        data.update(fields)
        async with self.state.db.session() as s:
            await rules.create_rule(s, data, self.state.alerts)

    async def health(self, name: str, status: str, advance: float = 0) -> None:
        self.clock.advance(advance)
        await set_health(self.state, self.plugins[name], status)

    async def tick(self, advance: float = 0) -> None:
        self.clock.advance(advance)
        await self.state.alerts.tick()
        await self.state.alerts.idle()

    def titles(self) -> list[str]:
        return [str(d["title"]) for d in self.receiver.delivered]

    async def deliveries(self) -> list[NotificationDelivery]:
        async with self.state.db.session() as s:
            q = select(NotificationDelivery).order_by(NotificationDelivery.id)
            return list(await s.scalars(q))


@pytest.fixture
async def env(settings: Settings, receiver: Receiver) -> AsyncIterator[Env]:
    async with running_app(settings) as app:
        yield Env(app.state.unity, receiver)


# ------------------------------------------------------------------------- the group window
async def test_ten_unrelated_failures_within_five_seconds_are_one_message(env: Env) -> None:
    names = [f"svc {n:02}" for n in range(10)]
    for name in names:
        await env.plugin(name)
    hook = await env.channel()  # no group_seconds of its own: NOTIFY_GROUP_SECONDS (30)
    await env.rule("anything down", hook.id)

    for name in names:
        await env.health(name, "down", advance=0.5)
    await env.tick()
    assert env.receiver.delivered == []  # the window (opened by the first) is still open
    assert {d.held for d in await env.deliveries()} == {"group"}

    await env.tick(advance=30)
    assert len(env.receiver.delivered) == 1, env.titles()
    [notice] = env.receiver.delivered
    assert notice["title"].startswith("[FIRING] 10 checks down: ")
    for name in names:
        assert f"anything down: {name}" in notice["message"]
    assert notice["type"] == "warning"
    rows = await env.deliveries()
    assert len(rows) == 10 and {r.status for r in rows} == {"sent"}

    for name in names:  # they all come back together: one resolution notice
        await env.health(name, "healthy", advance=0.4)
    await env.tick(advance=30)
    assert len(env.receiver.delivered) == 2, env.titles()
    resolved = env.receiver.delivered[1]
    assert resolved["title"] == "[RESOLVED] 10 resolved"
    assert all(name in resolved["message"] for name in names)


async def test_a_late_failure_starts_the_next_group_and_a_zero_window_sends_at_once(
    env: Env,
) -> None:
    for name in ("a", "b", "c"):
        await env.plugin(name)
    hook = await env.channel(group_seconds=10)
    instant = await env.channel(name="pager", group_seconds=0)
    await env.rule("grouped", hook.id)
    await env.rule("instant", instant.id)

    await env.health("a", "down")
    assert env.titles() == ["[FIRING] instant: a"]  # the zero-window channel did not wait
    await env.health("b", "down", advance=5)
    await env.tick(advance=5)  # a's window (10 s) is over: a and b in one message
    grouped = [t for t in env.titles() if "instant" not in t]
    assert grouped == ["[FIRING] 2 checks down: a, b"]
    await env.health("c", "down", advance=1)
    await env.tick(advance=9)
    assert len([t for t in env.titles() if "instant" not in t]) == 1  # c's window is open
    await env.tick(advance=1)
    assert env.titles()[-1] == "[FIRING] grouped: c"  # alone in its window: its own notice
    assert env.titles().count("[FIRING] instant: b") == 1


# ------------------------------------------------------------------------- quiet hours
def test_quiet_hours_span_midnight_in_the_channel_time_zone() -> None:
    ch = NotificationChannel(quiet_start="23:00", quiet_end="07:00", quiet_timezone="Europe/Berlin")
    morning = datetime(2026, 3, 11, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
    assert grouping.quiet_until(ch, datetime(2026, 3, 10, 21, 59, tzinfo=UTC)) is None
    assert grouping.quiet_until(ch, datetime(2026, 3, 10, 22, 0, tzinfo=UTC)) == morning
    assert grouping.quiet_until(ch, datetime(2026, 3, 11, 5, 59, tzinfo=UTC)) == morning
    assert grouping.quiet_until(ch, morning) is None
    # Summer time: 07:00 in Berlin is 05:00 UTC.
    summer = grouping.quiet_until(ch, datetime(2026, 7, 1, 1, 0, tzinfo=UTC))
    assert summer == datetime(2026, 7, 1, 5, 0, tzinfo=UTC)
    lunch = NotificationChannel(quiet_start="12:00", quiet_end="13:30", quiet_timezone="UTC")
    assert grouping.quiet_until(lunch, datetime(2026, 3, 10, 12, 15, tzinfo=UTC)) == datetime(
        2026, 3, 10, 13, 30, tzinfo=UTC
    )
    assert grouping.quiet_until(lunch, datetime(2026, 3, 10, 11, 15, tzinfo=UTC)) is None
    assert grouping.quiet_until(NotificationChannel(), EVENING) is None


async def test_quiet_hours_hold_all_but_critical_and_send_one_digest_when_they_end(
    env: Env,
) -> None:
    for name in ("web", "nas", "ups", "dns"):
        await env.plugin(name)
    phone = await env.channel(
        group_seconds=0, quiet_start="23:00", quiet_end="07:00", quiet_timezone="Europe/Berlin"
    )
    await env.rule("web down", phone.id, plugin_id=env.plugins["web"])
    await env.rule("nas down", phone.id, plugin_id=env.plugins["nas"])
    await env.rule("dns down", phone.id, plugin_id=env.plugins["dns"])
    await env.rule("ups down", phone.id, plugin_id=env.plugins["ups"], severity="critical")

    await env.health("web", "down")  # 22:30 in Berlin: not quiet yet
    assert env.titles() == ["[FIRING] web down: web"]

    await env.health("nas", "down", advance=3600)  # 23:30 in Berlin
    await env.tick()
    assert len(env.titles()) == 1
    held = (await env.deliveries())[-1]
    assert held.held == "quiet"
    assert held.next_attempt_at == datetime(2026, 3, 11, 6, 0, tzinfo=UTC)

    await env.health("ups", "down", advance=600)  # critical: sent all the same
    assert env.titles()[-1] == "[FIRING] ups down: ups"
    await env.health("dns", "down", advance=600)  # a blip overnight: fires and resolves
    await env.health("dns", "healthy", advance=300)
    await env.health("web", "healthy", advance=300)  # web was announced; its resolution waits

    env.clock.now = datetime(2026, 3, 11, 5, 59, tzinfo=UTC)
    await env.tick()
    assert len(env.titles()) == 2
    await env.tick(advance=60)  # 07:00 in Berlin: one message with the night's news
    assert len(env.titles()) == 3, env.titles()
    digest = env.receiver.delivered[-1]
    assert digest["title"] == "[FIRING] 1 check down: nas; 1 resolved; 1 fired and resolved"
    body = digest["message"]
    assert "Firing (1):\n• nas down: nas" in body
    assert "Resolved (1):\n• web down: web" in body
    assert "Fired and resolved meanwhile (1):\n• dns down: dns" in body
    assert {d.status for d in await env.deliveries()} == {"sent"}


async def test_channel_api_takes_group_window_and_quiet_hours(app: Any) -> None:
    async with asgi_client(app) as client:
        headers = await setup_admin(client)
        body = {
            "name": "phone",
            "url": "json://127.0.0.1:9/hook",
            "group_seconds": 60,
            "quiet_start": "23:00",
            "quiet_end": "07:00",
            "quiet_timezone": "Europe/Berlin",
        }
        r = await client.post("/api/v1/channels", json=body, headers=headers)
        assert r.status_code == 201, r.text
        out = r.json()
        assert out["group_seconds"] == 60 and out["quiet_except_critical"] is True
        assert (out["quiet_start"], out["quiet_end"]) == ("23:00", "07:00")
        assert isinstance(out["quiet_now"], bool)
        cid = out["id"]

        r = await client.patch(f"/api/v1/channels/{cid}", json={"quiet_end": None}, headers=headers)
        assert r.status_code == 422 and "quiet_end" in r.json()["fields"], r.text
        r = await client.patch(
            f"/api/v1/channels/{cid}", json={"quiet_timezone": "Mars/Olympus"}, headers=headers
        )
        assert r.status_code == 422 and "IANA" in r.json()["detail"]
        r = await client.patch(
            f"/api/v1/channels/{cid}", json={"quiet_start": "25:00"}, headers=headers
        )
        assert r.status_code == 422 and "quiet_start" in r.json()["fields"]
        r = await client.patch(
            f"/api/v1/channels/{cid}",
            json={"quiet_start": None, "quiet_end": None, "group_seconds": None},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        assert r.json()["quiet_start"] is None and r.json()["group_seconds"] is None
