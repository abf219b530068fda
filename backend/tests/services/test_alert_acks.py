"""Repeated notices and acknowledgements: a firing incident repeats per its rule until someone
acknowledges it, and its timeline records who did, when and why.

Same harness as test_alerts.py: a real app, a manual clock, a loopback Apprise receiver.
"""

from __future__ import annotations

import pytest

from app.core.errors import Conflict
from app.services.alerts import incidents
from tests.services.test_alerts import Env, env, settings

__all__ = ["env", "settings"]  # the fixtures this module borrows


async def _ack(env: Env, incident_id: int, comment: str = "") -> None:
    async with env.state.db.session() as s:
        incident = await incidents.get_incident(s, incident_id)
        await incidents.acknowledge(s, incident, "admin", comment, env.clock())


async def test_a_firing_notice_repeats_until_acknowledged(env: Env) -> None:
    await env.rule(kind="health", for_seconds=0, keep_firing_seconds=0, repeat_seconds=600)
    await env.health("down")
    assert [d["title"] for d in env.receiver.delivered] == ["[FIRING] cpu hot: nas"]

    await env.tick(advance=599)
    assert len(env.receiver.delivered) == 1
    await env.tick(advance=1)
    assert [d["title"] for d in env.receiver.delivered][1] == "[STILL FIRING] cpu hot: nas"
    await env.tick(advance=600)
    assert len(env.receiver.delivered) == 3

    [incident] = await env.incidents()
    acked_at = env.clock()
    await _ack(env, incident.id, "rebooting the NAS")
    await env.tick(advance=3600)
    assert len(env.receiver.delivered) == 3  # acknowledged: no more repeats

    [incident] = await env.incidents()
    assert incident.acknowledged_by == "admin" and incident.acknowledged_at == acked_at
    assert incident.ack_comment == "rebooting the NAS"
    # The resolution is still announced.
    await env.health("healthy", advance=5)
    assert env.receiver.delivered[-1]["title"] == "[RESOLVED] cpu hot: nas"
    async with env.state.db.session() as s:
        lines = [(e.kind, e.detail) for e in await incidents.timeline(s, incident.id)]
    kinds = [k for k, _ in lines]
    assert kinds == [
        "opened",
        "notified",
        "notified",
        "notified",
        "acknowledged",
        "resolved",
        "notified",
    ]
    assert ("acknowledged", "by admin: rebooting the NAS") in lines


async def test_without_repeat_seconds_one_notice_is_all(env: Env) -> None:
    await env.rule(kind="health", for_seconds=0, keep_firing_seconds=0)
    await env.health("down")
    await env.tick(advance=86400)
    assert len(env.receiver.delivered) == 1


async def test_only_a_firing_unacknowledged_incident_can_be_acknowledged(env: Env) -> None:
    await env.rule(kind="health", for_seconds=0, keep_firing_seconds=0)
    await env.health("down")
    [incident] = await env.incidents()
    await _ack(env, incident.id)
    with pytest.raises(Conflict, match="already acknowledged by admin"):
        await _ack(env, incident.id)
    await env.health("healthy", advance=5)
    await env.health("down", advance=5)
    resolved, _again = await env.incidents()
    with pytest.raises(Conflict, match="is resolved"):
        await _ack(env, resolved.id)
