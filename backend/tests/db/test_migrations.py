"""Alembic migrations upgrade and downgrade cleanly on both databases."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.db.migrate import migrate
from app.db.session import Database

TABLES = {
    "users",
    "api_tokens",
    "plugins",
    "plugin_runs",
    "plugin_health",
    "series",
    "samples",
    "samples_1m",
    "samples_1h",
    "rollup_state",
    "rollup_dirty",
}


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_downgrade_upgrade(settings: Settings) -> None:
    db = Database(settings.db_url)
    try:
        await migrate(db.engine, "downgrade", "base")  # postgres starts migrated
        assert not (await _tables(db)) & TABLES
        await migrate(db.engine)
        assert await _tables(db) >= TABLES
        await migrate(db.engine, "downgrade", "base")
        assert not (await _tables(db)) & TABLES
        await migrate(db.engine)
        assert await _tables(db) >= TABLES
    finally:
        await db.dispose()


async def test_samples_is_partitioned_on_postgres(pg_url: str) -> None:
    db = Database(make_url(pg_url).set(drivername="postgresql+asyncpg"))
    try:
        async with db.engine.connect() as conn:
            kind = await conn.exec_driver_sql(
                "SELECT relkind::text FROM pg_class WHERE relname = 'samples'"
            )
            assert kind.scalar() == "p"
    finally:
        await db.dispose()
