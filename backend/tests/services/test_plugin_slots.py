"""Slot jobs: plugins due at the same instant share one APScheduler job, each keeps its own run."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select

from app.models import PluginRun
from app.services.plugins import slots as slots_mod
from app.services.plugins.slots import EPOCH, RAMP, Slots, last_due, phase, slot_id
from tests.conftest import running_app
from tests.services.test_scheduler import TEST_TYPES, make


def test_a_fire_a_little_late_or_early_belongs_to_the_nearest_due_time() -> None:
    due = EPOCH + timedelta(days=300, seconds=3)  # a fire time of the slot (10 s, +3 s)
    assert last_due((10, 3), due + timedelta(milliseconds=40)) == due
    assert last_due((10, 3), due - timedelta(milliseconds=5)) == due  # early: not late
    assert last_due((10, 3), due + timedelta(seconds=6)) == due + timedelta(seconds=10)
    assert {phase(i, 10) for i in range(1, 11)} == set(range(10))  # spread over the interval


async def settle() -> None:
    for _ in range(5):  # the started tasks run, end, and their callbacks run
        await asyncio.sleep(0)


async def test_one_slot_job_starts_every_member_once_and_skips_a_run_still_going() -> None:
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start(paused=True)
    started: list[tuple[int, datetime]] = []
    hold = asyncio.Event()

    async def start_run(plugin_id: int, due: datetime) -> None:
        started.append((plugin_id, due))
        if plugin_id == 0:
            await hold.wait()  # plugin 0's run is still going at the next fire

    slots = Slots(scheduler, start_run)
    members = [i * 10 for i in range(2 * RAMP + 5)]  # all at phase 0 of 10 s: more than a ramp
    for pid in members:
        slots.add(pid, f"p{pid}", 10)
    assert [j.id for j in scheduler.get_jobs()] == ["slot:10:0"]
    rows = {r["id"]: r for r in slots.rows()}
    job = scheduler.get_job("slot:10:0")
    assert rows["plugin:10"]["next_run_at"] == job.next_run_time
    assert rows["plugin:10"]["interval_seconds"] == 10

    await slots._fire((10, 0))
    await settle()
    assert sorted(pid for pid, _ in started) == members
    assert len({due for _, due in started}) == 1
    assert set(slots.running) == {0}  # the others finished

    started.clear()
    await slots._fire((10, 0))
    await settle()
    assert sorted(pid for pid, _ in started) == members[1:]  # max one run per plugin
    hold.set()
    await settle()
    assert not slots.running

    # Moving a plugin to another interval moves it to that slot; the last member out removes
    # its slot's job.
    slots.add(10, "p10", 7)
    assert slots.slot_of(10) == (7, phase(10, 7))
    assert scheduler.get_job(slot_id((7, phase(10, 7)))) is not None
    for pid in members:
        slots.remove(pid)
    assert [j.id for j in scheduler.get_jobs()] == []
    scheduler.shutdown(wait=False)


@pytest.fixture
async def app(settings: Any) -> Any:
    async with running_app(settings) as application:
        for cls in TEST_TYPES:
            application.state.unity.registry.register(cls)
        yield application


async def test_plugins_sharing_a_second_run_from_one_job_each_with_its_own_run_and_lateness(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], monkeypatch: Any
) -> None:
    monkeypatch.setattr(slots_mod, "RAMP", 2)  # three members: the ramp yields in between
    ids = [await make(client, admin, "test_steady", name=f"s{i}") for i in range(3)]
    sched = app.state.unity.scheduler
    assert [j.id for j in sched.scheduler.get_jobs() if j.id.startswith("slot:")] == ["slot:1:0"]
    jobs = (await client.get("/api/v1/scheduler", headers=admin)).json()["jobs"]
    by_id = {j["id"]: j for j in jobs}
    assert by_id["slot:1:0"]["name"].startswith("3 plugin(s) every 1 s")
    assert {by_id[f"plugin:{i}"]["name"] for i in ids} == {"s0", "s1", "s2"}
    assert len({by_id[f"plugin:{i}"]["next_run_at"] for i in ids}) == 1

    await asyncio.sleep(3.5)
    async with app.state.unity.db.session() as s:
        runs = list(await s.scalars(select(PluginRun).where(PluginRun.trigger == "schedule")))
    for pid in ids:
        mine = [r for r in runs if r.plugin_id == pid]
        assert len(mine) >= 2, f"plugin {pid} ran {len(mine)} times in 3.5 s"
        assert all(r.lateness_ms is not None and r.lateness_ms >= 0 for r in mine)

    # Disabling one leaves the others on the slot; disabling all removes the slot's job.
    await client.patch(f"/api/v1/plugins/{ids[0]}", json={"enabled": False}, headers=admin)
    jobs = {j["id"] for j in (await client.get("/api/v1/scheduler", headers=admin)).json()["jobs"]}
    assert f"plugin:{ids[0]}" not in jobs and f"plugin:{ids[1]}" in jobs and "slot:1:0" in jobs
    for pid in ids[1:]:
        await client.patch(f"/api/v1/plugins/{pid}", json={"enabled": False}, headers=admin)
    assert sched.scheduler.get_job("slot:1:0") is None
