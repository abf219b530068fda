"""Uptime Kuma import: monitors become plugins, heartbeats run history, samples and uptime."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.core.config import Settings
from app.core.errors import DomainError
from app.db.migrate import migrate
from app.db.session import Database
from app.models import PluginHealth, PluginInstance, PluginRun, Series
from app.services.imports.history import Progress
from app.services.imports.kuma_import import import_kuma
from app.services.metrics.reader import MetricsReader
from app.services.metrics.uptime import UptimeRollup
from app.services.metrics.uptime_query import window_totals
from tests.services.kuma_db import add_heartbeats, make_kuma_db
from tests.services.test_import_openmetrics import big_settings

BASE = datetime(2026, 1, 10, tzinfo=UTC)  # fixed dates: nothing depends on the wall clock
NOW = BASE + timedelta(days=3)
BEATS = 2 * 24 * 60  # the website: one heartbeat a minute for two days
DOWN_FROM = 24 * 60  # beats DOWN_FROM .. +29 are down, the next one pending


def kuma_time(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S.") + f"{ts.microsecond // 1000:03d}"


MONITORS: list[dict[str, Any]] = [
    {"id": 1, "name": "Website", "type": "http", "url": "http://127.0.0.1:9/", "interval": 60,
     "maxretries": 2, "timeout": 48, "created_date": kuma_time(BASE)},
    {"id": 2, "name": "Welcome page", "type": "keyword", "url": "http://127.0.0.1:9/w",
     "keyword": "Welcome", "interval": 120, "accepted_statuscodes_json": '["200-204", "401"]'},
    {"id": 3, "name": "SSH", "type": "port", "hostname": "127.0.0.1", "port": 22, "interval": 30},
    {"id": 4, "name": "Router", "type": "ping", "hostname": "127.0.0.1", "interval": 60,
     "active": 0},
    {"id": 5, "name": "DNS", "type": "dns", "hostname": "nas.lan", "dns_resolve_type": "AAAA",
     "dns_resolve_server": "127.0.0.1", "port": 5353, "interval": 300},
    {"id": 6, "name": "Backup", "type": "push", "interval": 3600, "push_token": "abc"},
    {"id": 7, "name": "Jellyfin", "type": "docker", "docker_container": "jellyfin",
     "docker_host": 1, "interval": 60},
    {"id": 8, "name": "Servers", "type": "group"},
    {"id": 9, "name": "Broker", "type": "mqtt", "hostname": "127.0.0.1", "port": 1883},
    {"id": 10, "name": "Broken", "type": "port", "hostname": "", "port": 22},
]  # fmt: skip


def website_beats(start: int = 0, stop: int = BEATS) -> list[Any]:
    out = []
    for i in range(start, stop):
        ts = BASE + timedelta(minutes=i)
        if DOWN_FROM <= i < DOWN_FROM + 30:
            out.append((1, 0, "connect ECONNREFUSED 127.0.0.1:9", kuma_time(ts), None))
        elif i == DOWN_FROM + 30:
            out.append((1, 2, "timeout of 48000ms exceeded", kuma_time(ts), None))
        else:
            out.append((1, 1, "200 - OK", kuma_time(ts), 100 + i % 7))
    return out


def ssh_beats() -> list[Any]:
    return [(3, 1, "", kuma_time(BASE + timedelta(seconds=30 * i)), 2) for i in range(10)]


@pytest.fixture
async def db_settings(database_url: str, tmp_path: Path) -> Any:
    settings = big_settings(database_url, tmp_path)
    db = Database(settings.db_url)
    await migrate(db.engine)
    try:
        yield db, settings
    finally:
        await db.dispose()


@pytest.fixture
def kuma(tmp_path: Path) -> Path:
    path = tmp_path / "kuma.db"
    make_kuma_db(path, MONITORS)
    add_heartbeats(path, website_beats() + ssh_beats())
    return path


async def _plugins(db: Database) -> dict[str, PluginInstance]:
    async with db.session() as session:
        return {p.name: p for p in await session.scalars(select(PluginInstance))}


async def _points(db: Database, settings: Settings, plugin_id: int, name: str) -> list[Any]:
    async with db.session() as session:
        sid = await session.scalar(
            select(Series.id).where(Series.plugin_id == plugin_id, Series.name == name)
        )
    assert sid is not None, name
    body = json.loads(
        await MetricsReader(db, settings).query([sid], BASE, BASE + timedelta(days=2), 5000, "avg")
    )
    assert body["resolution"] == "raw"
    return list(body["series"][0]["points"])


async def _runs(db: Database, plugin_id: int) -> list[tuple[str, str | None]]:
    async with db.session() as session:
        rows = await session.execute(
            select(PluginRun.status, PluginRun.error)
            .where(PluginRun.plugin_id == plugin_id)
            .order_by(PluginRun.started_at)
        )
        return [(s, e) for s, e in rows]


async def test_monitors_become_plugins_of_matching_types(db_settings: Any, kuma: Path) -> None:
    db, settings = db_settings
    report = await import_kuma(db, settings, kuma, Progress(None))
    plugins = await _plugins(db)
    assert {n: (p.type, p.interval_seconds, p.enabled) for n, p in plugins.items()} == {
        "Website": ("http", 60, True),
        "Welcome page": ("http", 120, True),
        "SSH": ("tcp", 30, True),
        "Router": ("ping", 60, False),  # paused in Kuma, paused here
        "DNS": ("dns", 300, True),
        "Backup": ("push", 60, True),
        "Jellyfin": ("docker", 60, True),
    }
    web = plugins["Website"]
    assert web.config["url"] == "http://127.0.0.1:9/"
    assert web.config["timeout_seconds"] == 48 and web.timeout_seconds == 49
    assert web.config["expected_status_codes"] == []
    assert web.created_at == BASE  # uptime counts from Kuma's creation date
    welcome = plugins["Welcome page"].config
    assert welcome["keyword"] == "Welcome"
    assert welcome["expected_status_codes"] == [200, 201, 202, 203, 204, 401]
    assert welcome["timeout_seconds"] == 96  # Kuma's default: 80 % of the interval
    assert plugins["SSH"].config["host"] == "127.0.0.1" and plugins["SSH"].config["port"] == 22
    assert plugins["DNS"].config["record_type"] == "AAAA"
    assert plugins["DNS"].config["server"] == "127.0.0.1"
    assert plugins["DNS"].config["port"] == 5353
    assert plugins["Backup"].config["heartbeat_interval_seconds"] == 3600
    assert plugins["Jellyfin"].config["url"] == "unix:///var/run/docker.sock"
    assert plugins["Jellyfin"].config["containers"] == ["jellyfin"]
    assert report.skipped == [
        "'Servers' (group): a group is a folder of monitors in Uptime Kuma, not a check",
        "'Broker' (mqtt): Unity has no check of Kuma's type 'mqtt'; add it by hand if needed",
        "'Broken' (port): Unity refuses its settings: config.host must be a host name "
        "(e.g. nas.lan) or an IP address, without scheme, port or path.",
    ]
    assert any("Website: 2 retries" in n for n in report.notes)
    assert report.heartbeats == BEATS + 10


async def test_heartbeats_become_runs_samples_and_health(db_settings: Any, kuma: Path) -> None:
    db, settings = db_settings
    await import_kuma(db, settings, kuma, Progress(None))
    web = (await _plugins(db))["Website"]
    runs = await _runs(db, web.id)
    assert len(runs) == BEATS
    assert runs[DOWN_FROM] == ("error", "connect ECONNREFUSED 127.0.0.1:9")
    assert runs[DOWN_FROM + 30] == ("error", "timeout of 48000ms exceeded")
    assert runs[0] == ("success", None)
    assert sum(1 for s, _ in runs if s == "error") == 31

    up = await _points(db, settings, web.id, "up")
    assert len(up) == BEATS
    assert up[0][1] == 1.0  # (bucket starts are epoch-aligned: compare values)
    assert [v for _, v in up[DOWN_FROM : DOWN_FROM + 32]] == [0.0] * 31 + [1.0]
    rt = await _points(db, settings, web.id, "http_response_time")
    assert len(rt) == BEATS - 31 and rt[1][1] == 101.0

    async with db.session() as session:
        health = await session.get(PluginHealth, web.id)
    assert health is not None and health.status == "healthy"
    assert health.last_run_at == BASE + timedelta(minutes=BEATS - 1)


@pytest.mark.parametrize("cursor_before", [True, False], ids=["refolded", "first-fold"])
async def test_uptime_includes_the_imported_history(
    db_settings: Any, kuma: Path, cursor_before: bool
) -> None:
    """Whether the uptime roll-up ran before the import (the import recomputes behind its
    cursor) or only after it (its first pass starts at the oldest run), the figures agree."""
    db, settings = db_settings
    rollup = UptimeRollup(db, lambda: NOW)
    if cursor_before:
        await rollup.run()
    await import_kuma(db, settings, kuma, Progress(None))
    if not cursor_before:
        await rollup.run()
    web = (await _plugins(db))["Website"]
    async with db.session() as session:
        totals = (await window_totals(session, "7d", NOW, [web.id]))[web.id]
    # Each beat holds its state until the next, the last one two intervals (120 s).
    assert totals.down_s == 31 * 60
    assert totals.up_s == (BEATS - 1) * 60 + 120 - 31 * 60
    assert totals.percent == pytest.approx(100 * totals.up_s / (totals.up_s + totals.down_s))

    await import_kuma(db, settings, kuma, Progress(None))  # recomputes: the same figures
    async with db.session() as session:
        assert (await window_totals(session, "7d", NOW, [web.id]))[web.id] == totals


async def test_importing_again_adds_only_new_heartbeats(db_settings: Any, kuma: Path) -> None:
    db, settings = db_settings
    await import_kuma(db, settings, kuma, Progress(None))
    again = await import_kuma(db, settings, kuma, Progress(None))
    assert again.created == [] and again.heartbeats == 0 and len(again.kept) == 7
    web = (await _plugins(db))["Website"]
    assert len(await _runs(db, web.id)) == BEATS

    add_heartbeats(kuma, website_beats(BEATS, BEATS + 5))  # Kuma kept running meanwhile
    more = await import_kuma(db, settings, kuma, Progress(None))
    assert more.heartbeats == 5
    assert len(await _runs(db, web.id)) == BEATS + 5
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(PluginInstance)) == 7


async def test_a_file_that_is_not_kuma_is_refused(db_settings: Any, tmp_path: Path) -> None:
    db, settings = db_settings
    other = tmp_path / "other.db"
    other.write_bytes(b"not a database at all" * 100)
    with pytest.raises(DomainError, match="is not an SQLite database"):
        await import_kuma(db, settings, other, Progress(None))
    import sqlite3

    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).execute("CREATE TABLE monitor (id INTEGER)").connection.close()
    with pytest.raises(
        DomainError, match="is not an Uptime Kuma database: it has no table heartbeat"
    ):
        await import_kuma(db, settings, empty, Progress(None))
