"""Migration 0006 (status pages) matches the ORM model and steps down to 0005 and back again."""

from __future__ import annotations

from sqlalchemy import inspect

from app.core.config import Settings
from app.db.migrate import migrate
from app.db.session import Database


async def test_status_pages_table_downgrades_and_comes_back(settings: Settings) -> None:
    db = Database(settings.db_url)
    try:
        await migrate(db.engine)
        await migrate(db.engine, "downgrade", "0005")
        async with db.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert "status_pages" not in tables and "browser_sessions" in tables
        await migrate(db.engine)
        async with db.engine.connect() as conn:
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("status_pages")}
            )
        assert {"slug", "published", "groups", "announcements"} <= columns
    finally:
        await db.dispose()
