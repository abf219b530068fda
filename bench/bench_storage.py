"""Storage: bytes on disk per sample and the 24 h / 500-bucket query, Unity next to Prometheus.

Issue 26's set: 200 series x 10,000 samples (the last 2 days, one every 17.28 s), random-walk
values (each step a Gaussian with sigma 1, full float64 precision), written in arrival order (every
series' sample of one instant, then the next instant, as the writer stores them) by COPY into the
partitioned `samples` table of a fresh migrated database. The same samples go to Prometheus as
OpenMetrics, built into blocks by `promtool tsdb create-blocks-from openmetrics` and served by
Debian's `prometheus` on a loopback port (`_prometheus.py`), in the same run.

Measured:
- bytes per sample on disk: Unity's `samples` partitions with their primary-key index after
  VACUUM (the row layout), then after a maintenance pass (roll-ups, then packing every closed
  hour into `sample_chunks`: app/services/metrics/chunks.py) the chunks plus the rows left in
  the open hours; the same chunks in SQLite's zlib codec for comparison; the roll-up tables;
  Prometheus' TSDB directory after its start-up compaction;
- 24 h of one series in 500 buckets, average per bucket: GET /api/v1/metrics/query over a
  keep-alive connection against Prometheus' `query_range` of `avg_over_time` at the API's bucket
  step, CALLS calls each, interleaved in one loop: on rows (before packing), with roll-ups, and
  on packed raw data (roll-up marks hidden so the raw tier answers; the buckets are checked
  against the answer on rows);
- ingest: COPY into the open hour (INGEST_BATCH samples per transaction) alone for
  INGEST_SECONDS, then for as long as the Compactor packs CPU_SERIES series x 1 h at 1 s; and
  the packing's CPU alone (this process and its PostgreSQL backends) as a share of one core per
  hour of data;
- SQLite (the embedded default): bytes per packed sample, per open-hour row and per 1 m / 1 h
  roll-up row, from `dbstat` after loading SQLITE_SERIES series for 1 day and a maintenance
  pass.

A second set, recorded (`_host_set.py`): the real `system` plugin and an `http` check of a
loopback server run RECORD_RUNS times, expanded to about the same number of samples (copies of
the host at the plugins' default intervals, start times as late as the recorded runs were),
written through the MetricsWriter, packed by a maintenance pass and measured next to its own
Prometheus built from the same samples: bytes per sample.

Environment: BENCH_STORAGE_SERIES (200), BENCH_STORAGE_POINTS (10000 per series),
BENCH_STORAGE_CALLS (100), BENCH_STORAGE_CPU_SERIES (1000), BENCH_STORAGE_INGEST_SECONDS (20:
the ingest alone; with packing it runs as long as the packing), BENCH_STORAGE_RECORD_RUNS (60,
one a second), BENCH_STORAGE_PARTS (`walk,extras,host`: the random-walk set with its queries,
the interval/ingest/SQLite measurements, the recorded set).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common
import _host_set
import _prometheus
import asyncpg
import uvloop
from bench_query import HttpClient, add_series, admin_token
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db.migrate import migrate
from app.db.session import Database
from app.main import create_app
from app.services.metrics.chunks import Compactor, chunk_start, decode, encode, micros
from app.services.metrics.maintenance import StorageMaintenance
from app.services.metrics.partitions import ensure_partitions
from app.services.metrics.writer import MetricsWriter

SERIES = int(os.environ.get("BENCH_STORAGE_SERIES", "200"))
POINTS = int(os.environ.get("BENCH_STORAGE_POINTS", "10000"))
CALLS = int(os.environ.get("BENCH_STORAGE_CALLS", "100"))
SPAN = timedelta(days=2)
INSTANTS_PER_COPY = 250
SQLITE_SERIES = 100
CPU_SERIES = int(os.environ.get("BENCH_STORAGE_CPU_SERIES", "1000"))
INGEST_BATCH = 1000
INTERVAL_SERIES = 20
INTERVALS = (1, 10, 60)
INGEST_SECONDS = float(os.environ.get("BENCH_STORAGE_INGEST_SECONDS", "20"))
ROW_TABLES = ("samples", "samples_1m", "samples_1h")
RECORD_RUNS = int(os.environ.get("BENCH_STORAGE_RECORD_RUNS", "60"))
PARTS = set(os.environ.get("BENCH_STORAGE_PARTS", "walk,extras,host").split(","))
WRITER_FLUSH_EVERY = 50_000  # samples submitted between waits for the writer


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


# ----------------------------------------------------------------- packed hours
async def packed_bytes(apg: asyncpg.Connection) -> tuple[int, int, int]:
    """Bytes of `sample_chunks`, of what is left in `samples`, and the samples the chunks hold."""
    await apg.execute("VACUUM ANALYZE sample_chunks")
    await apg.execute("VACUUM ANALYZE samples")
    held = int(await apg.fetchval("SELECT coalesce(sum(n), 0) FROM sample_chunks"))
    return await pg_bytes(apg, "sample_chunks"), await pg_bytes(apg, "samples"), held


async def zlib_bytes(apg: asyncpg.Connection) -> int:
    """The same chunks in SQLite's codec (zlib in Python), in a PostgreSQL table of their own."""
    rows = await apg.fetch("SELECT series_id, start, n, data FROM sample_chunks")
    packed = []
    for r in rows:
        times, values = decode(r["start"], r["data"])
        points = list(zip(times, values, strict=True))
        packed.append(
            (r["series_id"], r["start"], r["n"], encode(r["start"], points, True))
        )
    await apg.execute(
        "CREATE TABLE chunks_zlib (series_id bigint, start timestamptz, n int, data bytea, "
        "PRIMARY KEY (series_id, start))"
    )
    await apg.copy_records_to_table("chunks_zlib", records=packed)
    await apg.execute("VACUUM ANALYZE chunks_zlib")
    size = await pg_bytes(apg, "chunks_zlib")
    await apg.execute("DROP TABLE chunks_zlib")
    return size


def interval_chunks(
    interval: int,
) -> list[tuple[int, datetime, list[tuple[int, float]]]]:
    """INTERVAL_SERIES random-walk series x 1 day at `interval` s, cut in hours (epoch us)."""
    day = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for sid in range(1, INTERVAL_SERIES + 1):
        rng, v = random.Random(sid), 100.0  # noqa: S311 - test data, not secrets
        for h in range(24):
            start = day + timedelta(hours=h)
            points = []
            for i in range(3600 // interval):
                v += rng.gauss(0.0, 1.0)
                points.append((micros(start + timedelta(seconds=i * interval)), v))
            out.append((sid, start, points))
    return out


async def interval_bytes(apg: asyncpg.Connection) -> dict[int, tuple[float, float]]:
    """Bytes per packed sample at each of INTERVALS: PostgreSQL (the product's table layout and
    codec) and SQLite (its codec, the migration's table), INTERVAL_SERIES series x 1 day."""
    out = {}
    for interval in INTERVALS:
        chunks = interval_chunks(interval)
        n = sum(len(p) for _, _, p in chunks)
        await apg.execute(
            "CREATE TABLE chunks_sized (LIKE sample_chunks INCLUDING ALL)"
        )
        await apg.copy_records_to_table(
            "chunks_sized",
            records=[(sid, st, len(p), encode(st, p, False)) for sid, st, p in chunks],
            columns=["series_id", "start", "n", "data"],
        )
        await apg.execute("VACUUM ANALYZE chunks_sized")
        pg = await pg_bytes(apg, "chunks_sized") / n
        await apg.execute("DROP TABLE chunks_sized")
        workdir = Path(tempfile.mkdtemp(prefix="unity-bench-sqlite-"))
        try:
            path = workdir / "sized.db"
            db = Database(make_url(f"sqlite+aiosqlite:///{path}"))
            await migrate(db.engine)
            await db.dispose()
            con = sqlite3.connect(path)
            con.executemany(
                "INSERT INTO sample_chunks (series_id, start, n, data) VALUES (?, ?, ?, ?)",
                (
                    (sid, f"{st:%Y-%m-%d %H:%M:%S.%f}", len(p), encode(st, p, True))
                    for sid, st, p in chunks
                ),
            )
            con.commit()
            con.execute("VACUUM")
            size = con.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name IN ('sample_chunks', "
                "'sqlite_autoindex_sample_chunks_1')"
            ).fetchone()[0]
            con.close()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        out[interval] = (pg, size / n)
        print(
            f"   packed, one sample every {interval} s ({3600 // interval} a chunk): "
            f"PostgreSQL {pg:.2f} bytes/sample, SQLite {size / n:.2f} bytes/sample",
            flush=True,
        )
    return out


def backend_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) of these PostgreSQL backends so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


async def copy_rate(
    apg: asyncpg.Connection, first_sid: int, at: datetime, done: Callable[[], bool]
) -> tuple[float, float]:
    """COPY into the open hour, INGEST_BATCH samples per transaction, until `done()`;
    (samples/s, seconds)."""
    t0 = time.perf_counter()
    sent = i = 0
    while i == 0 or not done():
        ts = at + timedelta(milliseconds=i)
        records = [(first_sid + k, ts, float(k)) for k in range(INGEST_BATCH)]
        async with apg.transaction():
            await apg.copy_records_to_table(
                "samples", records=records, columns=["series_id", "ts", "value"]
            )
        sent += len(records)
        i += 1
    took = time.perf_counter() - t0
    return sent / took, took


async def load_hour(apg: asyncpg.Connection, first: int, hour: datetime) -> float:
    """CPU_SERIES series x 3,600 s from `first` on, at 1 s, in arrival order; seconds taken."""
    t0 = time.perf_counter()
    for lo in range(0, 3600, 60):
        records = [
            (first + k, hour + timedelta(seconds=s), 100.0 + math.sin(s / 300 + k))
            for s in range(lo, lo + 60)
            for k in range(CPU_SERIES)
        ]
        async with apg.transaction():
            await apg.copy_records_to_table(
                "samples", records=records, columns=["series_id", "ts", "value"]
            )
    return time.perf_counter() - t0


async def ingest_while_packing(
    apg: asyncpg.Connection, dsn: str, now: datetime
) -> None:
    """Packing's CPU for CPU_SERIES x 1 h at 1 s, alone; then COPY into the open hour alone and
    while the same packing runs.

    CPU: this process' (encoding, driver) and its PostgreSQL backends', as a share of one core
    over the hour of data packed.
    """
    first = SERIES + 1
    await apg.execute(
        "INSERT INTO series (id, plugin_id, name, unit, labels, labels_key) SELECT i, 1, "
        "'packed_' || i, '', '{}', 'i=' || i FROM generate_series($1::int, $2::int) i",
        first,
        first + CPU_SERIES - 1,
    )
    hour = chunk_start(now) - timedelta(hours=3)
    took = await load_hour(apg, first, hour)
    print(
        f"   loaded {CPU_SERIES:,} series x 3,600 s at 1 s in {took:.1f} s", flush=True
    )
    db = Database(make_url(dsn).set(drivername="postgresql+asyncpg"))
    compactor = Compactor(db.engine, sqlite=False)
    await compactor.run(until=hour)  # nothing to do: opens the pool's connection
    own = await apg.fetchval("SELECT pg_backend_pid()")  # the COPY client's backend
    async with db.engine.connect() as conn:  # the pool's: the one the compactor used
        pids = [
            int(r[0])
            for r in await conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> :own"
                ),
                {"own": own},
            )
        ]
        await conn.commit()
    pg0, py0, t0 = backend_cpu(pids), time.process_time(), time.perf_counter()
    got = await compactor.run(until=hour + timedelta(hours=1))
    wall = time.perf_counter() - t0
    pg_cpu, py_cpu = backend_cpu(pids) - pg0, time.process_time() - py0
    print(
        f"   packing {CPU_SERIES:,} series x 1 h at 1 s alone: {got.samples:,} samples into "
        f"{got.hours:,} chunks in {wall:.1f} s wall; CPU: this process {py_cpu:.2f} s, "
        f"PostgreSQL backends {pg_cpu:.2f} s = {(py_cpu + pg_cpu) / 3600 * 100:.2f} % of a core "
        f"for each hour of data",
        flush=True,
    )
    hour += timedelta(hours=1)
    await load_hour(apg, first, hour)
    ingest_sid = first + CPU_SERIES + 1000
    ends = time.perf_counter() + INGEST_SECONDS
    alone, _ = await copy_rate(apg, ingest_sid, now, lambda: time.perf_counter() > ends)
    t0 = time.perf_counter()
    packing = asyncio.create_task(compactor.run(until=hour + timedelta(hours=1)))
    during, ingest_wall = await copy_rate(
        apg, ingest_sid, now + timedelta(minutes=1), packing.done
    )
    got = await packing
    wall = time.perf_counter() - t0
    await db.dispose()
    print(
        f"   ingest by COPY into the open hour ({INGEST_BATCH} samples per transaction): alone "
        f"{alone:,.0f}/s, while packing (pace {compactor.pace:g}) {during:,.0f}/s = "
        f"{during / alone:.2f}x (packing "
        f"{got.samples:,} samples took {wall:.1f} s, the ingest {ingest_wall:.1f} s of it)",
        flush=True,
    )


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
    name: str,
    host: str,
    token: str,
    now: datetime,
    prom: Any,
    reference: list[tuple[float, float]] | None = None,
    distinct: int = 0,
) -> tuple[dict[str, list[float]], list[tuple[float, float]]]:
    start, end = now - timedelta(hours=24), now
    client = HttpClient(host)
    await client.connect()

    def path(sid: int) -> str:
        q = {
            "series_id": sid,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "points": 500,
        }
        return "/api/v1/metrics/query?" + urlencode(q)

    status, body = await client.get(path(1), token)
    assert status == 200, body
    answer = json.loads(body)
    width = answer["bucket_seconds"]
    api_points = [
        (datetime.fromisoformat(t).timestamp(), v)
        for t, v in answer["series"][0]["points"]
    ]
    if reference is not None:
        same = len(reference) == len(api_points) and all(
            a[0] == b[0] and abs(a[1] - b[1]) <= 1e-9 * max(1.0, abs(a[1]))
            for a, b in zip(reference, api_points, strict=True)
        )
        print(f"   {name}: same buckets as on rows: {same}", flush=True)

    async def api(sid: int) -> None:
        status, body = await client.get(path(sid), token)
        assert status == 200, body

    async def prometheus(sid: int) -> None:
        expr = f'avg_over_time(metric_{sid}{{n="{sid}"}}[{width}s])'
        await prom.query_range(expr, start, end, width)

    calls: dict[str, Callable[[int], Awaitable[Any]]] = {"unity api": api}
    if prom is not None:
        calls["prometheus"] = prometheus
    sids = [1 + (i * 37) % (distinct or SERIES) for i in range(CALLS)]
    took = await timed_loop(calls, sids)
    client.close()
    print(
        f"   {name}: resolution {answer['resolution']}, {width} s buckets, "
        f"{len(api_points)} points; {figures(took)}; load {_common.loadavg()}",
        flush=True,
    )
    return took, api_points


async def sqlite_bytes(
    times: list[datetime], values: dict[int, list[float]]
) -> dict[str, float]:
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
        for table in ROW_TABLES[1:]:
            rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            size = con.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name = ?", (table,)
            ).fetchone()[0]
            out[f"{table} per row"] = size / rows
        held = con.execute("SELECT sum(n) FROM sample_chunks").fetchone()[0] or 0
        left = con.execute("SELECT count(*) FROM samples").fetchone()[0]
        size = con.execute(
            "SELECT sum(pgsize) FROM dbstat WHERE name IN ('sample_chunks', "
            "'sqlite_autoindex_sample_chunks_1')"
        ).fetchone()[0]
        rows_size = con.execute(
            "SELECT sum(pgsize) FROM dbstat WHERE name = 'samples'"
        ).fetchone()[0]
        out["sample_chunks per packed sample"] = size / held
        if left:
            out["samples (open hours) per row"] = rows_size / left
        out["all raw per sample"] = (size + rows_size) / (held + left)
        con.close()
        return out
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


async def walk_set(now: datetime) -> None:
    """Issue 26's random-walk set: bytes, and the query on rows, with roll-ups, packed."""
    times, values = walks(now)
    samples = len(times) * len(values)
    async with contextlib.AsyncExitStack() as stack:
        prom = None
        if _prometheus.available():
            workdir = Path(tempfile.mkdtemp(prefix="unity-bench-prom-"))
            stack.callback(shutil.rmtree, workdir, True)
            prom = _prometheus.Prometheus.from_series(
                (
                    (
                        f"metric_{sid}",
                        {"n": str(sid)},
                        list(zip(times, vals, strict=True)),
                    )
                    for sid, vals in values.items()
                ),
                workdir,
            )
            await stack.enter_async_context(
                prom
            )  # started now: it compacts during the load
        else:
            print(
                "   Prometheus: /usr/bin/prometheus or promtool missing: no comparison"
            )
        dsn = await stack.enter_async_context(_common.bench_database("storage"))
        apg = await asyncpg.connect(dsn)
        stack.push_async_callback(apg.close)
        await add_series(apg, dsn, SERIES, times[0])
        rate = await load(apg, times, values)
        await apg.execute("VACUUM ANALYZE samples")
        raw = await pg_bytes(apg, "samples")
        print(
            f"   Unity rows: {samples:,} samples by COPY in arrival order at {rate:,.0f}/s; "
            f"samples {raw / 2**20:.1f} MB = {raw / samples:.1f} bytes/sample",
            flush=True,
        )
        if prom is not None:
            blocks = await prom.settle()
            prom_size = (
                prom.size_bytes
            )  # once: it changes while Prometheus still compacts
            print(
                f"   Prometheus: {blocks} blocks after its start-up compaction, "
                f"{prom_size / 2**20:.1f} MB = {prom_size / samples:.2f} bytes/sample",
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
            _, on_rows = await phase("rows, raw only", host, token, now, prom)
            unity = app.state.unity
            t0, c0 = time.perf_counter(), time.process_time()
            report = await unity.maintenance.run()
            print(
                f"   maintenance pass (roll-ups, then packing): {time.perf_counter() - t0:.1f} s "
                f"wall, {time.process_time() - c0:.1f} s CPU in this process; packed "
                f"{report['packed_samples']:,} samples into {report['packed_chunks']:,} chunks, "
                f"{report.get('partitions_emptied', 0)} partitions emptied",
                flush=True,
            )
            chunks, left, held = await packed_bytes(apg)
            zl = await zlib_bytes(apg)
            live = samples - held  # rows of the open hours, not packed yet
            steady = chunks + live * raw / samples

            def vs(size: float) -> str:
                return f" = {size / prom_size:.2f}x Prometheus" if prom else ""

            print(
                f"   Unity packed (PostgreSQL): sample_chunks {chunks / 2**20:.2f} MB for "
                f"{held:,} samples = {chunks / held:.2f} bytes/sample{vs(chunks * samples / held)}"
                f"; the same chunks zlib-compressed (SQLite's codec): {zl / held:.2f} "
                f"bytes/sample; {live:,} rows left in the open hours: chunks plus those rows at "
                f"{raw / samples:.1f} bytes each = {steady / samples:.2f} bytes/sample"
                f"{vs(steady)}; the `samples` partitions still take {left / 2**20:.1f} MB (today's "
                f"holds the space of the rows packed out of it, for its new rows to reuse once "
                f"vacuumed, and is truncated once its day is packed)",
                flush=True,
            )
            await apg.execute("VACUUM ANALYZE samples_1m")
            await apg.execute("VACUUM ANALYZE samples_1h")
            await phase("with roll-ups", host, token, now, prom)
            marks = await apg.fetch("SELECT name, done_until FROM rollup_state")
            await apg.execute("DELETE FROM rollup_state")  # so the raw tier answers
            unity.reader.rolled_up()
            await phase("packed, raw only", host, token, now, prom, on_rows)
            # A dashboard re-reads the same few series: their closed hours stay decoded.
            await phase(
                "packed, raw only, 5 series read again", host, token, now, prom, None, 5
            )
            cache = unity.reader.chunks
            print(
                f"   decoded chunks kept: {cache.samples:,} samples; {cache.hits:,} reads "
                f"from them, {cache.misses:,} decoded",
                flush=True,
            )
            await apg.executemany(
                "INSERT INTO rollup_state (name, done_until) VALUES ($1, $2)",
                [(m["name"], m["done_until"]) for m in marks],
            )
        for table in ROW_TABLES[1:]:
            rows = await apg.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
            size = await pg_bytes(apg, table)
            print(
                f"   PostgreSQL {table}: {rows:,} rows, {size / rows:.1f} bytes/row",
                flush=True,
            )
        if "extras" in PARTS:
            await interval_bytes(apg)
            await ingest_while_packing(apg, dsn, now)
    if "extras" in PARTS:
        per_row = await sqlite_bytes(times, values)
        print(
            "   SQLite (bytes): "
            + ", ".join(f"{t} {b:.2f}" for t, b in per_row.items()),
            flush=True,
        )


async def host_set(now: datetime) -> None:
    """The recorded host + http set: written through the writer, packed, bytes per sample."""
    rec = await _host_set.record(RECORD_RUNS, 1.0)
    ex = _host_set.expand(rec, now, SPAN, SERIES * POINTS)
    samples = ex.samples
    print(f"   host set: {_host_set.describe(rec, ex)}", flush=True)
    async with contextlib.AsyncExitStack() as stack:
        prom_size = 0
        if _prometheus.available():
            workdir = Path(tempfile.mkdtemp(prefix="unity-bench-prom-"))
            stack.callback(shutil.rmtree, workdir, True)
            prom = _prometheus.Prometheus.from_series(ex.prometheus_series(), workdir)
            await stack.enter_async_context(prom)
        dsn = await stack.enter_async_context(_common.bench_database("storage_host"))
        apg = await asyncpg.connect(dsn)
        stack.push_async_callback(apg.close)
        await apg.execute(
            "INSERT INTO plugins (id, name, type, config, interval_seconds, timeout_seconds,"
            " enabled, created_at, updated_at) SELECT p, 'host-' || p, CASE WHEN p % 2 = 1 THEN"
            " 'system' ELSE 'http' END, '{}', 60, 5, false, now(), now()"
            " FROM generate_series(1, $1::int) p",
            2 * ex.hosts,
        )
        url = make_url(dsn).set(drivername="postgresql+asyncpg")
        db = Database(url)
        stack.push_async_callback(db.dispose)
        async with db.engine.connect() as conn:
            days = {(now - SPAN + d * timedelta(days=1)).date() for d in range(4)}
            await ensure_partitions(conn, days)
            await conn.commit()
        settings = _common.make_settings(
            url.render_as_string(hide_password=False),
            Path(tempfile.mkdtemp(prefix="unity-bench-")),
            scheduler_enabled=False,
        )
        writer = MetricsWriter(db, settings)
        await writer.start()
        t0, pending = time.perf_counter(), 0
        for ts, host, kind, run in ex.runs():
            writer.submit(2 * host + (1 if kind == "system" else 2), ts, run)
            pending += len(run)
            if pending >= WRITER_FLUSH_EVERY:
                await writer.flushed(120)
                pending = 0
        await writer.flushed(120)
        took = time.perf_counter() - t0
        await writer.stop(30)
        await apg.execute("VACUUM ANALYZE samples")
        stored = int(await apg.fetchval("SELECT count(*) FROM samples"))
        raw = await pg_bytes(apg, "samples")
        print(
            f"   host set rows: {stored:,} samples through the writer in {took:.1f} s "
            f"({stored / took:,.0f}/s); samples {raw / 2**20:.1f} MB = {raw / stored:.1f} "
            f"bytes/sample",
            flush=True,
        )
        if prom_size == 0 and _prometheus.available():
            blocks = await prom.settle()
            prom_size = prom.size_bytes
            print(
                f"   host set Prometheus: {blocks} blocks after its start-up compaction, "
                f"{prom_size / 2**20:.1f} MB = {prom_size / samples:.2f} bytes/sample",
                flush=True,
            )
        report = await StorageMaintenance(db, settings).run()
        chunks, _, held = await packed_bytes(apg)
        live = stored - held
        steady = chunks + live * raw / stored

        def vs(size: float) -> str:
            return f" = {size / prom_size:.2f}x Prometheus" if prom_size else ""

        print(
            f"   host set packed (PostgreSQL): {report['packed_samples']:,} samples into "
            f"{report['packed_chunks']:,} chunks; sample_chunks {chunks / 2**20:.2f} MB for "
            f"{held:,} samples = {chunks / held:.2f} bytes/sample{vs(chunks * stored / held)}; "
            f"{live:,} rows left in the open hours: chunks plus those rows = "
            f"{steady / stored:.2f} bytes/sample{vs(steady)}",
            flush=True,
        )
        zl = await zlib_bytes(apg)
        print(
            f"   host set, the same chunks zlib-compressed (SQLite's codec): {zl / held:.2f} "
            f"bytes/sample{vs(zl * stored / held)}",
            flush=True,
        )


async def main() -> None:
    _common.header("storage")
    now = datetime.now(UTC).replace(microsecond=0)
    if "walk" in PARTS:
        await walk_set(now)
    if "host" in PARTS:
        await host_set(now)


if __name__ == "__main__":
    uvloop.run(main())
