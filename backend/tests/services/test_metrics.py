"""The metrics path: batched writes, outage buffering, bucketed queries, roll-ups and retention."""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from app.core.timers import FLUSH_PHASE
from app.db.session import make_engine
from app.models import Rollup1h, Rollup1m, Series
from app.models import Sample as SampleRow
from app.plugins.base import Sample
from app.services.metrics import reader
from app.services.metrics.writer import MetricsWriter
from tests.conftest import add_plugin, make_settings

T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)


@pytest.fixture
async def plugin_id(app: Any) -> int:
    return await add_plugin(
        app.state.unity.db, "synthetic", interval_seconds=10, timeout_seconds=5, enabled=False
    )


async def write_series(
    app: Any,
    plugin_id: int,
    start: datetime,
    count: int,
    step: int,
    value=lambda i: float(i),
    name: str = "temp",
) -> list[float]:
    writer = app.state.unity.writer
    values = []
    for i in range(count):
        v = value(i)
        values.append(v)
        writer.submit(
            plugin_id, start + timedelta(seconds=i * step), [Sample(name, v, "C", {"room": "lab"})]
        )
    await writer.flushed(30)
    return values


async def series_id(app: Any, name: str = "temp") -> int:
    async with app.state.unity.db.session() as s:
        return int(await s.scalar(select(Series.id).where(Series.name == name)))


async def test_a_write_that_meets_both_conflicts_is_stored(app: Any, plugin_id: int) -> None:
    """Rows written before and a day with no partition yet, in one write: both are handled
    (on SQLite neither can happen, and the write simply succeeds)."""
    writer = app.state.unity.writer
    now = datetime.now(UTC).replace(microsecond=0)
    writer.submit(plugin_id, now, [Sample("temp", 1.0, "C")])
    await writer.flushed(30)
    failures = writer.stats.failures
    old = now - timedelta(days=5)  # no partition is made that far back ahead of time
    writer.submit(plugin_id, now, [Sample("temp", 2.0, "C")])  # the same row again
    writer.submit(plugin_id, old, [Sample("temp", 3.0, "C")])
    await writer.flushed(30)
    assert writer.stats.failures == failures
    async with app.state.unity.db.session() as s:
        rows = (await s.execute(select(SampleRow.ts, SampleRow.value))).all()
    assert sorted((ts.astimezone(UTC), v) for ts, v in rows) == [(old, 3.0), (now, 2.0)]


async def test_writer_creates_each_series_once_and_keeps_latest(app: Any, plugin_id: int) -> None:
    await write_series(app, plugin_id, T0, 50, 10)
    async with app.state.unity.db.session() as s:
        series = list(await s.scalars(select(Series)))
        assert len(series) == 1
        assert series[0].labels == {"room": "lab"}
        assert series[0].last_value == 49.0
        assert series[0].last_ts == T0 + timedelta(seconds=490)
        assert await s.scalar(select(func.count()).select_from(SampleRow)) == 50
    assert app.state.unity.writer.stats.written == 50


async def test_a_repeated_series_keeps_its_last_value_and_late_runs_keep_latest(
    app: Any, plugin_id: int
) -> None:
    writer = app.state.unity.writer
    writer.batch_size = 2  # the first run goes in three pieces, as a huge run would
    events: list[tuple[int, datetime, list[Any]]] = []

    async def capture(pid: int, ts: datetime, rows: list[Any]) -> None:
        events.append((pid, ts, rows))

    writer.publish = capture
    t1, t2, late = T0 + timedelta(seconds=60), T0 + timedelta(seconds=120), T0
    produced = [("a", 1), ("b", 1), ("a", 2), ("c", 1), ("b", 3)]
    writer.submit(plugin_id, t1, [Sample(n, v, "C") for n, v in produced])
    writer.submit(plugin_id, t2, [Sample("a", 10, "C")])
    writer.submit(plugin_id, late, [Sample("a", -1, "C"), Sample("b", -1, "C")])
    await writer.flushed(30)
    async with app.state.unity.db.session() as s:
        names = {sid: name for sid, name in await s.execute(select(Series.id, Series.name))}
        stored = {
            (names[sid], ts.astimezone(UTC)): v
            for sid, ts, v in await s.execute(
                select(SampleRow.series_id, SampleRow.ts, SampleRow.value)
            )
        }
        latest = {
            name: (ts.astimezone(UTC), v)
            for name, ts, v in await s.execute(
                select(Series.name, Series.last_ts, Series.last_value)
            )
        }
    assert stored == {
        ("a", t1): 2.0,
        ("b", t1): 3.0,
        ("c", t1): 1.0,
        ("a", t2): 10.0,
        ("a", late): -1.0,
        ("b", late): -1.0,
    }
    assert latest == {"a": (t2, 10.0), "b": (t1, 3.0), "c": (t1, 1.0)}
    # Live events carry every sample as produced, with its series id and unit.
    seen = [(ts, names[sid], unit, x.value) for _, ts, rows in events for (sid, unit), x in rows]
    expected = [(t1, n, "C", v) for n, v in produced]
    expected += [(t2, "a", "C", 10), (late, "a", "C", -1), (late, "b", "C", -1)]
    assert sorted(seen) == sorted(expected)
    # The same run time again in a later write (a retried commit): the newer value wins.
    writer.submit(plugin_id, t2, [Sample("a", 11, "C")])
    await writer.flushed(30)
    async with app.state.unity.db.session() as s:
        rows = await s.execute(select(SampleRow.value).where(SampleRow.ts == t2))
        assert [v for (v,) in rows] == [11.0]


async def test_query_buckets_in_sql_with_every_aggregation(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], plugin_id: int
) -> None:
    # one hour at 10 s: 360 samples, 0..359
    values = await write_series(app, plugin_id, T0, 360, 10, value=lambda i: float(i % 17))
    sid = await series_id(app)
    params: dict[str, Any] = {
        "series_id": sid,
        "start": T0.isoformat(),
        "end": (T0 + timedelta(hours=1)).isoformat(),
        "points": 120,
    }
    groups = [values[i : i + 3] for i in range(0, 360, 3)]  # 30 s buckets
    for agg, expected in [
        ("avg", [statistics.mean(g) for g in groups]),
        ("min", [min(g) for g in groups]),
        ("max", [max(g) for g in groups]),
        ("last", [g[-1] for g in groups]),
    ]:
        r = await client.get("/api/v1/metrics/query", params={**params, "agg": agg}, headers=admin)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["resolution"] == "raw"
        assert body["bucket_seconds"] == 30
        pts = body["series"][0]["points"]
        assert len(pts) == 120
        assert pts[0][0] == T0.isoformat().replace("+00:00", "Z")
        assert [p[1] for p in pts] == pytest.approx(expected), agg


async def test_rollups_serve_long_ranges_and_match_raw(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], plugin_id: int
) -> None:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=6)
    values = await write_series(app, plugin_id, start, 6 * 360, 10, value=lambda i: float(i % 50))
    sid = await series_id(app)
    report = await app.state.unity.maintenance.run()
    assert report["rolled_1m"] > 0
    async with app.state.unity.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Rollup1m)) == 6 * 60
        assert await s.scalar(select(func.count()).select_from(Rollup1h)) >= 6
    end = start + timedelta(hours=6)
    r = await client.get(
        "/api/v1/metrics/query",
        headers=admin,
        params={"series_id": sid, "start": start.isoformat(), "end": end.isoformat(), "points": 36},
    )
    body = r.json()
    assert body["resolution"] == "1m"
    assert body["bucket_seconds"] == 600
    pts = body["series"][0]["points"]
    assert len(pts) == 36
    expected = [statistics.mean(values[i : i + 60]) for i in range(0, len(values), 60)]
    assert [p[1] for p in pts] == pytest.approx(expected)
    # coarse enough for the hourly tier
    r = await client.get(
        "/api/v1/metrics/query",
        headers=admin,
        params={
            "series_id": sid,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "points": 6,
            "agg": "max",
        },
    )
    body = r.json()
    assert body["resolution"] == "1h"
    assert [p[1] for p in body["series"][0]["points"]] == [49.0] * 6


async def _query(
    client: httpx.AsyncClient, admin: dict[str, str], sid: int, start: datetime, **extra: str
) -> httpx.Response:
    """Three hours from `start` in 18 buckets."""
    return await client.get(
        "/api/v1/metrics/query",
        headers=admin,
        params={
            "series_id": sid,
            "start": start.isoformat(),
            "end": (start + timedelta(hours=3)).isoformat(),
            "points": 18,
            **extra,
        },
    )


async def test_recent_data_not_yet_rolled_up_still_shows(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], plugin_id: int
) -> None:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    await write_series(app, plugin_id, start, 3 * 360, 10)
    await app.state.unity.maintenance.run(now=start + timedelta(hours=2))  # last hour not rolled
    sid = await series_id(app)
    r = await _query(client, admin, sid, start, agg="last")
    body = r.json()
    assert body["resolution"] == "1m"
    pts = body["series"][0]["points"]
    assert len(pts) == 18
    assert pts[-1][1] == 3 * 360 - 1


@pytest.mark.parametrize(
    ("params", "status", "phrase"),
    [
        (
            {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
            422,
            "end must be after",
        ),
        ({"start": "2026-01-01T00:00:00", "end": "2026-01-02T00:00:00"}, 422, "timezone"),
        ({"points": 0}, 422, ""),
        ({"points": 100000}, 422, "points must be at most"),
        ({"series_id": 999999}, 404, "No series with id 999999"),
        ({"agg": "median"}, 422, ""),
        ({"start": "yesterday"}, 422, ""),
    ],
)
async def test_bad_queries_say_what_is_wrong(
    app: Any,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    plugin_id: int,
    params: dict[str, Any],
    status: int,
    phrase: str,
) -> None:
    await write_series(app, plugin_id, T0, 3, 10)
    sid = await series_id(app)
    r = await client.get(
        "/api/v1/metrics/query", headers=admin, params={"series_id": sid, **params}
    )
    assert r.status_code == status, r.text
    assert phrase in str(r.json()["detail"])


async def test_series_filters_by_plugin_name_and_labels(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], plugin_id: int
) -> None:
    writer = app.state.unity.writer
    writer.submit(
        plugin_id,
        T0,
        [
            Sample("disk_used", 1, "bytes", {"mount": "/"}),
            Sample("disk_used", 2, "bytes", {"mount": "/data"}),
            Sample("load1", 0.5, ""),
        ],
    )
    await writer.flushed()
    get = lambda **p: client.get("/api/v1/metrics/series", params=p, headers=admin)  # noqa: E731
    assert (await get(plugin_id=plugin_id)).json()["total"] == 3
    assert (await get(name="disk_used")).json()["total"] == 2
    r = await get(label="mount=/data")
    assert [i["labels"] for i in r.json()["items"]] == [{"mount": "/data"}]
    assert (await get(label="nonsense")).status_code == 422


async def test_outage_buffers_then_writes_everything(app: Any, plugin_id: int) -> None:
    state = app.state.unity
    real = state.db.engine
    dead_url = (
        real.url.set(port=1)
        if not state.db.is_sqlite
        else real.url.set(database="/proc/unity/none.db")
    )
    state.db.engine = make_engine(dead_url)
    for i in range(20):
        state.writer.submit(plugin_id, T0 + timedelta(seconds=i), [Sample("v", i)])
    import asyncio

    for _ in range(100):
        if state.writer.stats.last_error:
            break
        await asyncio.sleep(0.05)
    assert state.writer.stats.last_error is not None
    assert state.writer.stats.buffered == 20
    await state.db.engine.dispose()
    state.db.engine = real
    await state.writer.flushed(30)
    assert state.writer.stats.last_error is None
    async with state.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(SampleRow)) == 20


async def test_a_full_buffer_drops_the_oldest_and_counts_them(settings: Any) -> None:
    writer = MetricsWriter(db=None, settings=settings.model_copy(update={"writer_buffer_max": 10}))  # type: ignore[arg-type]
    for i in range(8):
        writer.submit(1, T0 + timedelta(seconds=i), [Sample("a", i), Sample("b", i)])
    assert writer.stats.buffered == 10
    assert writer.stats.dropped == 6


async def test_retention_drops_old_partitions_or_rows(app: Any, plugin_id: int) -> None:
    state = app.state.unity
    now = datetime.now(UTC)
    old = now - timedelta(days=state.settings.raw_retention_days + 2)
    await write_series(app, plugin_id, old, 10, 60)
    await write_series(app, plugin_id, now - timedelta(hours=1), 10, 60)
    report = await state.maintenance.retention(now)
    async with state.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(SampleRow)) == 10
        if not state.db.is_sqlite:
            assert report["raw_partitions_dropped"] >= 1
            names = await s.execute(
                text("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid")
            )
            assert f"samples_p{old:%Y%m%d}" not in {n for (n,) in names}
        else:
            assert report["raw_deleted"] == 10


@pytest.mark.parametrize("flush_seconds", [0.05, 0.5, 60.0])
def test_the_flush_waits_at_most_flush_seconds_and_lands_on_a_shared_instant(
    tmp_path: Any, flush_seconds: float
) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path)
    writer = MetricsWriter(None, settings)  # type: ignore[arg-type] # no database needed
    writer.flush_seconds = flush_seconds
    writer._first_at = time.monotonic()
    wait = writer._flush_wait()
    assert 0 < wait <= flush_seconds
    if flush_seconds >= 1:  # long enough to contain a shared instant: it ends on one
        assert wait > flush_seconds - 1
        assert (time.time() + wait) % 1 == pytest.approx(FLUSH_PHASE, abs=0.01)


async def test_a_roll_up_pass_is_read_by_the_very_next_query(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], plugin_id: int
) -> None:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=4)
    await write_series(app, plugin_id, start, 3 * 360, 10)
    sid = await series_id(app)
    before = (await _query(client, admin, sid, start)).json()["series"][0]["points"]
    assert len(before) == 18  # read from raw samples: nothing is rolled up yet
    await app.state.unity.maintenance.run()
    async with app.state.unity.db.session() as s:
        await s.execute(text("DELETE FROM samples"))
        await s.commit()
    # Only the 1 m tier holds the range now: the reader must know the pass moved it forward.
    after = (await _query(client, admin, sid, start)).json()["series"][0]["points"]
    assert [p[1] for p in after] == pytest.approx([p[1] for p in before])


async def test_a_deleted_plugin_takes_its_series_out_of_queries_at_once(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], plugin_id: int
) -> None:
    start = T0
    await write_series(app, plugin_id, start, 30, 10)
    sid = await series_id(app)
    assert (await _query(client, admin, sid, start)).status_code == 200
    r = await client.delete(f"/api/v1/plugins/{plugin_id}", headers=admin)
    assert r.status_code == 204, r.text
    r = await _query(client, admin, sid, start)
    assert r.status_code == 404
    assert f"No series with id {sid}" in r.json()["detail"]


async def test_a_series_deleted_by_another_replica_is_forgotten_within_the_ttl(
    app: Any,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    plugin_id: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reader, "SERIES_TTL_SECONDS", 0.3)
    await write_series(app, plugin_id, T0, 30, 10)
    sid = await series_id(app)
    assert (await _query(client, admin, sid, T0)).status_code == 200
    other = make_engine(app.state.unity.db.url)  # no session of this app sees the delete
    try:
        async with other.begin() as conn:
            await conn.execute(text("DELETE FROM series"))
    finally:
        await other.dispose()
    await asyncio.sleep(0.4)
    assert (await _query(client, admin, sid, T0)).status_code == 404
