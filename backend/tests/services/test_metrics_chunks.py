"""Packed hours (sample_chunks): exact round trips, late data, writes during packing, the view."""

from __future__ import annotations

import asyncio
import math
import random
import struct
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import bindparam, func, select, text

from app.core.config import Settings
from app.models import Rollup1m, Sample, SampleChunk
from app.models.base import UTCDateTime
from app.services.metrics.chunks import PADDED, PLANES, ZLIB, decode, encode, micros
from app.services.metrics.maintenance import RECENT
from tests.services.test_metrics import plugin_id as plugin_id  # a fixture
from tests.services.test_metrics import series_id, write_series
from tests.services.test_metrics_tiers import _ask

# Midnight two days ago: inside raw retention (queries may pick the raw tier), and aligned, so
# nothing here depends on the wall clock's hour or minute.
T0 = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
HOUR = timedelta(hours=1)
# The 1 m roll-up's mark: every hour before T0 + 3 h is packed (T0 + 3 h + RECENT).
MARK = T0 + 3 * HOUR + RECENT + timedelta(minutes=1)

SPECIAL = [0.0, -0.0, 1e-310, -5e-324, 1.7976931348623157e308, math.inf, -math.inf, 1 / 3]


def _bits(v: float) -> bytes:
    return struct.pack("<d", v)


@pytest.mark.parametrize(
    ("compress", "count", "codec"),
    [(True, 500, ZLIB), (False, 500, PLANES), (False, 60, PADDED), (True, 0, ZLIB)],
)
def test_codec_round_trip_is_bit_exact(compress: bool, count: int, codec: int) -> None:
    rng = random.Random(7)
    start = T0
    times, t = [], micros(start)
    for _ in range(count):
        t += rng.randint(1, 20_000_000 if count < 200 else 7_000_000)  # irregular, to the µs
        times.append(t)
    values = ([*SPECIAL, math.nan] + [rng.uniform(-1e6, 1e6) for _ in range(count)])[:count]
    data = encode(start, list(zip(times, values, strict=True)), compress)
    assert data[0] == codec
    got_t, got_v = decode(start, data)
    assert got_t == times
    assert [_bits(v) for v in got_v] == [_bits(v) for v in values]


def test_codec_refuses_an_unknown_codec() -> None:
    with pytest.raises(ValueError, match="unknown chunk codec"):
        decode(T0, b"\x07" + b"\0" * 16)


async def _mark(app: Any, until: datetime) -> None:
    async with app.state.unity.db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO rollup_state (name, done_until) VALUES ('1m', :u) "
                "ON CONFLICT (name) DO UPDATE SET done_until = excluded.done_until"
            ).bindparams(bindparam("u", type_=UTCDateTime())),
            {"u": until},
        )


async def _rows(app: Any, sid: int) -> list[tuple[datetime, float]]:
    async with app.state.unity.db.session() as s:
        rows = await s.execute(
            select(Sample.ts, Sample.value).where(Sample.series_id == sid).order_by(Sample.ts)
        )
        return [(ts, v) for ts, v in rows]


async def _packed(app: Any, sid: int) -> list[tuple[datetime, float]]:
    async with app.state.unity.db.session() as s:
        chunks = (
            await s.scalars(
                select(SampleChunk).where(SampleChunk.series_id == sid).order_by(SampleChunk.start)
            )
        ).all()
    out = []
    for c in chunks:
        times, values = decode(c.start, c.data)
        assert c.n == len(times)
        out += [
            (T0 + timedelta(microseconds=t - micros(T0)), v)
            for t, v in zip(times, values, strict=True)
        ]
    return out


async def _raw(
    client: httpx.AsyncClient, admin: dict[str, str], sid: int, start: datetime, end: datetime
) -> list[tuple[str, float]]:
    """Raw buckets of one second: each holds one sample at most, so this lists them."""
    points = int((end - start).total_seconds())
    body = await _ask(client, admin, sid, start, end, points, "last")
    assert body["resolution"] == "raw"
    return [(t, v) for t, v in body["series"][0]["points"]]


async def test_packing_keeps_every_time_and_value_exact_and_reads_stay_the_same(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], plugin_id: int
) -> None:
    rng = random.Random(3)
    values = [rng.uniform(-1e9, 1e9) for _ in range(4 * 360)]
    await write_series(
        app, plugin_id, T0 + timedelta(seconds=3), len(values), 10, values.__getitem__
    )
    sid = await series_id(app)
    before_rows = await _rows(app, sid)
    before = {}
    for agg in ("avg", "min", "max", "last"):
        before[agg] = await _ask(client, admin, sid, T0, T0 + 4 * HOUR, 480, agg)
    seconds = await _raw(client, admin, sid, T0 + 2 * HOUR, T0 + 2 * HOUR + timedelta(minutes=20))

    await _mark(app, MARK)
    report = await app.state.unity.maintenance.compact()
    assert report["packed_chunks"] == 3 and report["packed_samples"] == 3 * 360
    left = await _rows(app, sid)
    assert left == before_rows[3 * 360 :]  # the hour not closed for packing stays as rows
    assert await _packed(app, sid) + left == before_rows  # exact, to the bit and microsecond
    assert await app.state.unity.maintenance.compact() == {
        **report,
        "packed_chunks": 0,
        "packed_samples": 0,
    }  # idempotent: nothing moves twice

    for agg in ("avg", "min", "max", "last"):
        after = await _ask(client, admin, sid, T0, T0 + 4 * HOUR, 480, agg)
        assert after["resolution"] == "raw"
        got, want = after["series"][0]["points"], before[agg]["series"][0]["points"]
        assert [t for t, _ in got] == [t for t, _ in want]
        assert [v for _, v in got] == pytest.approx([v for _, v in want], rel=1e-12)
    assert (
        await _raw(client, admin, sid, T0 + 2 * HOUR, T0 + 2 * HOUR + timedelta(minutes=20))
        == seconds
    )


async def test_late_samples_for_a_packed_hour_are_read_rolled_up_and_merged(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], plugin_id: int
) -> None:
    await write_series(app, plugin_id, T0, 2 * 360, 10, value=lambda i: 1.0)
    sid = await series_id(app)
    await _mark(app, T0)
    await app.state.unity.maintenance.run(now=MARK)  # rolls up to MARK, packs both hours
    assert await _rows(app, sid) == []
    first_minute = await _ask(client, admin, sid, T0, T0 + 2 * HOUR, 120)
    assert first_minute["resolution"] == "1m"

    # Late: a new instant and a rewrite of a packed one, both in the first packed minute.
    await write_series(app, plugin_id, T0 + timedelta(seconds=5), 1, 10, value=lambda i: 8.0)
    await write_series(app, plugin_id, T0 + timedelta(seconds=20), 1, 10, value=lambda i: 4.0)
    seconds = await _raw(client, admin, sid, T0, T0 + timedelta(seconds=60))
    assert [v for _, v in seconds] == [1.0, 8.0, 1.0, 4.0, 1.0, 1.0, 1.0]  # no double count

    report = await app.state.unity.maintenance.run(now=MARK)
    assert report["rebuilt_1m"] == 1
    assert report["packed_samples"] == 2 and report["packed_chunks"] == 1
    assert await _rows(app, sid) == []
    packed = await _packed(app, sid)
    assert len(packed) == 2 * 360 + 1
    assert packed[:4] == [
        (T0, 1.0),
        (T0 + timedelta(seconds=5), 8.0),
        (T0 + timedelta(seconds=10), 1.0),
        (T0 + timedelta(seconds=20), 4.0),
    ]
    async with app.state.unity.db.session() as s:
        row = (
            await s.execute(
                select(Rollup1m.vsum, Rollup1m.vcount, Rollup1m.vmax, Rollup1m.vlast).where(
                    Rollup1m.series_id == sid, Rollup1m.ts == T0
                )
            )
        ).one()
    assert tuple(row) == (17.0, 7, 8.0, 1.0)
    app.state.unity.reader.rolled_up()
    minute = await _ask(client, admin, sid, T0, T0 + 2 * HOUR, 120)
    assert minute["resolution"] == "1m"
    assert minute["series"][0]["points"][0][1] == pytest.approx(17 / 7)
    assert [p[1] for p in minute["series"][0]["points"][1:]] == [1.0] * 119


async def test_writes_while_packing_are_neither_lost_nor_counted_twice(
    app: Any, plugin_id: int, settings: Settings
) -> None:
    await write_series(app, plugin_id, T0, 3 * 360, 10, value=float)
    sid = await series_id(app)
    await _mark(app, MARK)
    maintenance = app.state.unity.maintenance

    async def late_writes() -> list[float]:
        out = []
        for i in range(40):  # between the packed samples, into every packed hour
            at = T0 + timedelta(seconds=3 + i * 270)
            out += await write_series(app, plugin_id, at, 1, 10, value=lambda _, i=i: -i)
            await asyncio.sleep(0)
        return out

    async def packing() -> None:
        for _ in range(5):
            await maintenance.compact()
            await asyncio.sleep(0)

    late, _ = await asyncio.gather(late_writes(), packing())
    await maintenance.compact()  # whatever came in after the last pass
    got = await _packed(app, sid) + await _rows(app, sid)
    expected = sorted(
        [(T0 + timedelta(seconds=10 * i), float(i)) for i in range(3 * 360)]
        + [(T0 + timedelta(seconds=3 + i * 270), late[i]) for i in range(40)]
    )
    assert sorted(got) == expected
    assert await _rows(app, sid) == []


async def test_the_samples_all_view_decodes_chunks_in_sql(
    app: Any, plugin_id: int, settings: Settings
) -> None:
    if app.state.unity.db.is_sqlite:
        pytest.skip("the view is PostgreSQL's (SQLite has no PL/pgSQL)")
    rng = random.Random(5)
    values = [*SPECIAL, math.nan] + [rng.uniform(-1e12, 1e12) for _ in range(300)]
    await write_series(
        app, plugin_id, T0 + timedelta(microseconds=17), len(values), 7, values.__getitem__
    )
    # and a short hour: its chunk is padded (codec 2), decoded all the same
    short = [rng.uniform(-1e3, 1e3) for _ in range(20)]
    await write_series(app, plugin_id, T0 + HOUR, len(short), 60, short.__getitem__)
    sid = await series_id(app)
    await _mark(app, MARK)
    await app.state.unity.maintenance.compact()
    # one more late row: in the view once, with its own value
    late = T0 + timedelta(seconds=7 * 3, microseconds=17)
    await write_series(app, plugin_id, late, 1, 1, value=lambda i: 42.0)

    async with app.state.unity.db.engine.connect() as conn:
        n_chunks = await conn.scalar(select(func.count()).select_from(SampleChunk))
        rows = (
            await conn.execute(
                text("SELECT ts, value FROM samples_all WHERE series_id = :s ORDER BY ts"),
                {"s": sid},
            )
        ).all()
    assert n_chunks == 2
    expected = [T0 + timedelta(seconds=7 * i, microseconds=17) for i in range(len(values))]
    expected += [T0 + HOUR + timedelta(seconds=60 * i) for i in range(len(short))]
    assert [r.ts for r in rows] == expected
    want = list(values) + short
    want[3] = 42.0
    assert [_bits(r.value) for r in rows] == [_bits(v) for v in want]


async def test_a_late_write_into_a_packed_hour_read_before_shows_in_the_next_answer(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], plugin_id: int
) -> None:
    """Closed hours read once are kept decoded (PostgreSQL); a late write and the re-packing
    that takes it in must both show in the very next answer."""
    await write_series(app, plugin_id, T0, 2 * 360, 10, value=lambda i: 1.0)
    sid = await series_id(app)
    await _mark(app, MARK)
    await app.state.unity.maintenance.compact()
    assert await _rows(app, sid) == []

    async def ten_seconds() -> list[float]:
        body = await _ask(client, admin, sid, T0, T0 + 2 * HOUR, 720, "avg")
        assert body["resolution"] == "raw"
        return [v for _, v in body["series"][0]["points"]]

    assert await ten_seconds() == [1.0] * 720
    assert await ten_seconds() == [1.0] * 720  # from the decoded chunks on PostgreSQL
    cache = app.state.unity.reader.chunks
    if not app.state.unity.db.is_sqlite:
        assert cache.hits >= 2

    await write_series(app, plugin_id, T0 + timedelta(seconds=20), 1, 10, value=lambda i: 4.0)
    await write_series(app, plugin_id, T0 + HOUR + timedelta(seconds=5), 1, 10, value=lambda i: 9.0)
    want = [1.0] * 720
    want[2] = 4.0  # a rewrite of a packed instant: the row wins
    want[360] = 5.0  # a new instant in the bucket of T0 + 1 h: (1 + 9) / 2
    assert await ten_seconds() == want

    report = await app.state.unity.maintenance.compact()
    assert report["packed_samples"] == 2 and report["packed_chunks"] == 2
    assert await _rows(app, sid) == []
    assert await ten_seconds() == want  # the re-packed chunks, not the ones decoded before
