"""Migration 0015 packs an existing database's closed hours in place; its downgrade unpacks them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, inspect, select, text

from app.core.config import Settings
from app.db.migrate import migrate
from app.db.session import Database
from app.models import RollupState, Sample, SampleChunk, Series
from app.services.metrics.chunks import decode, from_micros
from app.services.metrics.maintenance import RECENT
from app.services.metrics.partitions import ensure_partitions
from tests.conftest import add_plugin

T0 = datetime(2026, 5, 1, tzinfo=UTC)  # fixed: the migration reads no clock
HOUR = timedelta(hours=1)


async def _rows(db: Database) -> list[tuple[int, datetime, float]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            select(Sample.series_id, Sample.ts, Sample.value).order_by(Sample.series_id, Sample.ts)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_upgrade_packs_data_written_before_it_and_downgrade_restores_the_rows(
    settings: Settings,
) -> None:
    db = Database(settings.db_url)
    try:
        await migrate(db.engine)  # PostgreSQL's test databases come migrated already
        await migrate(db.engine, "downgrade", "0014")
        plugin = await add_plugin(db, "old", enabled=False)
        rng = random.Random(11)
        written = []
        async with db.engine.begin() as conn:
            if not db.is_sqlite:
                await ensure_partitions(conn, [T0.date()])
            for sid in (1, 2):
                await conn.execute(
                    insert(Series).values(
                        id=sid, plugin_id=plugin, name=f"m{sid}", unit="", labels={}, labels_key=""
                    )
                )
            for i in range(4 * 120):  # four hours, one sample every 30 s and a few µs
                for sid in (1, 2):
                    ts = T0 + timedelta(seconds=30 * i, microseconds=sid * 7 + i % 3)
                    written.append((sid, ts, rng.uniform(-1e6, 1e6)))
            await conn.execute(
                insert(Sample), [{"series_id": s, "ts": t, "value": v} for s, t, v in written]
            )
            # The 1 m roll-up is done to 3 h 11 min: hours 0-2 are what maintenance would pack.
            await conn.execute(
                insert(RollupState).values(name="1m", done_until=T0 + 3 * HOUR + RECENT + HOUR / 60)
            )
        written.sort()

        await migrate(db.engine)
        left = await _rows(db)
        assert left == [r for r in written if r[1] >= T0 + 3 * HOUR]
        async with db.engine.connect() as conn:
            chunks = (
                await conn.execute(
                    select(
                        SampleChunk.series_id, SampleChunk.start, SampleChunk.n, SampleChunk.data
                    )
                )
            ).all()
        assert sorted((c.series_id, c.start) for c in chunks) == [
            (sid, T0 + h * HOUR) for sid in (1, 2) for h in range(3)
        ]
        packed = []
        for c in chunks:
            times, values = decode(c.start, c.data)
            assert c.n == len(times) == 120
            packed += [(c.series_id, from_micros(t), v) for t, v in zip(times, values, strict=True)]
        assert sorted(packed + left) == written  # exact: every microsecond and every bit

        await migrate(db.engine, "downgrade", "0014")
        async with db.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            if not db.is_sqlite:
                views = await conn.scalar(
                    text("SELECT count(*) FROM pg_views WHERE viewname = 'samples_all'")
                )
                assert views == 0
        assert "sample_chunks" not in tables
        assert await _rows(db) == written
        await migrate(db.engine)  # and up again
        assert await _rows(db) == [r for r in written if r[1] >= T0 + 3 * HOUR]
    finally:
        await db.dispose()
