"""OpenMetrics import: the format, the plugin/series mapping, resuming, errors, roll-ups."""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.core.config import Settings
from app.db.migrate import migrate
from app.db.session import Database
from app.models import ImportCheckpoint, PluginInstance, RollupDirty, Series
from app.services.imports.history import Progress
from app.services.imports.om_import import ImportFailed, import_openmetrics
from app.services.imports.openmetrics import ParseError, Point, parse_line
from app.services.metrics.maintenance import StorageMaintenance
from app.services.metrics.reader import MetricsReader
from tests.conftest import make_settings

BASE = datetime(2026, 1, 10, tzinfo=UTC)  # fixed: nothing here depends on the wall clock
STEP = 15
STEPS = 120  # 30 minutes per series


def _value(series: int, i: int) -> float:
    return round(series * 1000 + i * 0.25, 3)


def openmetrics_text(steps: int = STEPS) -> str:
    """Three series in two job/instance pairs, as `promtool tsdb dump-openmetrics` orders
    them: series by series, each in time order (seconds with milliseconds)."""
    heads = [
        "# TYPE node_cpu_seconds_total counter\n# UNIT node_cpu_seconds_total seconds\n",
        "",
        "# HELP up Whether the target answered.\n",
    ]
    series = [
        'node_cpu_seconds_total{cpu="0",instance="host1:9100",job="node",mode="idle"}',
        'node_busy_seconds{cpu="1",instance="host1:9100",job="node",mode="idle"}',
        'up{instance="https://nas.lan/",job="blackbox",path="a \\"b\\"\\\\c"}',
    ]
    lines = []
    for n, (head, name) in enumerate(zip(heads, series, strict=True)):
        lines.append(head)
        for i in range(steps):
            ts = (BASE + timedelta(seconds=STEP * i)).timestamp()
            lines.append(f"{name} {_value(n, i)} {ts:.3f}\n")
    return "".join(lines) + "# EOF\n"


def big_settings(database_url: str, tmp_path: Path) -> Settings:
    # Retention long enough that the fixed dates in the past are still read from raw data.
    return make_settings(
        database_url,
        tmp_path,
        raw_retention_days=3650,
        rollup_1m_retention_days=3650,
        rollup_1h_retention_days=3650,
    )


async def stored(db: Database, settings: Settings) -> dict[tuple[str, str, str], list[Any]]:
    """Every imported series' raw points, by (plugin name, series name, labels JSON)."""
    reader = MetricsReader(db, settings)
    async with db.session() as session:
        rows = (
            await session.execute(
                select(Series.id, PluginInstance.name).join(
                    PluginInstance, PluginInstance.id == Series.plugin_id
                )
            )
        ).all()
    out: dict[tuple[str, str, str], list[Any]] = {}
    for sid, plugin in rows:
        body = json.loads(
            await reader.query(
                [sid], BASE - timedelta(minutes=1), BASE + timedelta(hours=1), 5000, "avg"
            )
        )
        assert body["resolution"] == "raw"
        s = body["series"][0]
        key = (plugin, s["name"], json.dumps(s["labels"], sort_keys=True))
        out[key] = [[p[0], p[1]] for p in s["points"]]
        out[key].append(s["unit"])
    return out


def expected_points(n: int, steps: int = STEPS) -> list[Any]:
    return [
        [(BASE + timedelta(seconds=STEP * i)).isoformat().replace("+00:00", "Z"), _value(n, i)]
        for i in range(steps)
    ]


@pytest.fixture
async def db_settings(database_url: str, tmp_path: Path) -> Any:
    settings = big_settings(database_url, tmp_path)
    db = Database(settings.db_url)
    await migrate(db.engine)
    try:
        yield db, settings
    finally:
        await db.dispose()


async def test_a_dump_becomes_plugins_and_series(db_settings: Any, tmp_path: Path) -> None:
    db, settings = db_settings
    path = tmp_path / "dump.om"
    path.write_text(openmetrics_text())
    err = io.StringIO()
    report = await import_openmetrics(db, settings, path, [], Progress(err, every=0))
    assert report.samples == 3 * STEPS and report.skipped == 0
    assert sorted(report.created) == [
        "blackbox/https://nas.lan/ (http)",
        "node/host1:9100 (system)",
    ]
    async with db.session() as session:
        plugins = {p.name: p for p in await session.scalars(select(PluginInstance))}
    assert not any(p.enabled for p in plugins.values())  # history only, until enabled
    assert plugins["blackbox/https://nas.lan/"].config["url"] == "https://nas.lan/"

    got = await stored(db, settings)
    cpu0 = ("node/host1:9100", "node_cpu_seconds_total", '{"cpu": "0", "mode": "idle"}')
    cpu1 = ("node/host1:9100", "node_busy_seconds", '{"cpu": "1", "mode": "idle"}')
    up = ("blackbox/https://nas.lan/", "up", json.dumps({"path": 'a "b"\\c'}))
    assert got == {
        cpu0: [*expected_points(0), "seconds"],  # the # UNIT line
        cpu1: [*expected_points(1), "s"],  # the _seconds suffix
        up: [*expected_points(2), ""],
    }
    assert "1,080 samples" not in err.getvalue()  # progress counts this run's samples
    assert f"{3 * STEPS:,} samples, 3 series" in err.getvalue() and "100%" in err.getvalue()

    again = await import_openmetrics(db, settings, path, [], Progress(None))
    assert again.already_done and again.samples == 3 * STEPS
    assert await stored(db, settings) == got


async def test_plugin_rules_pick_existing_plugins(db_settings: Any, tmp_path: Path) -> None:
    db, settings = db_settings
    path = tmp_path / "dump.om"
    path.write_text(openmetrics_text(10))
    report = await import_openmetrics(
        db, settings, path, ["node=Servers", "archive"], Progress(None)
    )
    assert sorted(report.created) == ["Servers (system)", "archive (push)"]
    got = await stored(db, settings)
    labels = sorted((k[0], k[2]) for k in got)
    # JOB=NAME keeps the instance label (one plugin, many instances); a bare NAME keeps both.
    assert labels == [
        ("Servers", '{"cpu": "0", "instance": "host1:9100", "mode": "idle"}'),
        ("Servers", '{"cpu": "1", "instance": "host1:9100", "mode": "idle"}'),
        (
            "archive",
            json.dumps({"instance": "https://nas.lan/", "job": "blackbox", "path": 'a "b"\\c'}),
        ),
    ]


async def test_a_plugin_whose_guessed_settings_do_not_fit_is_a_push_holder(
    db_settings: Any, tmp_path: Path
) -> None:
    db, settings = db_settings
    path = tmp_path / "odd.om"
    ts = BASE.timestamp()
    path.write_text(f'up{{job="web",instance="-bad-:80"}} 1 {ts}\n')
    report = await import_openmetrics(db, settings, path, [], Progress(None))
    assert report.created == ["web/-bad-:80 (push)"]  # tcp refused the host name
    assert report.samples == 1


async def test_an_interrupted_import_resumes_without_gaps_or_repeats(
    db_settings: Any, tmp_path: Path
) -> None:
    db, settings = db_settings
    path = tmp_path / "dump.om"
    path.write_text(openmetrics_text())
    chunks: list[int] = []

    def interrupt(line: int) -> None:
        chunks.append(line)
        if len(chunks) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await import_openmetrics(db, settings, path, [], Progress(None), 50, interrupt)
    async with db.session() as session:
        cp = await session.scalar(select(ImportCheckpoint))
    assert cp is not None and cp.samples == 150 and not cp.done and cp.line == chunks[-1]
    partial = await stored(db, settings)
    assert sum(len(v) - 1 for v in partial.values()) == 150

    report = await import_openmetrics(db, settings, path, [], Progress(None), 50)
    assert report.resumed_at == chunks[-1]
    assert report.samples == 3 * STEPS - 150
    got = await stored(db, settings)
    assert [v[:-1] for v in sorted(got.values(), key=lambda v: v[0][1])] == [
        expected_points(0),
        expected_points(1),
        expected_points(2),
    ]


async def test_a_bad_line_is_named_and_the_good_chunks_are_kept(
    db_settings: Any, tmp_path: Path
) -> None:
    db, settings = db_settings
    text = openmetrics_text(100).splitlines(keepends=True)
    text[250] = 'up{job="x" 1 1700000000\n'
    path = tmp_path / "bad.om"
    path.write_text("".join(text))
    with pytest.raises(ImportFailed) as failed:
        await import_openmetrics(db, settings, path, [], Progress(None), 100)
    message = str(failed.value)
    assert f"{path}: line 251: expected ',' or '}}' after label 'job'" in message
    async with db.session() as session:
        cp = await session.scalar(select(ImportCheckpoint))
    assert cp is not None and cp.samples == 200 and 0 < cp.line < 251
    assert f"lines 1-{cp.line} are imported" in message


async def test_imported_history_is_rolled_up(db_settings: Any, tmp_path: Path) -> None:
    """History far behind the roll-up marks marks its buckets dirty; maintenance builds them."""
    db, settings = db_settings
    path = tmp_path / "dump.om"
    path.write_text(openmetrics_text())
    await import_openmetrics(db, settings, path, [], Progress(None))
    async with db.session() as session:
        dirty = await session.scalar(select(func.count()).select_from(RollupDirty))
    assert dirty == 3 * 30 + 3  # 30 minutes per series in the 1 m tier, 1 hour in the 1 h
    await StorageMaintenance(db, settings).run(BASE + timedelta(days=1))
    reader = MetricsReader(db, settings)
    async with db.session() as session:
        sid = await session.scalar(select(Series.id).where(Series.name == "up"))
    assert sid is not None
    end = BASE + timedelta(hours=1)
    body = json.loads(await reader.query([sid], BASE, end, 60, "avg"))
    assert body["resolution"] == "1m"
    points = body["series"][0]["points"]
    assert len(points) == 30
    first = [_value(2, i) for i in range(4)]  # the four samples of the first minute
    assert points[0][1] == pytest.approx(sum(first) / 4)


def test_parse_line_formats() -> None:
    units: dict[str, str] = {}
    assert parse_line("# UNIT temp_c celsius\n", 1, units) is None and units == {
        "temp_c": "celsius"
    }
    assert parse_line("# EOF", 2, units) is False
    assert parse_line("\n", 3, units) is None
    # promtool 2.x `tsdb dump`: the name as a label, milliseconds
    got = parse_line('{__name__="up", instance="a:1", job="j"} 1 1700000000500', 4, units)
    assert got == Point("up", {"instance": "a:1", "job": "j"}, 1.0, 1700000000.5)
    # OpenMetrics, an exemplar after the sample, a trailing comma, no labels
    got = parse_line('rt{a="1",} 2.5e3 1700000000.250 # {trace="x"} 1 1700000000', 5, units)
    assert got == Point("rt", {"a": "1"}, 2500.0, 1700000000.25)
    nan = parse_line("x NaN 1700000000", 6, units)
    assert isinstance(nan, Point) and math.isnan(nan.value)  # skipped by the import
    for line, message in [
        ("up 1", "line 7: sample 'up' has no timestamp"),
        ("up x 1700000000", "line 7: value 'x' is not a number"),
        ('up{a="1} 1 2', "line 7: the value of label 'a' has no closing quote"),
        ('up{a="\\t"} 1 2', "line 7: unknown escape \\t in label 'a'"),
        ('{job="x"} 1 2', "line 7: a sample starting with '{' needs a __name__ label"),
        ("9up 1 2", "line 7: expected a metric name"),
        ("up 1 2 3", "line 7: unexpected '3' after the timestamp of 'up'"),
        ('up{a="1",a="2"} 1 2', "line 7: label 'a' appears twice"),
    ]:
        with pytest.raises(ParseError) as exc:
            parse_line(line, 7, units)
        assert str(exc.value).startswith(message), (line, str(exc.value))
