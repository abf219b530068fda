"""Migration 0012 (status page access: password, domain, embed, logo) steps down and back."""

from __future__ import annotations

from sqlalchemy import inspect, text

from app.core.config import Settings
from app.db.migrate import migrate
from app.db.session import Database

ADDED = {"password_hash", "custom_domain", "embed_origins", "logo", "logo_type", "logo_hash"}


async def test_status_page_access_columns_downgrade_and_come_back(settings: Settings) -> None:
    db = Database(settings.db_url)
    try:
        await migrate(db.engine, "upgrade", "0011")
        async with db.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO status_pages (slug, title, description, footer, published, "
                    "groups, announcements, created_at, updated_at) VALUES ('old', 'Old', '', "
                    "'', true, '[]', '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        await migrate(db.engine)

        def columns(c: object) -> set[str]:
            return {col["name"] for col in inspect(c).get_columns("status_pages")}

        async with db.engine.connect() as conn:
            assert await conn.run_sync(columns) >= ADDED
            row = (await conn.execute(text("SELECT embed_origins FROM status_pages"))).one()
            assert row[0] in ("[]", [])  # a page from before is open, unframed, without logo
        await migrate(db.engine, "downgrade", "0011")
        async with db.engine.connect() as conn:
            assert not ADDED & await conn.run_sync(columns)
            assert (await conn.execute(text("SELECT slug FROM status_pages"))).scalar() == "old"
        await migrate(db.engine)
    finally:
        await db.dispose()
