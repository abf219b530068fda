"""Migration 0004 (uptime) matches the ORM models and steps down to 0003 and back again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.core.config import Settings
from app.db.migrate import migrate
from app.db.session import Database
from app.models import Base

UPTIME_TABLES = {
    "push_monitors",
    "uptime_hourly",
    "uptime_daily",
    "uptime_cursors",
    "maintenance_windows",
}


async def test_uptime_tables_match_the_models_and_downgrade(settings: Settings) -> None:
    db = Database(settings.db_url)
    try:
        await migrate(db.engine)
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                )
            )
            assert diff == []
        await migrate(db.engine, "downgrade", "0003")
        async with db.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert not tables & UPTIME_TABLES and "plugins" in tables
        await migrate(db.engine)
        async with db.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert tables >= UPTIME_TABLES
    finally:
        await db.dispose()
