"""Built plugin instances, kept between runs, and the loops of those that blocked ours."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from app.core.config import Settings
from app.core.security import SecretBox
from app.db.session import Database
from app.models import PluginInstance
from app.plugins.base import HostPaths, Plugin, PluginContext
from app.plugins.registry import PluginRegistry
from app.services.plugins import push, runner
from app.services.plugins.instances import materialize

log = logging.getLogger(__name__)


class InstanceCache:
    """One instance per plugin, rebuilt when its row changes (`updated_at`). An instance whose
    collect_data blocked the event loop runs on a loop in its own thread from then on."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        registry: PluginRegistry,
        box: SecretBox,
        executor: ThreadPoolExecutor,
    ) -> None:
        self.db = db
        self.settings = settings
        self.registry = registry
        self.box = box
        self.executor = executor
        self.built: dict[int, tuple[datetime, Plugin]] = {}
        self.isolated: dict[int, runner.IsolatedLoop] = {}

    async def get(self, plugin: PluginInstance) -> Plugin:
        cached = self.built.get(plugin.id)
        if cached and cached[0] == plugin.updated_at:
            return cached[1]
        entry = self.registry.get(plugin.type)
        if entry is None or entry.cls is None:
            raise LookupError(f"plugin type {plugin.type!r} is not installed")
        config = materialize(entry, plugin, self.box)
        ctx = PluginContext(
            plugin.id,
            self.settings.data_dir,
            self.executor,
            heartbeat=push.heartbeat_reader(self.db, plugin.id) if plugin.type == "push" else None,
            host=HostPaths(self.settings.host_proc, self.settings.host_root),
        )
        impl = entry.cls(config, ctx)
        if cached:
            await self.close(plugin.id, cached[1])
        self.built[plugin.id] = (plugin.updated_at, impl)
        return impl

    async def drop(self, plugin_id: int, keep_if: datetime) -> None:
        entry = self.built.get(plugin_id)
        if entry and entry[0] != keep_if:
            self.built.pop(plugin_id, None)
            await self.close(plugin_id, entry[1])

    async def close(self, plugin_id: int, impl: Plugin) -> None:
        """Close an instance on the loop it ran on; a plugin's close must not stop ours."""
        isolated = self.isolated.get(plugin_id)
        try:
            if isolated is not None:
                await asyncio.wait_for(isolated.run(impl.close), 2)
            else:
                await asyncio.wait_for(impl.close(), 5)
        except Exception as exc:
            log.debug("closing the plugin instance failed: %s", exc, extra={"plugin_id": plugin_id})

    async def isolate(self, plugin_id: int) -> None:
        """From now on run this instance's collect_data on an event loop in its own thread."""
        if plugin_id in self.isolated:
            return
        entry = self.built.pop(plugin_id, None)
        if entry is not None:  # it was built on (and may hold resources of) the main loop
            await self.close(plugin_id, entry[1])
        self.isolated[plugin_id] = runner.IsolatedLoop(f"plugin-{plugin_id}-isolated")
        log.warning(
            "plugin blocked the event loop: its runs now go to a thread of their own",
            extra={"plugin_id": plugin_id},
        )

    async def close_all(self) -> None:
        for plugin_id, (_, impl) in list(self.built.items()):
            await self.close(plugin_id, impl)
        self.built.clear()
        for isolated in self.isolated.values():
            isolated.stop()
        self.isolated.clear()
