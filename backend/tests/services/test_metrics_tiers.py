"""Roll-up tiers: late data rolled up, `resolution` naming the tier read, `points` honoured."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from app.core.config import Settings
from app.models import RollupDirty
from app.services.metrics.tiers import EPOCH, bucket_rule, buckets
from app.services.metrics.writer import MetricsWriter
from tests.conftest import make_settings
from tests.services.test_metrics import plugin_id as plugin_id  # a fixture
from tests.services.test_metrics import series_id, write_series

HOUR = timedelta(hours=1)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """No scheduler: every maintenance pass here is the test's own. A scheduled pass (the
    first comes 5 s after start) would roll up what a test means to read raw, or rebuild the
    buckets a test counts, whenever writing took a loaded machine more than those 5 s."""
    return make_settings(database_url, tmp_path, scheduler_enabled=False)


def _hour(ts: datetime) -> datetime:
    return ts.replace(minute=0, second=0, microsecond=0)


async def _ask(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    sid: int,
    start: datetime,
    end: datetime,
    points: int,
    agg: str = "avg",
) -> dict[str, Any]:
    r = await client.get(
        "/api/v1/metrics/query",
        headers=admin,
        params={
            "series_id": sid,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "points": points,
            "agg": agg,
        },
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _dirty(app: Any) -> int:
    async with app.state.unity.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(RollupDirty)) or 0)


async def test_history_written_two_days_back_after_start_reaches_1m_and_1h(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], plugin_id: int, settings: Settings
) -> None:
    unity = app.state.unity
    await unity.maintenance.run()  # the start-up pass: both tiers marked done up to now
    start = _hour(datetime.now(UTC)) - timedelta(days=2)
    # Written by a writer the maintenance pass has never heard of, as another replica, a
    # restarted process or an import would: only the database says what is late.
    own, late = unity.writer, MetricsWriter(unity.db, settings)
    await late.start()
    unity.writer = late
    try:
        values = await write_series(app, plugin_id, start, 2 * 360, 10, value=lambda i: i % 7)
    finally:
        await late.stop(5)
        unity.writer = own
    assert await _dirty(app) == 2 * 60 + 2  # 120 minute buckets and 2 hour buckets
    report = await unity.maintenance.run()
    assert (report["rebuilt_1m"], report["rebuilt_1h"]) == (120, 2)
    assert await _dirty(app) == 0
    sid = await series_id(app)
    minute = await _ask(client, admin, sid, start, start + 2 * HOUR, 120)
    assert (minute["resolution"], minute["bucket_seconds"]) == ("1m", 60)
    expected = [statistics.mean(values[i : i + 6]) for i in range(0, len(values), 6)]
    assert [p[1] for p in minute["series"][0]["points"]] == pytest.approx(expected)
    hourly = await _ask(client, admin, sid, start, start + 2 * HOUR, 2)
    assert (hourly["resolution"], hourly["bucket_seconds"]) == ("1h", 3600)
    hours = [statistics.mean(values[:360]), statistics.mean(values[360:])]
    assert [p[1] for p in hourly["series"][0]["points"]] == pytest.approx(hours)

    # More history for the first ten minutes only: exactly those buckets are rebuilt.
    more = await write_series(app, plugin_id, start + timedelta(seconds=5), 60, 10, lambda i: 100)
    report = await unity.maintenance.run()
    assert (report["rebuilt_1m"], report["rebuilt_1h"]) == (10, 1)
    minute = await _ask(client, admin, sid, start, start + 2 * HOUR, 120)
    points = [p[1] for p in minute["series"][0]["points"]]
    first = [statistics.mean(values[i : i + 6] + more[i : i + 6]) for i in range(0, 60, 6)]
    assert points[:10] == pytest.approx(first)
    assert points[10:] == pytest.approx(expected[10:])
    hourly = await _ask(client, admin, sid, start, start + 2 * HOUR, 2, agg="max")
    assert [p[1] for p in hourly["series"][0]["points"]] == [100.0, 6.0]


async def test_resolution_names_the_tier_whose_rows_came_back(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], plugin_id: int
) -> None:
    start = _hour(datetime.now(UTC)) - 6 * HOUR
    await write_series(app, plugin_id, start, 6 * 360, 10, value=lambda i: 1.0)
    sid = await series_id(app)
    end = start + 6 * HOUR
    # Not rolled up yet: the 1 m tier would be chosen, but only raw rows exist to answer.
    body = await _ask(client, admin, sid, start, end, 36)
    assert body["resolution"] == "raw"
    await app.state.unity.maintenance.run()
    # Each roll-up table now holds its own tell-tale value, so an answer shows what it read.
    async with app.state.unity.db.engine.begin() as conn:
        await conn.execute(text("UPDATE samples_1m SET vsum = 2 * vcount"))
        await conn.execute(text("UPDATE samples_1h SET vsum = 3 * vcount"))
    app.state.unity.reader.rolled_up()
    cases = [(720, "raw", 1.0), (36, "1m", 2.0), (6, "1h", 3.0)]
    for points, tier, value in cases:
        body = await _ask(client, admin, sid, start, end, points)
        assert body["resolution"] == tier
        assert {p[1] for p in body["series"][0]["points"]} == {value}, tier


@pytest.mark.parametrize(
    ("hours", "points", "rolled", "grain", "least"),
    [
        (24, 500, False, 1, 173),  # raw: whole seconds, at least 86400 / 500
        (24, 500, True, 60, 180),  # 1 m tier: whole minutes, no minute split between buckets
        (24, 7, True, 3600, 3600 * 4),  # 1 h tier: whole hours
        (24, 1, False, 1, 86400),  # one value for the whole range
    ],
)
async def test_points_gives_up_to_the_buckets_asked(
    app: Any,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    plugin_id: int,
    hours: int,
    points: int,
    rolled: bool,
    grain: int,
    least: int,
) -> None:
    start = _hour(datetime.now(UTC)) - timedelta(hours=hours, minutes=1)
    # The hardest alignment, every hour of the day: the range starts in the last hour of an
    # epoch-aligned 4 h bucket, so that bucket holds one hour row only, begun before `start`.
    start -= timedelta(hours=(start.hour + 1) % 4)
    end = start + timedelta(hours=hours)
    values = await write_series(app, plugin_id, start, hours * 60, 60, value=lambda i: i % 11)
    if rolled:
        await app.state.unity.maintenance.run()
    sid = await series_id(app)
    body = await _ask(client, admin, sid, start, end, points)
    width = body["bucket_seconds"]
    assert width % grain == 0
    assert width >= least
    origin = start if points == 1 else EPOCH
    if width > least:  # where the range sits against the epoch took one more step
        assert buckets(start, end, width - grain, origin) > points
    pts = body["series"][0]["points"]
    # One point per bucket that holds a sample: a bucket with none is a gap, not a point. Where
    # the range's last bucket begins after the last sample (it depends on the date, against the
    # epoch) that is one fewer than the buckets overlapping the range.
    step = timedelta(minutes=1)
    held = {(start + i * step - origin) // timedelta(seconds=width) for i in range(len(values))}
    assert len(pts) == len(held) <= buckets(start, end, width, origin) <= points
    assert len(pts) >= points * 0.95  # close to what was asked, not rounded far down
    if points == 1:
        assert pts[0][1] == pytest.approx(statistics.mean(values))


def test_bucket_rule_never_gives_more_buckets_than_asked() -> None:
    rng = random.Random(26)
    for _ in range(3000):
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.uniform(0, 1e7))
        end = start + timedelta(seconds=rng.uniform(0.5, 1e7))
        points = rng.choice([1, 2, 3, 7, 100, 500, 1000, rng.randint(1, 5000)])
        grain = rng.choice([1, 60, 3600])
        width, origin = bucket_rule(start, end, points, grain)
        assert width % grain == 0
        assert width >= (end - start).total_seconds() / points
        assert buckets(start, end, width, origin) <= points
