"""Migration 0011 (history imports) matches the ORM models and steps down to 0010 and back."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.core.config import Settings
from app.db.migrate import migrate
from app.db.session import Database
from app.models import Base

IMPORT_TABLES = {"import_checkpoints", "import_links"}


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_import_tables_match_the_models_and_downgrade(settings: Settings) -> None:
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
        await migrate(db.engine, "downgrade", "0010")
        tables = await _tables(db)
        assert not tables & IMPORT_TABLES and "plugins" in tables
        await migrate(db.engine)
        assert await _tables(db) >= IMPORT_TABLES
    finally:
        await db.dispose()
