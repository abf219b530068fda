"""Alert evaluation and notifications end to end: samples and health in, Apprise POSTs out.

Samples go through the real writer and hub (so the hub listener path is what is tested), health
changes through the hub like plugin runs publish them, and notifications reach a real loopback
HTTP server through Apprise json:// URLs. Time is a manual clock: nothing sleeps for minutes.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.core.config import Settings
from app.models import (
    AlertIncident,
    AlertRule,
    AlertSilence,
    AlertState,
    NotificationChannel,
    NotificationDelivery,
    PluginHealth,
    PluginInstance,
)
from app.plugins.base import Sample
from app.services.alerts import rules, silences
from app.services.notify import channels, notifier
from app.state import AppState
from tests.alert_helpers import FakeClock, Receiver, set_health
from tests.conftest import make_settings, plugin_row, recorded_statements, running_app


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # No scheduler: the test drives evaluation ticks itself, on its own clock.
    return make_settings(database_url, tmp_path, scheduler_enabled=False, notify_max_attempts=4)


@pytest.fixture
async def env(settings: Settings, receiver: Receiver) -> AsyncIterator[Env]:
    async with running_app(settings) as app:
        yield await Env.make(app.state.unity, receiver)


class Env:
    """The running app's state plus a plugin, a channel and a clock to drive it."""

    def __init__(self, state: AppState, receiver: Receiver, clock: FakeClock) -> None:
        self.state = state
        self.receiver = receiver
        self.clock = clock
        self.plugin_id = 0
        self.channel_id = 0

    @classmethod
    async def make(cls, state: AppState, receiver: Receiver) -> Env:
        clock = FakeClock()
        state.alerts.clock = clock
        state.alerts.notifier.clock = clock
        env = cls(state, receiver, clock)
        async with state.db.session() as s:
            plugin = plugin_row("nas")
            plugin.health = PluginHealth(status="healthy", consecutive_failures=0)
            s.add(plugin)
            await s.commit()
            env.plugin_id = plugin.id
            channel = await channels.create_channel(
                s, state.box, name="hook", url=receiver.url(), enabled=True, send_resolved=True
            )
            env.channel_id = channel.id
        return env

    async def rule(self, engine: Any = None, **fields: Any) -> AlertRule:
        data: dict[str, Any] = {
            "name": "cpu hot",
            "kind": "metric",
            "plugin_id": self.plugin_id,
            "metric": "cpu_percent",
            "op": ">",
            "threshold": 90.0,
            "for_seconds": 120,
            "keep_firing_seconds": 60,
            "severity": "warning",
            "channel_ids": [self.channel_id],
        }
        data.update(fields)
        async with self.state.db.session() as s:
            return await rules.create_rule(s, data, engine)

    async def sample(self, value: float, advance: float = 0, **labels: str) -> None:
        """A plugin run's sample, written and published the real way, at the clock's time."""
        self.clock.advance(advance)
        self.state.writer.submit(
            self.plugin_id, self.clock(), [Sample("cpu_percent", value, "%", labels)]
        )
        await self.state.writer.flushed()
        await self.state.alerts.idle()

    async def health(self, status: str, advance: float = 0) -> None:
        self.clock.advance(advance)
        await set_health(self.state, self.plugin_id, status)

    async def tick(self, advance: float = 0) -> None:
        self.clock.advance(advance)
        await self.state.alerts.tick()
        await self.state.alerts.idle()

    async def incidents(self) -> list[AlertIncident]:
        async with self.state.db.session() as s:
            return list(await s.scalars(select(AlertIncident).order_by(AlertIncident.id)))

    async def states(self) -> list[AlertState]:
        async with self.state.db.session() as s:
            return list(await s.scalars(select(AlertState).order_by(AlertState.id)))

    async def deliveries(self) -> list[NotificationDelivery]:
        async with self.state.db.session() as s:
            return list(
                await s.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id))
            )


# ------------------------------------------------------------------------- pure rules
def test_conditions_and_label_matchers() -> None:
    assert rules.condition(">", 91, 90) and not rules.condition(">", 90, 90)
    assert rules.condition(">=", 90, 90) and rules.condition("<", 1, 2)
    assert rules.condition("<=", 2, 2) and rules.condition("==", 0, 0)
    assert rules.condition("!=", 1, 0)
    assert not rules.condition(">", float("nan"), 0)
    assert not rules.condition(">", None, 0)
    assert rules.labels_match({"mount": "/"}, {"mount": "/", "fs": "ext4"})
    assert not rules.labels_match({"mount": "/"}, {"mount": "/boot"})
    assert rules.labels_match({}, None)


def test_backoff_doubles_and_is_capped(tmp_path: Path) -> None:
    s = make_settings(
        "sqlite:///x.db", tmp_path, notify_retry_base_seconds=30, notify_retry_max_seconds=100
    )
    assert [notifier.backoff(s, n) for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


# ------------------------------------------------------------------------- metric rules
async def test_metric_alert_pends_fires_once_and_resolves_after_hysteresis(env: Env) -> None:
    await env.rule()
    await env.sample(95)
    [st] = await env.states()
    assert st.state == "pending" and st.value == 95
    assert await env.incidents() == []

    await env.sample(96, advance=60)
    assert (await env.states())[0].state == "pending"
    await env.sample(97, advance=60)  # 120 s above the threshold: fires
    [incident] = await env.incidents()
    assert incident.status == "firing" and incident.value == 97
    assert incident.plugin_name == "nas" and incident.metric == "cpu_percent"
    assert incident.rule["threshold"] == 90 and incident.rule["for_seconds"] == 120
    assert incident.fired_at - incident.started_at == timedelta(seconds=120)
    [notice] = env.receiver.delivered
    assert notice["title"].startswith("[FIRING] cpu hot")
    assert "cpu_percent" in notice["message"] and "97" in notice["message"]
    assert notice["type"] == "warning"

    # A dip under the threshold does not resolve at once, and going back up cancels it.
    await env.sample(50, advance=30)
    assert (await env.states())[0].state == "firing"
    await env.sample(99, advance=30)
    await env.sample(10, advance=30)
    await env.tick(advance=59)
    assert (await env.states())[0].state == "firing"
    await env.tick(advance=1)  # clear for the whole keep_firing window (the timer sees it)

    [incident] = await env.incidents()  # still one incident: no flapping
    assert incident.status == "resolved" and incident.resolved_value == 10
    assert incident.last_value == 10 and incident.resolved_reason == "the condition cleared"
    assert (await env.states())[0].state == "resolved"
    assert [n["title"].split(" ")[0] for n in env.receiver.delivered] == ["[FIRING]", "[RESOLVED]"]
    assert env.receiver.delivered[1]["type"] == "success"

    # A new breach is a new incident, pending first again.
    await env.sample(95, advance=10)
    assert (await env.states())[0].state == "pending"
    await env.sample(95, advance=120)
    assert [i.status for i in await env.incidents()] == ["resolved", "firing"]


async def test_a_pending_alert_that_clears_never_fires(env: Env) -> None:
    await env.rule()
    await env.sample(95)
    await env.sample(20, advance=60)
    await env.tick(advance=600)
    assert await env.states() == []
    assert await env.incidents() == []
    assert env.receiver.requests == []


async def test_label_matchers_and_zero_for_fire_on_the_first_sample(env: Env) -> None:
    await env.rule(labels={"core": "0"}, for_seconds=0, keep_firing_seconds=0, severity="critical")
    await env.sample(99, core="1")
    assert await env.incidents() == []
    await env.sample(99, core="0")
    [incident] = await env.incidents()
    assert incident.labels == {"core": "0"} and incident.severity == "critical"
    assert env.receiver.delivered[0]["type"] == "failure"
    await env.sample(1, advance=5, core="0")
    assert (await env.incidents())[0].status == "resolved"


async def test_the_timer_fires_from_the_latest_value_without_new_samples(env: Env) -> None:
    await env.sample(95)  # the data exists before the rule does
    await env.rule()
    await env.tick()
    assert (await env.states())[0].state == "pending"
    await env.tick(advance=120)
    assert (await env.incidents())[0].status == "firing"


# ------------------------------------------------------------------------- health rules
async def test_health_rule_fires_after_down_for_n_seconds_and_resolves(env: Env) -> None:
    await env.rule(
        name="down 5 min",
        kind="health",
        plugin_id=None,
        for_seconds=300,
        keep_firing_seconds=0,
        severity="critical",
    )
    await env.health("down")
    [st] = await env.states()
    assert st.state == "pending" and st.key == f"plugin:{env.plugin_id}"
    await env.tick(advance=299)  # no new health event while it stays down: the timer decides
    assert await env.incidents() == []
    await env.tick(advance=1)
    [incident] = await env.incidents()
    assert incident.kind == "health" and incident.status == "firing"
    assert "nas is down" in incident.summary
    assert env.receiver.delivered[0]["title"] == "[FIRING] down 5 min: nas"

    await env.health("healthy", advance=42)
    [incident] = await env.incidents()
    assert incident.status == "resolved"
    assert incident.resolved_reason == "the plugin is healthy again"
    assert "Fired for 42 s" in env.receiver.delivered[1]["message"]


async def test_disabling_the_plugin_resolves_its_health_alert(env: Env) -> None:
    await env.rule(kind="health", for_seconds=0, keep_firing_seconds=0)
    await env.health("down")
    assert (await env.incidents())[0].status == "firing"
    async with env.state.db.session() as s:
        plugin = await s.get(PluginInstance, env.plugin_id)
        assert plugin is not None
        plugin.enabled = False
        await s.commit()
    await env.tick(advance=15)
    [incident] = await env.incidents()
    assert incident.status == "resolved" and incident.resolved_reason == "the plugin was disabled"


# ------------------------------------------------------------------------- silences
async def test_a_silence_records_the_incident_but_sends_nothing(env: Env) -> None:
    await env.rule(for_seconds=0, keep_firing_seconds=0)
    async with env.state.db.session() as s:
        await silences.create_silence(
            s,
            {
                "plugin_id": None,
                "rule_id": None,
                "starts_at": env.clock() - timedelta(minutes=1),
                "ends_at": env.clock() + timedelta(hours=1),
                "comment": "upgrade",
            },
            "admin",
        )
    await env.sample(95)
    [incident] = await env.incidents()
    assert incident.status == "firing" and incident.silenced and not incident.notified
    await env.sample(5, advance=60)
    [incident] = await env.incidents()
    assert incident.status == "resolved"
    assert env.receiver.requests == []  # no firing notice, so no resolved notice either
    assert await env.deliveries() == []


async def test_an_alert_still_firing_when_its_silence_ends_is_announced(env: Env) -> None:
    await env.rule(for_seconds=0)
    async with env.state.db.session() as s:
        s.add(
            AlertSilence(
                plugin_id=env.plugin_id,
                starts_at=env.clock(),
                ends_at=env.clock() + timedelta(minutes=30),
                comment="maintenance",
            )
        )
        await s.commit()
    await env.sample(95)
    await env.tick(advance=600)
    assert env.receiver.requests == []
    await env.sample(96, advance=1200)  # the silence is over; still above the threshold
    await env.tick()
    [notice] = env.receiver.delivered
    assert notice["title"].startswith("[FIRING]")
    assert "started during a silence" in notice["message"]
    [incident] = await env.incidents()
    assert incident.silenced and incident.notified


async def test_a_silence_on_another_plugin_does_not_hold_notices(env: Env) -> None:
    await env.rule(for_seconds=0)
    async with env.state.db.session() as s:
        other = plugin_row("router")
        s.add(other)
        await s.flush()
        s.add(
            AlertSilence(
                plugin_id=other.id, starts_at=env.clock(), ends_at=env.clock() + timedelta(hours=1)
            )
        )
        await s.commit()
    await env.sample(95)
    assert len(env.receiver.delivered) == 1
    assert not (await env.incidents())[0].silenced


# ------------------------------------------------------------------------- deliveries
async def test_failed_notifications_retry_with_exponential_backoff(env: Env) -> None:
    env.receiver.fail_next = 2
    await env.rule(for_seconds=0)
    await env.sample(95)
    [d] = await env.deliveries()
    assert d.status == "pending" and d.attempts == 1 and "500" in (d.last_error or "")
    assert d.next_attempt_at == env.clock() + timedelta(seconds=30)

    env.clock.advance(29)
    assert await env.state.alerts.notifier.process_due() == 0  # not due yet
    env.clock.advance(1)
    assert await env.state.alerts.notifier.process_due() == 1  # fails again: waits twice as long
    [d] = await env.deliveries()
    assert d.attempts == 2 and d.next_attempt_at == env.clock() + timedelta(seconds=60)
    await env.tick(advance=60)  # the timer job retries
    [d] = await env.deliveries()
    assert d.status == "sent" and d.attempts == 3 and d.last_error is None
    assert [r["status"] for r in env.receiver.requests] == [500, 500, 200]
    assert env.receiver.delivered[0]["title"].startswith("[FIRING]")


async def test_a_delivery_gives_up_after_the_last_attempt(env: Env) -> None:
    env.receiver.fail_next = 100
    await env.rule(for_seconds=0)
    await env.sample(95)
    for wait in (30, 60, 120):
        await env.tick(advance=wait)
    [d] = await env.deliveries()
    assert d.status == "failed" and d.attempts == 4 and d.next_attempt_at is None
    await env.tick(advance=3600)
    assert len(env.receiver.requests) == 4


async def test_apprise_runs_in_the_notifier_threads_not_on_the_event_loop(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real = notifier._send_blocking

    def spy(*args: Any) -> str | None:
        threads.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(notifier, "_send_blocking", spy)
    await env.rule(for_seconds=0)
    await env.sample(95)
    assert threads and all(t.startswith("notify") for t in threads)
    assert len(env.receiver.delivered) == 1


async def test_disabled_channels_and_send_resolved_are_respected(env: Env) -> None:
    async with env.state.db.session() as s:
        ch = await s.get(NotificationChannel, env.channel_id)
        assert ch is not None
        ch.send_resolved = False
        await s.commit()
    await env.rule(for_seconds=0, keep_firing_seconds=0)
    await env.sample(95)
    await env.sample(5, advance=10)
    assert [n["title"].split(" ")[0] for n in env.receiver.delivered] == ["[FIRING]"]


async def test_deleting_a_rule_resolves_its_open_incident(env: Env) -> None:
    rule = await env.rule(for_seconds=0)
    await env.sample(95)
    async with env.state.db.session() as s:
        await rules.delete_rule(s, await rules.get_rule(s, rule.id))
    await env.tick(advance=15)
    [incident] = await env.incidents()
    assert incident.status == "resolved" and incident.rule_id is None
    assert incident.resolved_reason == "its rule or plugin was deleted"
    assert incident.rule_name == "cpu hot"  # the history keeps the rule's snapshot
    # The resolved notice still reaches the channels the rule had.
    assert [n["title"].split(" ")[0] for n in env.receiver.delivered] == ["[FIRING]", "[RESOLVED]"]


async def test_disabling_a_rule_resolves_its_states(env: Env) -> None:
    rule = await env.rule(for_seconds=0)
    await env.sample(95)
    async with env.state.db.session() as s:
        await rules.update_rule(s, await rules.get_rule(s, rule.id), {"enabled": False})
    await env.tick(advance=15)
    [incident] = await env.incidents()
    assert incident.status == "resolved" and incident.resolved_reason == "the rule was disabled"


async def test_a_deleted_rule_is_forgotten_at_once(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    rule = await env.rule(for_seconds=0)
    await env.sample(95)
    assert [st.rule_id for st in await env.states()] == [rule.id]
    told: list[bool] = []
    real = env.state.alerts.rules_changed
    monkeypatch.setattr(env.state.alerts, "rules_changed", lambda: (told.append(True), real()))
    async with env.state.db.session() as s:
        await rules.delete_rule(s, await rules.get_rule(s, rule.id), env.state.alerts)
    assert told, "deleting a rule must tell the engine, as creating and changing one do"
    await env.sample(96, advance=1)
    assert await env.states() == []
    await env.tick(advance=15)
    [incident] = await env.incidents()
    assert incident.status == "resolved"


async def test_without_rules_events_cost_no_query_until_a_rule_is_known(env: Env) -> None:
    await env.sample(95)  # no rule: nothing to evaluate, and now known to be so
    assert await env.states() == []
    await env.rule(for_seconds=0)  # as if made through another replica's API
    with recorded_statements(env.state.db) as queries:
        await env.sample(96, advance=1)
    assert queries and not any("alert_rules" in q.sql for q in queries)  # only the writer's
    assert await env.states() == []
    await env.tick(advance=1)  # the timer looks again: from now on events are evaluated
    await env.sample(97, advance=1)
    [st] = await env.states()
    assert st.value == 97
    # A rule made through this replica's API is known at once: the service tells the engine.
    await env.rule(name="cpu very hot", threshold=96, for_seconds=0, engine=env.state.alerts)
    await env.sample(98, advance=1)
    assert sorted(s.value for s in await env.states()) == [98, 98]
