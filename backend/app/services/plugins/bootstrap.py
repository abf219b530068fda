"""First start: an admin from settings for headless installs, and a `system` plugin to show data."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from app.models import PluginInstance
from app.models.enums import Role
from app.services.auth import setup_code, users
from app.services.plugins import instances
from app.state import AppState

log = logging.getLogger(__name__)


async def first_start(state: AppState) -> None:
    settings = state.settings
    async with state.db.session() as session:
        fresh = await users.user_count(session) == 0
        if fresh and settings.admin_username and settings.admin_password:
            await users.create_user(
                session, settings.admin_username, settings.admin_password, Role.ADMIN
            )
            log.info("created admin %r from ADMIN_USERNAME/ADMIN_PASSWORD", settings.admin_username)
        if fresh and not (settings.admin_username and settings.admin_password):
            setup_code.ensure(settings)
        else:
            setup_code.discard(settings)  # set up meanwhile (another replica, or the env)
        plugin_count = await session.scalar(select(func.count()).select_from(PluginInstance))
        entry = state.registry.get("system")
        if (
            fresh
            and plugin_count == 0
            and settings.create_default_plugin
            and entry
            and entry.available
        ):
            await instances.create_plugin(
                session,
                state.registry,
                state.box,
                name="This host",
                type_="system",
                config={},
                interval_seconds=None,
                timeout_seconds=None,
                enabled=True,
            )
            log.info("created the default 'system' plugin for this host")
