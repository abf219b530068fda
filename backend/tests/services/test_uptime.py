"""Uptime arithmetic on a controlled clock: runs, no-data gaps, maintenance, hourly/daily folds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.core.config import Settings
from app.main import create_app
from app.models import (
    MaintenanceWindow,
    PluginInstance,
    PluginRun,
    UptimeCursor,
    UptimeDaily,
    UptimeHourly,
)
from app.services.metrics import uptime_query
from app.services.metrics.uptime import Durations, by_bucket, floor_hour, fold_plugin
from tests.conftest import make_settings

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def totals(segments: list[Any]) -> dict[str, float]:
    d = Durations()
    for part in by_bucket(segments, floor_hour, timedelta(hours=1)).values():
        d.merge(part)
    return d.as_dict()


def test_each_run_holds_its_state_until_the_next_and_gaps_are_no_data() -> None:
    runs = [(at(0), "success"), (at(60), "error"), (at(120), "success")]
    # After the last run: two intervals (120 s) of up, then nothing is known.
    assert totals(fold_plugin(runs, at(0), at(600), 60)) == {
        "up_s": 180.0,
        "down_s": 60.0,
        "maintenance_s": 0.0,
        "unknown_s": 360.0,
        "percent": 75.0,
    }
    # Before the first run nothing is known either.
    assert totals(fold_plugin(runs, at(-300), at(0), 60))["unknown_s"] == 300.0
    # An interrupted run (the backend stopped) says nothing about the target.
    assert totals(fold_plugin([(at(0), "interrupted")], at(0), at(60), 60))["unknown_s"] == 60


def test_maintenance_replaces_whatever_it_overlaps() -> None:
    runs = [(at(0), "success"), (at(60), "error"), (at(120), "success")]
    spans = [(at(30), at(90)), (at(300), at(700))]  # over up+down, and over a no-data gap
    figures = totals(fold_plugin(runs, at(0), at(600), 60, spans))
    assert figures == {
        "up_s": 30.0 + 120.0,
        "down_s": 30.0,
        "maintenance_s": 60.0 + 300.0,
        "unknown_s": 60.0,
        "percent": 83.3333,
    }
    assert Durations(maintenance_s=10, unknown_s=5).percent is None  # nothing observed


def test_time_is_split_at_hour_boundaries() -> None:
    runs = [(at(3540), "success")]  # 10:59, interval 60: up until 11:01
    buckets = by_bucket(fold_plugin(runs, at(3540), at(3660), 60), floor_hour, timedelta(hours=1))
    assert {h.hour: d.up_s for h, d in buckets.items()} == {10: 60.0, 11: 60.0}


# --------------------------------------------------------------------- folding in the database
@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, scheduler_enabled=False)


@pytest.fixture
async def state(settings: Settings) -> AsyncIterator[Any]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app.state.unity


async def seed(state: Any) -> int:
    """A plugin checked every minute from 10:00: 1 h up, 30 min failing (20 min of it in
    maintenance), 30 min without runs (Unity was stopped), then 1 h up."""
    async with state.db.session() as s:
        plugin = PluginInstance(
            name="nas", type="tcp", config={}, interval_seconds=60, created_at=T0
        )
        s.add(plugin)
        await s.flush()
        for minute in range(180):
            if 90 <= minute < 120:
                continue
            status = "error" if 60 <= minute < 90 else "success"
            start = at(minute * 60)
            s.add(PluginRun(plugin_id=plugin.id, status=status, started_at=start))
        s.add(
            MaintenanceWindow(
                name="firmware",
                kind="once",
                starts_at=at(70 * 60),
                ends_at=at(90 * 60),
                timezone="UTC",
                all_plugins=False,
                plugin_ids=[plugin.id],
            )
        )
        await s.commit()
        return int(plugin.id)


async def test_the_fold_gives_the_same_figures_in_one_pass_or_many(state: Any) -> None:
    plugin_id = await seed(state)
    rollup = state.uptime
    now = at(3 * 3600)
    rollup.clock = lambda: now + timedelta(minutes=30)  # one late pass folds everything
    await rollup.run()
    async with state.db.session() as s:
        one = await uptime_query.plugin_uptime(s, plugin_id, now)
    day = one["windows"]["24h"]
    # A run's state lasts until the next run, at most two intervals (120 s): the last error
    # (11:29) reaches 11:31, then 29 min are no data; the last run (12:59) reaches 13:01, and
    # the pass folded up to 13:28:30. Maintenance 11:10-11:30 replaces 20 of the 31 min down.
    assert day["up_s"] == 3600 + 3660
    assert day["down_s"] == 660 and day["maintenance_s"] == 1200
    assert day["unknown_s"] == 29 * 60 + 1650
    assert day["percent"] == pytest.approx(100 * 7260 / 7920, abs=1e-3)
    assert one["windows"]["365d"] == day  # all inside one UTC day
    assert one["days"][-1]["date"] == "2026-03-02" and len(one["days"]) == 90
    assert one["days"][-1]["up_s"] == day["up_s"]

    # The same history folded minute by minute gives the same rows.
    async with state.db.session() as s:
        await s.execute(UptimeHourly.__table__.delete())
        await s.execute(UptimeDaily.__table__.delete())
        await s.execute(UptimeCursor.__table__.delete())
        await s.commit()
    for minute in range(0, 211, 7):
        rollup.clock = lambda m=minute: at(m * 60)
        await rollup.run()
    rollup.clock = lambda: now + timedelta(minutes=30)
    await rollup.run()
    async with state.db.session() as s:
        many = await uptime_query.plugin_uptime(s, plugin_id, now)
        hours = await s.scalar(select(func.count()).select_from(UptimeHourly))
    assert many["windows"]["24h"] == pytest.approx(day)
    assert hours == 4  # 10:00 .. 13:00


async def test_uptime_api_answers_each_part_and_the_percentage(
    state: Any, settings: Settings
) -> None:
    plugin_id = await seed(state)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            r = await client.post(
                "/api/v1/auth/setup", json={"username": "admin", "password": "x" * 12}
            )
            r = await client.post(
                "/api/v1/auth/login", data={"username": "admin", "password": "x" * 12}
            )
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            r = await client.get(f"/api/v1/plugins/{plugin_id}/uptime", headers=headers)
            assert r.status_code == 200, r.text
            body = r.json()
            assert set(body["windows"]) == {"24h", "7d", "30d", "90d", "365d"}
            assert set(body["windows"]["7d"]) == {
                "up_s",
                "down_s",
                "maintenance_s",
                "unknown_s",
                "percent",
            }
            assert len(body["days"]) == 90
            r = await client.get("/api/v1/uptime?window=365d&days=7", headers=headers)
            assert r.status_code == 200
            [item] = r.json()["items"]
            assert item["plugin_id"] == plugin_id and len(item["days"]) == 7
            r = await client.get("/api/v1/uptime?window=2w", headers=headers)
            assert r.status_code == 422 and "window" in r.json()["fields"]
            r = await client.get("/api/v1/plugins/999/uptime", headers=headers)
            assert r.status_code == 404


async def test_day_windows_from_running_totals_equal_the_plain_sums(state: Any) -> None:
    """Ten days of hourly checks (every fifth failing, a weekly window), folded in uneven steps:
    each window read as the difference of two running totals matches summing its days."""
    start = T0 - timedelta(days=10)
    async with state.db.session() as s:
        plugin = PluginInstance(
            name="web", type="http", config={}, interval_seconds=3600, created_at=start
        )
        s.add(plugin)
        await s.flush()
        for hour in range(10 * 24):
            status = "error" if hour % 5 == 0 else "success"
            s.add(PluginRun(plugin_id=plugin.id, status=status, started_at=start + hour * HOUR))
        s.add(
            MaintenanceWindow(
                name="weekly",
                kind="weekly",
                starts_at=start,
                weekdays=[0, 3],
                start_time="23:30",
                duration_seconds=5400,
                timezone="Europe/Berlin",
                all_plugins=True,
                plugin_ids=[],
            )
        )
        await s.commit()
    rollup = state.uptime
    for step in range(0, 10 * 24 + 2, 5):
        rollup.clock = lambda h=step: start + h * HOUR
        await rollup.run()
    now = T0 + timedelta(hours=1)
    async with state.db.session() as s:
        for window, days in (("7d", 7), ("30d", 30)):
            [got] = (await uptime_query.window_totals(s, window, now)).values()
            since = T0.replace(hour=0) - timedelta(days=days - 1)
            rows = list(await s.scalars(select(UptimeDaily).where(UptimeDaily.day >= since)))
            for kind in ("up_s", "down_s", "maintenance_s", "unknown_s"):
                assert getattr(got, kind) == pytest.approx(sum(getattr(r, kind) for r in rows))
            assert got.down_s > 0 and got.maintenance_s > 0
        hourly = await s.scalar(select(func.sum(UptimeHourly.maintenance_s)))
        daily = await s.scalar(select(func.sum(UptimeDaily.maintenance_s)))
    assert hourly == pytest.approx(daily)
