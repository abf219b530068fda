"""Ingest: samples/s through MetricsWriter into PostgreSQL, next to raw asyncpg COPY.

Fairness: both sides write the same (series_id, ts, value) rows into the same partitioned
`samples` table of one fresh database. Before every timed pass the daily partitions are dropped
and re-created empty, `series.last_ts/last_value` are reset and a CHECKPOINT is taken, so each
pass starts from the same state. Passes alternate writer/raw/raw/writer (ABBA) so drifting
machine load hits both sides alike. The series rows exist before the timed passes (a first
untimed "cold" pass creates them and is reported apart), but each timed writer pass uses a new
MetricsWriter, so its series cache starts empty. The headline raw COPY commits as many rows per
transaction as the writer does while it has a backlog (batch size x GROUP_BATCHES = 40,000, one
`copy_records_to_table` each); raw COPY in 5,000-row transactions (the writer's batch size when
idle) and one single COPY of every row are shown as well.

Environment: BENCH_INGEST_SAMPLES (default 1,000,000), BENCH_INGEST_ROUNDS (default 2).
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common
import asyncpg
from sqlalchemy.engine import make_url

from app.db.session import Database
from app.plugins.base import Sample
from app.services.metrics.partitions import ensure_partitions, partition_name
from app.services.metrics.writer import GROUP_BATCHES, MetricsWriter

TOTAL = int(os.environ.get("BENCH_INGEST_SAMPLES", "1000000"))
ROUNDS = int(os.environ.get("BENCH_INGEST_ROUNDS", "2"))
PLUGINS = 20
SERIES_PER_PLUGIN = 100  # 2,000 series
INTERVAL = timedelta(seconds=10)


def make_runs(now: datetime) -> list[tuple[int, datetime, list[Sample]]]:
    """Plugin runs as the scheduler hands them to the writer: many plugins, 100 samples each."""
    runs_per_plugin = max(1, TOTAL // (PLUGINS * SERIES_PER_PLUGIN))
    start = now - runs_per_plugin * INTERVAL
    runs = []
    for r in range(runs_per_plugin):
        for p in range(1, PLUGINS + 1):
            ts = start + r * INTERVAL + timedelta(milliseconds=p)
            samples = [
                Sample(
                    f"metric_{i % 10}",
                    float((r * 7 + i) % 1000) / 10,
                    "%",
                    {"host": f"h{p}", "dev": f"d{i // 10}"},
                )
                for i in range(SERIES_PER_PLUGIN)
            ]
            runs.append((p, ts, samples))
    return runs


async def reset(apg: asyncpg.Connection, db: Database, days: set) -> None:
    """Empty, freshly created partitions and no `last_ts`: every pass starts alike."""
    for day in days:
        await apg.execute(f"DROP TABLE IF EXISTS {partition_name(day)}")
    async with db.engine.connect() as conn:
        await ensure_partitions(conn, days)
        await conn.commit()
    await apg.execute("UPDATE series SET last_ts = NULL, last_value = NULL")
    await apg.execute("VACUUM ANALYZE series")
    await apg.execute("CHECKPOINT")


async def writer_pass(db: Database, settings, runs) -> float:
    writer = MetricsWriter(db, settings)
    await writer.start()
    t0 = time.perf_counter()
    for plugin_id, ts, samples in runs:
        writer.submit(plugin_id, ts, samples)
    await writer.flushed(within=900)
    elapsed = time.perf_counter() - t0
    await writer.stop(5)
    assert writer.stats.dropped == 0 and writer.stats.discarded == 0, writer.stats
    return elapsed


async def raw_pass(apg: asyncpg.Connection, records, chunk: int | None) -> float:
    t0 = time.perf_counter()
    if chunk is None:
        await apg.copy_records_to_table(
            "samples", records=records, columns=["series_id", "ts", "value"]
        )
    else:
        for i in range(0, len(records), chunk):
            async with apg.transaction():
                await apg.copy_records_to_table(
                    "samples", records=records[i : i + chunk], columns=["series_id", "ts", "value"]
                )
    return time.perf_counter() - t0


async def main() -> None:
    _common.header("ingest")
    now = datetime.now(UTC).replace(microsecond=0)
    runs = make_runs(now)
    n = sum(len(s) for _, _, s in runs)
    days = {ts.date() for _, ts, _ in runs}
    print(
        f"   {n:,} samples, {PLUGINS * SERIES_PER_PLUGIN:,} series, {len(runs):,} runs "
        f"of {SERIES_PER_PLUGIN} samples from {PLUGINS} plugins, {len(days)} daily partition(s)",
        flush=True,
    )
    async with _common.bench_database("ingest") as dsn:
        url = make_url(dsn).set(drivername="postgresql+asyncpg")
        settings = _common.make_settings(
            url.render_as_string(hide_password=False),
            Path(tempfile.mkdtemp(prefix="unity-bench-")),
            writer_buffer_max=n + 1,
        )
        db = Database(url)
        apg = await asyncpg.connect(dsn)
        try:
            await apg.executemany(
                "INSERT INTO plugins (id, name, type, config, interval_seconds, timeout_seconds,"
                " enabled, created_at, updated_at) VALUES ($1, $2, 'system', '{}', 10, 5, false,"
                " now(), now())",
                [(p, f"bench-{p}") for p in range(1, PLUGINS + 1)],
            )
            await reset(apg, db, days)
            cold = await writer_pass(db, settings, runs)
            print(
                f"   cold writer pass (creates the series): {n / cold:,.0f} samples/s", flush=True
            )
            ids = {
                (r["plugin_id"], r["name"], r["labels_key"]): r["id"]
                for r in await apg.fetch("SELECT id, plugin_id, name, labels_key FROM series")
            }
            from app.services.metrics.series_cache import labels_key

            records = [
                (ids[(p, s.name, labels_key(s.labels))], ts, float(s.value))
                for p, ts, samples in runs
                for s in samples
            ]
            assert len(records) == n
            # The benchmark's own inputs (a million Sample objects and rows) are not the writer's
            # garbage: park them outside the collector so full collections don't rescan them.
            gc.collect()
            gc.freeze()
            group = settings.writer_batch_size * GROUP_BATCHES
            chunks = {"raw": group, "raw5k": 5000, "raw1": None}
            got: dict[str, list[float]] = {"writer": [], "raw": [], "raw5k": [], "raw1": []}
            order = []
            for _ in range(ROUNDS):
                order += ["writer", "raw", "raw5k", "raw1", "raw1", "raw5k", "raw", "writer"]
            for kind in order:
                await reset(apg, db, days)
                if kind == "writer":
                    elapsed = await writer_pass(db, settings, runs)
                else:
                    elapsed = await raw_pass(apg, records, chunks[kind])
                count = await apg.fetchval("SELECT count(*) FROM samples")
                assert count == n, (kind, count)
                got[kind].append(n / elapsed)
                print(
                    f"   {kind:6s} {n / elapsed:>10,.0f} samples/s ({elapsed:.2f} s); "
                    f"load {_common.loadavg()}",
                    flush=True,
                )
        finally:
            await apg.close()
            await db.dispose()
    w, r, r5, r1 = (_common.median(got[k]) for k in ("writer", "raw", "raw5k", "raw1"))
    print(
        f"   raw COPY in 5,000-row transactions: {r5:,.0f} samples/s (writer / that = {w / r5:.2f})"
    )
    print(
        f"   raw COPY in one call of all {n:,} rows: {r1:,.0f} samples/s "
        f"(writer / that = {w / r1:.2f})"
    )
    print(
        f"ingest: writer {w:,.0f} samples/s, raw COPY {r:,.0f} samples/s "
        f"({chunks['raw']:,} rows per transaction, as the writer), "
        f"ratio {w / r:.2f} (target >= 0.5)"
    )


if __name__ == "__main__":
    asyncio.run(main())
