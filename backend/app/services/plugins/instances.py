"""Plugin instances: validation against each type's schema, secret handling, CRUD queries."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.security import SecretBox
from app.models import Plugin, PluginHealth, PluginRun
from app.plugins.base import SECRET_MASK, PluginConfig
from app.plugins.registry import PluginRegistry, PluginType

log = logging.getLogger(__name__)


def plugin_type(registry: PluginRegistry, type_: str) -> PluginType:
    entry = registry.get(type_)
    if entry is None:
        known = ", ".join(t.type for t in registry.all())
        raise InvalidInput(f"Unknown plugin type {type_!r}; choose one of: {known}.")
    return entry


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "config"
        parts.append(f"config.{where}: {err['msg']}")
    return "; ".join(parts)


def validate_config(
    entry: PluginType, config: dict[str, Any], stored_secrets: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate a config (with "********" meaning "keep the stored secret").

    Returns (plain config, secrets) ready to store; raises InvalidInput naming the bad field.
    """
    if entry.cls is None:
        raise InvalidInput(f"Plugin type {entry.type!r} is unavailable: {entry.error}")
    secret_names = set(entry.cls.secret_fields())
    merged = dict(config)
    for name in secret_names:
        if merged.get(name) == SECRET_MASK:
            if stored_secrets and name in stored_secrets:
                merged[name] = stored_secrets[name]
            else:
                merged.pop(name)
    try:
        model = entry.cls.Config.model_validate(merged)
    except ValidationError as exc:
        raise InvalidInput(_describe(exc)) from None
    data = model.model_dump(mode="json")
    secrets = {k: data.pop(k) for k in list(data) if k in secret_names and data[k] is not None}
    for k in secret_names:
        data.pop(k, None)
    return data, secrets


def materialize(entry: PluginType, plugin: Plugin, box: SecretBox) -> PluginConfig:
    """The full config object a plugin instance runs with (secrets decrypted)."""
    assert entry.cls is not None  # nosec B101 # type narrowing for mypy; the invariant holds by construction
    secrets = box.decrypt(plugin.secrets) if plugin.secrets else {}
    return entry.cls.Config.model_validate({**plugin.config, **secrets})


def masked_config(registry: PluginRegistry, box: SecretBox, plugin: Plugin) -> dict[str, Any]:
    """The config as the API shows it: each stored secret as "********", unset ones as null."""
    config = dict(plugin.config)
    entry = registry.get(plugin.type)
    names = entry.cls.secret_fields() if entry and entry.cls else []
    try:
        stored = box.decrypt(plugin.secrets) if plugin.secrets else {}
    except ValueError:
        stored = dict.fromkeys(names, True)  # unreadable, but present: still say "set"
    for name in names:
        config[name] = SECRET_MASK if stored.get(name) is not None else None
    return config


async def list_plugins(session: AsyncSession) -> list[Plugin]:
    return list(await session.scalars(select(Plugin).order_by(Plugin.id)))


async def get_plugin(session: AsyncSession, plugin_id: int) -> Plugin:
    plugin = await session.get(Plugin, plugin_id)
    if plugin is None:
        raise NotFound(f"No plugin with id {plugin_id}; list them with GET /api/v1/plugins.")
    return plugin


async def create_plugin(
    session: AsyncSession,
    registry: PluginRegistry,
    box: SecretBox,
    *,
    name: str,
    type_: str,
    config: dict[str, Any],
    interval_seconds: int | None,
    timeout_seconds: int | None,
    enabled: bool,
) -> Plugin:
    entry = plugin_type(registry, type_)
    data, secrets = validate_config(entry, config)
    assert entry.cls is not None  # nosec B101 # type narrowing for mypy; the invariant holds by construction
    interval = interval_seconds or entry.cls.default_interval_seconds
    timeout = timeout_seconds or min(entry.cls.default_timeout_seconds, interval)
    _check_timing(interval, timeout)
    plugin = Plugin(
        name=name,
        type=type_,
        config=data,
        secrets=box.encrypt(secrets) if secrets else None,
        interval_seconds=interval,
        timeout_seconds=timeout,
        enabled=enabled,
    )
    plugin.health = PluginHealth(status="unknown", consecutive_failures=0)
    session.add(plugin)
    await _commit_unique(session, name)
    log.info("plugin created", extra={"plugin_id": plugin.id, "type": type_})
    return plugin


async def update_plugin(
    session: AsyncSession,
    registry: PluginRegistry,
    box: SecretBox,
    plugin: Plugin,
    changes: dict[str, Any],
) -> Plugin:
    if "type" in changes and changes["type"] != plugin.type:
        raise InvalidInput("A plugin's type cannot change; create a new plugin instead.")
    if "config" in changes:
        entry = plugin_type(registry, plugin.type)
        stored = box.decrypt(plugin.secrets) if plugin.secrets else {}
        data, secrets = validate_config(entry, changes["config"], stored)
        plugin.config = data
        plugin.secrets = box.encrypt(secrets) if secrets else None
    for field in ("name", "interval_seconds", "timeout_seconds", "enabled"):
        if field in changes and changes[field] is not None:
            setattr(plugin, field, changes[field])
    _check_timing(plugin.interval_seconds, plugin.timeout_seconds)
    await _commit_unique(session, plugin.name)
    log.info("plugin updated", extra={"plugin_id": plugin.id, "fields": ",".join(sorted(changes))})
    return plugin


async def delete_plugin(session: AsyncSession, plugin: Plugin) -> None:
    await session.delete(plugin)
    await session.commit()
    log.info("plugin deleted", extra={"plugin_id": plugin.id})


def _check_timing(interval: int, timeout: int) -> None:
    if timeout > interval:
        raise InvalidInput(
            f"timeout_seconds ({timeout}) must not exceed interval_seconds ({interval}); "
            "a run must finish before the next one is due."
        )


async def _commit_unique(session: AsyncSession, name: str) -> None:
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"A plugin named {name!r} already exists; pick another name.") from None


async def list_runs(
    session: AsyncSession, plugin_id: int, limit: int, offset: int, status: str | None = None
) -> tuple[list[PluginRun], int]:
    where = [PluginRun.plugin_id == plugin_id]
    if status:
        where.append(PluginRun.status == status)
    total = await session.scalar(select(func.count()).select_from(PluginRun).where(*where))
    rows = await session.scalars(
        select(PluginRun)
        .where(*where)
        .order_by(PluginRun.started_at.desc(), PluginRun.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total or 0)


async def get_health(session: AsyncSession, plugin_id: int) -> PluginHealth:
    health = await session.get(PluginHealth, plugin_id)
    return health or PluginHealth(plugin_id=plugin_id, status="unknown", consecutive_failures=0)
