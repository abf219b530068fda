"""Finds plugin types: the built-ins plus third-party ones from the `unity.plugins` entry points."""

from __future__ import annotations

import builtins
import importlib
import logging
from dataclasses import dataclass
from importlib.metadata import entry_points

from app.plugins.base import Plugin

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "unity.plugins"
BUILTIN_MODULES = (
    "system",
    "http",
    "tcp",
    "ping",
    "dns",
    "ssh",
    "docker",
    "postgres",
    "redis",
    "mysql",
    "proxmox",
    "nut",
    "smart",
    "snmp",
    "storage_pools",
    "push",
)


@dataclass
class PluginType:
    """A catalog entry: the class when it loaded, or why it could not be used."""

    type: str
    cls: builtins.type[Plugin] | None
    error: str | None = None

    @property
    def available(self) -> bool:
        return self.cls is not None and self.error is None


class PluginRegistry:
    def __init__(self) -> None:
        self._types: dict[str, PluginType] = {}

    def register(self, cls: type[Plugin]) -> None:
        ok, reason = cls.available()
        self._types[cls.type] = PluginType(cls.type, cls, None if ok else reason)

    def get(self, type_: str) -> PluginType | None:
        return self._types.get(type_)

    def all(self) -> list[PluginType]:
        return sorted(self._types.values(), key=lambda t: t.type)

    def load(self) -> PluginRegistry:
        for mod in BUILTIN_MODULES:
            name = f"app.plugins.builtin.{mod}"
            try:
                module = importlib.import_module(name)
            except Exception as exc:
                log.warning("built-in plugin %s failed to import: %s", mod, exc)
                self._types[mod] = PluginType(mod, None, f"failed to import: {exc}")
                continue
            self.register(module.PLUGIN)
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                cls = ep.load()
                if not (isinstance(cls, type) and issubclass(cls, Plugin)):
                    raise TypeError(f"{ep.value} is not a Plugin subclass")
                self.register(cls)
                log.info("loaded external plugin type %s from %s", cls.type, ep.value)
            except Exception as exc:
                log.warning("external plugin %s failed to load: %s", ep.name, exc)
                self._types.setdefault(ep.name, PluginType(ep.name, None, f"failed to load: {exc}"))
        return self
