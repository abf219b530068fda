"""Runs Alembic migrations on the app's own engine (at start-up, from `make migrate`, in tests).

Alembic (with Mako and Pygments, ~10 MB) is imported here only when a migration runs:
`python -m app serve` migrates in a short child process, so the server never loads it.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import BACKEND_DIR, Settings, get_settings
from app.core.logging import setup_logging
from app.db.session import Database

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

# Replicas starting together must not migrate at the same time.
MIGRATION_LOCK_ID = 0x756E6974_0001


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config(str(Path(BACKEND_DIR) / "alembic.ini"))
    cfg.set_main_option("script_location", str(Path(BACKEND_DIR) / "alembic"))
    return cfg


def _run(connection: Connection, action: str, revision: str) -> None:
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(cfg, revision)
    else:
        command.downgrade(cfg, revision)


async def migrate(engine: AsyncEngine, action: str = "upgrade", revision: str = "head") -> None:
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        try:
            await conn.run_sync(_run, action, revision)
            await conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                await conn.execute(
                    text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID}
                )
                await conn.commit()
    log.info("database schema at %s (%s)", revision, action)


async def migrate_database(
    settings: Settings, action: str = "upgrade", revision: str = "head"
) -> None:
    """Migrate the configured database on an engine of its own (the CLI and `serve`'s child)."""
    db = Database(settings.db_url, timeouts=settings.db_timeouts)
    try:
        await migrate(db.engine, action, revision)
    finally:
        await db.dispose()


if __name__ == "__main__":
    # `serve` runs this before serving: less to import than `python -m app migrate`, and
    # the settings were checked (and missing secrets generated) by the parent already.
    settings = get_settings()
    setup_logging(settings.log_level, settings.log_format)
    asyncio.run(migrate_database(settings))
