"""Storage: bytes on disk per sample and the 24 h / 500-bucket query, Unity next to Prometheus.

Issue 26's set: 200 series x 10,000 samples (the last 2 days, one every 17.28 s), random-walk
values (each step a Gaussian with sigma 1, full float64 precision), written in arrival order (every
series' sample of one instant, then the next instant, as the writer stores them) by COPY into the
partitioned `samples` table of a fresh migrated database. The same samples go to Prometheus as
OpenMetrics, built into blocks by `promtool tsdb create-blocks-from openmetrics` and served by
Debian's `prometheus` on a loopback port (`_prometheus.py`), in the same run.

Measured:
- bytes per sample on disk: Unity's `samples` partitions with their primary-key index after
  VACUUM (what a 24 h raw query reads), and the roll-up tables after a maintenance pass;
  Prometheus' TSDB directory after its start-up compaction;
- 24 h of one series in 500 buckets, average per bucket: GET /api/v1/metrics/query over a
  keep-alive connection against Prometheus' `query_range` of `avg_over_time` at the API's bucket
  step, CALLS calls each, interleaved in one loop, raw only and after the roll-ups;
- a prototype of the chunk layout issue 26 asks for (not in the product; tables of this
  benchmark's database only): one row per series per closed hour, in two forms, timed on a plain
  asyncpg connection in the same loop (no HTTP) next to the API's own statement there:
  (a) `bytea`: int32 millisecond deltas and byte-shuffled float64 values, each zlib-compressed,
      read by (series, hour) key and decoded and bucketed in Python;
  (b) PostgreSQL arrays (int4 offsets, float8 values) TOASTed with lz4, bucketed in SQL;
- SQLite (the embedded default): bytes per raw sample, per 1 m and per 1 h roll-up row, from
  `dbstat` after loading SQLITE_SERIES series for 1 day and a maintenance pass.

Both prototypes answer the same buckets as the API (checked). Environment: BENCH_STORAGE_SERIES
(200), BENCH_STORAGE_POINTS (10000 per series), BENCH_STORAGE_CALLS (100).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import zlib
from array import array
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common
import _prometheus
import asyncpg
import uvloop
from bench_query import HttpClient, add_series, admin_token
from sqlalchemy.engine import make_url

from app.db.migrate import migrate
from app.db.session import Database
from app.main import create_app
from app.services.metrics.maintenance import StorageMaintenance
from app.services.metrics.tiers import EPOCH

SERIES = int(os.environ.get("BENCH_STORAGE_SERIES", "200"))
POINTS = int(os.environ.get("BENCH_STORAGE_POINTS", "10000"))
CALLS = int(os.environ.get("BENCH_STORAGE_CALLS", "100"))
SPAN = timedelta(days=2)
INSTANTS_PER_COPY = 250
CHUNK = timedelta(hours=1)
SQLITE_SERIES = 100
ROW_TABLES = ("samples", "samples_1m", "samples_1h")


def walks(now: datetime) -> tuple[list[datetime], dict[int, list[float]]]:
    step = SPAN / POINTS
    times = [now - SPAN + i * step for i in range(POINTS)]
    values = {}
    for sid in range(1, SERIES + 1):
        rng, v, out = random.Random(sid), 100.0, []  # noqa: S311 - test data, not secrets
        for _ in range(POINTS):
            v += rng.gauss(0.0, 1.0)
            out.append(v)
        values[sid] = out
    return times, values


async def load(
    apg: asyncpg.Connection, times: list[datetime], values: dict[int, list[float]]
) -> float:
    """COPY in arrival order; returns samples per second."""
    await apg.execute("SET synchronous_commit = off")
    t0 = time.perf_counter()
    for lo in range(0, len(times), INSTANTS_PER_COPY):
        records = [
            (sid, times[i], values[sid][i])
            for i in range(lo, min(lo + INSTANTS_PER_COPY, len(times)))
            for sid in values
        ]
        async with apg.transaction():
            await apg.copy_records_to_table(
                "samples", records=records, columns=["series_id", "ts", "value"]
            )
    return len(times) * len(values) / (time.perf_counter() - t0)


async def pg_bytes(apg: asyncpg.Connection, table: str) -> int:
    """Heap, TOAST and indexes of a table, or of all its partitions."""
    return int(
        await apg.fetchval(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "WHERE c.relname = $1 OR c.oid IN (SELECT i.inhrelid FROM pg_inherits i "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = $1)",
            table,
        )
    )


# ----------------------------------------------------------------- the chunk prototype
def shuffle(raw: bytes, width: int = 8) -> bytes:
    """Byte planes: every value's first byte, then every second byte, ... (compresses better)."""
    return b"".join(raw[i::width] for i in range(width))


def unshuffle(planes: bytes, width: int = 8) -> bytes:
    n = len(planes) // width
    out = bytearray(len(planes))
    for i in range(width):
        out[i::width] = planes[i * n : (i + 1) * n]
    return bytes(out)


def encode(start: datetime, ts: list[datetime], vals: list[float]) -> tuple[bytes, bytes]:
    ms = [round((t - start).total_seconds() * 1000) for t in ts]
    deltas = array("i", [ms[0]] + [b - a for a, b in itertools.pairwise(ms)])
    return zlib.compress(deltas.tobytes()), zlib.compress(shuffle(array("d", vals).tobytes()))


def decode(start: datetime, ts: bytes, vals: bytes) -> tuple[list[float], array[float]]:
    """Epoch seconds and values of one chunk."""
    deltas = array("i")
    deltas.frombytes(zlib.decompress(ts))
    base, out, acc = start.timestamp(), [], 0
    for d in deltas:
        acc += d
        out.append(base + acc / 1000)
    values = array("d")
    values.frombytes(unshuffle(zlib.decompress(vals)))
    return out, values


async def build_chunks(
    apg: asyncpg.Connection, times: list[datetime], values: dict[int, list[float]]
) -> float:
    """Both prototype tables from the loaded samples; returns seconds spent encoding (a)."""
    await apg.execute(
        "CREATE TABLE chunk_a (series_id bigint, start timestamptz, n int, ts bytea, "
        "val bytea, PRIMARY KEY (series_id, start))"
    )
    await apg.execute(
        "CREATE TABLE chunk_b (series_id bigint, start timestamptz, ts int4[], val float8[], "
        "PRIMARY KEY (series_id, start)) WITH (toast_tuple_target = 128)"
    )
    await apg.execute("ALTER TABLE chunk_b ALTER COLUMN ts SET COMPRESSION lz4")
    await apg.execute("ALTER TABLE chunk_b ALTER COLUMN val SET COMPRESSION lz4")
    hours: dict[datetime, list[int]] = {}
    for i, t in enumerate(times):
        hours.setdefault(datetime.fromtimestamp(t.timestamp() // 3600 * 3600, UTC), []).append(i)
    rows_a, rows_b, encoding = [], [], 0.0
    for sid, vals in values.items():
        for start, index in hours.items():
            ts, vs = [times[i] for i in index], [vals[i] for i in index]
            t0 = time.perf_counter()
            rows_a.append((sid, start, len(index), *encode(start, ts, vs)))
            encoding += time.perf_counter() - t0
            offsets = [round((t - start).total_seconds() * 1000) for t in ts]
            rows_b.append((sid, start, offsets, vs))
    await apg.copy_records_to_table("chunk_a", records=rows_a)
    await apg.copy_records_to_table("chunk_b", records=rows_b)
    await apg.execute("VACUUM ANALYZE chunk_a")
    await apg.execute("VACUUM ANALYZE chunk_b")
    return encoding


async def query_a(
    apg: asyncpg.Connection, sid: int, start: datetime, end: datetime, width: int
) -> list[tuple[float, float]]:
    rows = await apg.fetch(
        "SELECT start, ts, val FROM chunk_a WHERE series_id = $1 AND start > $2 AND start < $3 "
        "ORDER BY start",
        sid,
        start - CHUNK,
        end,
    )
    lo, hi = start.timestamp(), end.timestamp()
    sums: dict[float, list[float]] = {}
    for row in rows:
        ts, vals = decode(row["start"], row["ts"], row["val"])
        for t, v in zip(ts, vals, strict=True):
            if lo <= t < hi:
                acc = sums.setdefault(t // width * width, [0.0, 0])
                acc[0] += v
                acc[1] += 1
    return [(b, s / n) for b, (s, n) in sorted(sums.items())]


CHUNK_B_SQL = (
    "SELECT extract(epoch FROM date_bin(make_interval(secs => $4::float8), t, "
    "$5::timestamptz)) AS b, avg(v) "
    "FROM (SELECT c.start + u.off * interval '1 millisecond' AS t, u.v FROM chunk_b c "
    "CROSS JOIN LATERAL unnest(c.ts, c.val) AS u(off, v) "
    "WHERE c.series_id = $1 AND c.start > $2::timestamptz - interval '1 hour' "
    "AND c.start < $3::timestamptz) s "
    "WHERE t >= $2 AND t < $3 GROUP BY 1 ORDER BY 1"
)


async def query_b(
    apg: asyncpg.Connection, sid: int, start: datetime, end: datetime, width: int
) -> list[tuple[float, float]]:
    rows = await apg.fetch(CHUNK_B_SQL, sid, start, end, float(width), EPOCH)
    return [(float(b), v) for b, v in rows]


# ----------------------------------------------------------------- timing
async def timed_loop(
    calls: dict[str, Callable[[int], Awaitable[Any]]], sids: list[int]
) -> dict[str, list[float]]:
    """Every kind per series id, order alternating; the first five rounds warm up."""
    took: dict[str, list[float]] = {kind: [] for kind in calls}
    for i, sid in enumerate(sids[:5] + sids):
        items = list(calls.items())
        for kind, call in items if i % 2 == 0 else reversed(items):
            t0 = time.perf_counter()
            await call(sid)
            if i >= 5:
                took[kind].append((time.perf_counter() - t0) * 1000)
    return took


def figures(took: dict[str, list[float]]) -> str:
    return "; ".join(
        f"{kind} p50 {_common.pct(v, 50):.2f} ms p99 {_common.pct(v, 99):.2f} ms"
        for kind, v in took.items()
    )


async def phase(
    name: str, host: str, token: str, dsn: str, now: datetime, prom: Any
) -> dict[str, list[float]]:
    start, end = now - timedelta(hours=24), now
    client = HttpClient(host)
    await client.connect()
    apg = await asyncpg.connect(dsn)

    def path(sid: int) -> str:
        q = {"series_id": sid, "start": start.isoformat(), "end": end.isoformat(), "points": 500}
        return "/api/v1/metrics/query?" + urlencode(q)

    status, body = await client.get(path(1), token)
    assert status == 200, body
    answer = json.loads(body)
    width = answer["bucket_seconds"]
    api_points = [
        (datetime.fromisoformat(t).timestamp(), v) for t, v in answer["series"][0]["points"]
    ]

    async def api(sid: int) -> None:
        status, body = await client.get(path(sid), token)
        assert status == 200, body

    async def prometheus(sid: int) -> None:
        expr = f'avg_over_time(metric_{sid}{{n="{sid}"}}[{width}s])'
        await prom.query_range(expr, start, end, width)

    calls: dict[str, Callable[[int], Awaitable[Any]]] = {"unity api": api}
    if prom is not None:
        calls["prometheus"] = prometheus
    if name == "raw only":  # the prototypes hold raw samples: compare them where raw is read
        for kind, fn in (("chunks (a) bytea+zlib", query_a), ("chunks (b) arrays+lz4", query_b)):
            got = await fn(apg, 1, start, end, width)
            same = len(got) == len(api_points) and all(
                a[0] == b[0] and abs(a[1] - b[1]) < 1e-9
                for a, b in zip(got, api_points, strict=True)
            )
            print(f"   {kind}: {len(got)} buckets, same as the API: {same}", flush=True)

            async def proto(sid: int, fn: Any = fn) -> None:
                await fn(apg, sid, start, end, width)

            calls[kind] = proto
    sids = [1 + (i * 37) % SERIES for i in range(CALLS)]
    took = await timed_loop(calls, sids)
    await apg.close()
    client.close()
    print(
        f"   {name}: resolution {answer['resolution']}, {width} s buckets, "
        f"{len(api_points)} points; {figures(took)}; load {_common.loadavg()}",
        flush=True,
    )
    return took


async def sqlite_bytes(times: list[datetime], values: dict[int, list[float]]) -> dict[str, float]:
    """Bytes per row of each sample table on SQLite: SQLITE_SERIES series, the last day."""
    workdir = Path(tempfile.mkdtemp(prefix="unity-bench-sqlite-"))
    try:
        path = workdir / "homelab.db"
        db = Database(make_url(f"sqlite+aiosqlite:///{path}"))
        await migrate(db.engine)
        day = [i for i, t in enumerate(times) if t >= times[-1] - timedelta(days=1)]
        sids = list(values)[:SQLITE_SERIES]
        con = sqlite3.connect(path)
        con.execute(
            "INSERT INTO plugins (id, name, type, config, interval_seconds, timeout_seconds, "
            "enabled, created_at, updated_at) VALUES (1, 'bench', 'system', '{}', 60, 5, 0, "
            "'2026-01-01', '2026-01-01')"
        )
        con.executemany(
            "INSERT INTO series (id, plugin_id, name, unit, labels, labels_key) "
            "VALUES (?, 1, ?, '', '{}', '')",
            [(sid, f"metric_{sid}") for sid in sids],
        )
        con.executemany(
            "INSERT INTO samples (series_id, ts, value) VALUES (?, ?, ?)",
            (
                (sid, f"{times[i]:%Y-%m-%d %H:%M:%S.%f}", values[sid][i])
                for i in day
                for sid in sids
            ),
        )
        con.commit()
        settings = _common.make_settings(f"sqlite+aiosqlite:///{path}", workdir)
        await StorageMaintenance(db, settings).run(now=times[-1] + timedelta(hours=1))
        await db.dispose()
        con.execute("VACUUM")
        out = {}
        for table in ROW_TABLES:
            rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            size = con.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name = ?", (table,)
            ).fetchone()[0]
            out[table] = size / rows
        con.close()
        return out
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


async def main() -> None:
    _common.header("storage")
    now = datetime.now(UTC).replace(microsecond=0)
    times, values = walks(now)
    samples = len(times) * len(values)
    async with contextlib.AsyncExitStack() as stack:
        prom = None
        if _prometheus.available():
            workdir = Path(tempfile.mkdtemp(prefix="unity-bench-prom-"))
            stack.callback(shutil.rmtree, workdir, True)
            prom = _prometheus.Prometheus.from_series(
                (
                    (f"metric_{sid}", {"n": str(sid)}, list(zip(times, vals, strict=True)))
                    for sid, vals in values.items()
                ),
                workdir,
            )
            await stack.enter_async_context(prom)  # started now: it compacts during the load
        else:
            print("   Prometheus: /usr/bin/prometheus or promtool missing: no comparison")
        dsn = await stack.enter_async_context(_common.bench_database("storage"))
        apg = await asyncpg.connect(dsn)
        stack.push_async_callback(apg.close)
        await add_series(apg, dsn, SERIES, times[0])
        rate = await load(apg, times, values)
        await apg.execute("VACUUM ANALYZE samples")
        raw = await pg_bytes(apg, "samples")
        print(
            f"   Unity: {samples:,} samples by COPY in arrival order at {rate:,.0f}/s; "
            f"samples {raw / 2**20:.1f} MB = {raw / samples:.1f} bytes/sample",
            flush=True,
        )
        encoding = await build_chunks(apg, times, values)
        size_a, size_b = await pg_bytes(apg, "chunk_a"), await pg_bytes(apg, "chunk_b")
        print(
            f"   chunks (a) bytea+zlib: {size_a / 2**20:.1f} MB = {size_a / samples:.2f} "
            f"bytes/sample (encoding {encoding / samples * 1e6:.2f} us/sample); chunks (b) "
            f"arrays+lz4: {size_b / 2**20:.1f} MB = {size_b / samples:.2f} bytes/sample",
            flush=True,
        )
        if prom is not None:
            blocks = await prom.settle()
            print(
                f"   Prometheus: {blocks} blocks after its start-up compaction, "
                f"{prom.size_bytes / 2**20:.1f} MB = {prom.size_bytes / samples:.2f} bytes/sample",
                flush=True,
            )
        settings = _common.make_settings(
            make_url(dsn)
            .set(drivername="postgresql+asyncpg")
            .render_as_string(hide_password=False),
            Path(tempfile.mkdtemp(prefix="unity-bench-")),
            scheduler_enabled=False,
        )
        app = create_app(settings)
        async with _common.serve_in_process(app) as host:
            token = await admin_token(host)
            await phase("raw only", host, token, dsn, now, prom)
            await app.state.unity.maintenance.run()
            await apg.execute("VACUUM ANALYZE samples_1m")
            await apg.execute("VACUUM ANALYZE samples_1h")
            await phase("with roll-ups", host, token, dsn, now, prom)
        for table in ROW_TABLES[1:]:
            rows = await apg.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
            size = await pg_bytes(apg, table)
            print(f"   PostgreSQL {table}: {rows:,} rows, {size / rows:.1f} bytes/row", flush=True)
        print(f"   PostgreSQL samples: {raw / samples:.1f} bytes/row", flush=True)
    per_row = await sqlite_bytes(times, values)
    print(
        "   SQLite: " + ", ".join(f"{t} {b:.1f} bytes/row" for t, b in per_row.items()),
        flush=True,
    )


if __name__ == "__main__":
    uvloop.run(main())
