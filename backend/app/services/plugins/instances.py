"""Plugin instances: validation against each type's schema, secret handling, CRUD queries."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import InvalidInput
from app.core.security import SecretBox
from app.core.validation import fields_of, summary
from app.db.queries import commit_unique, get_or_not_found, paginate
from app.models import PluginHealth, PluginInstance, PluginRun
from app.models.enums import HealthStatus
from app.plugins.base import SECRET_MASK, Plugin, PluginConfig
from app.plugins.registry import PluginRegistry, PluginType
from app.schemas.plugins import DiscoveredOut, HealthOut, PluginOut, PluginTypeOut
from app.services.plugins import dependencies, discovery, timing
from app.services.probes.hub import HUB, check_assignment, locations_of

if TYPE_CHECKING:  # the scheduler imports this module
    from app.services.plugins.scheduler import PluginScheduler

log = logging.getLogger(__name__)


def plugin_type(registry: PluginRegistry, type_: str) -> PluginType:
    entry = registry.get(type_)
    if entry is None:
        known = ", ".join(t.type for t in registry.all())
        raise InvalidInput(f"Unknown plugin type {type_!r}; choose one of: {known}.")
    return entry


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
        schema = entry.cls.Config.model_json_schema()
        fields = fields_of(exc.errors(), "config", schema)
        raise InvalidInput(summary(fields), fields) from None
    data = model.model_dump(mode="json")
    secrets = {k: data.pop(k) for k in list(data) if k in secret_names and data[k] is not None}
    for k in secret_names:
        data.pop(k, None)
    return data, secrets


def materialize(entry: PluginType, plugin: PluginInstance, box: SecretBox) -> PluginConfig:
    """The full config object a plugin instance runs with (secrets decrypted)."""
    assert entry.cls is not None
    secrets = box.decrypt(plugin.secrets) if plugin.secrets else {}
    config = discovery.without_marker(plugin.config)
    return entry.cls.Config.model_validate({**config, **secrets})


def masked_config(
    registry: PluginRegistry, box: SecretBox, plugin: PluginInstance
) -> dict[str, Any]:
    """The config as the API shows it: each stored secret as "********", unset ones as null."""
    config = discovery.without_marker(plugin.config)
    entry = registry.get(plugin.type)
    names = entry.cls.secret_fields() if entry and entry.cls else []
    try:
        stored = box.decrypt(plugin.secrets) if plugin.secrets else {}
    except ValueError:
        stored = dict.fromkeys(names, True)  # unreadable, but present: still say "set"
    for name in names:
        config[name] = SECRET_MASK if stored.get(name) is not None else None
    return config


async def list_plugins(session: AsyncSession) -> list[PluginInstance]:
    return list(await session.scalars(select(PluginInstance).order_by(PluginInstance.id)))


async def get_plugin(session: AsyncSession, plugin_id: int) -> PluginInstance:
    return await get_or_not_found(
        session,
        PluginInstance,
        plugin_id,
        f"No plugin with id {plugin_id}; list them with GET /api/v1/plugins.",
    )


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
    depends_on: list[int] | None = None,
    scheduler: PluginScheduler | None = None,
    locations: list[str] | None = None,
    down_quorum: int | None = None,
) -> PluginInstance:
    entry = plugin_type(registry, type_)
    check_assignment(locations, down_quorum)
    data, secrets = validate_config(entry, config)
    # A new plugin has no dependents yet, so it cannot close a loop: existing parents suffice.
    await dependencies.require_existing(session, depends_on or [])
    assert entry.cls is not None
    interval, timeout, bad = timing.settle(
        entry.cls, config, data, interval_seconds, timeout_seconds or None
    )
    _refuse(bad)
    plugin = PluginInstance(
        name=name,
        type=type_,
        config=data,
        secrets=box.encrypt(secrets) if secrets else None,
        interval_seconds=interval,
        timeout_seconds=timeout,
        enabled=enabled,
        locations=_stored_locations(locations),
        down_quorum=down_quorum,
    )
    plugin.health = unknown_health()
    session.add(plugin)
    await commit_unique(session, "A plugin", name)
    if depends_on:
        await dependencies.set_parents(session, plugin, depends_on)
        await session.commit()
    log.info("plugin created", extra={"plugin_id": plugin.id, "type": type_})
    if scheduler is not None:
        await scheduler.sync(plugin.id)
    return plugin


async def update_plugin(
    session: AsyncSession,
    registry: PluginRegistry,
    box: SecretBox,
    plugin: PluginInstance,
    changes: dict[str, Any],
    scheduler: PluginScheduler | None = None,
) -> PluginInstance:
    if "type" in changes and changes["type"] != plugin.type:
        raise InvalidInput("A plugin's type cannot change; create a new plugin instead.")
    discovery.refuse_label_edits(plugin, None, changes.get("interval_seconds"))
    if changes.get("config") is not None:  # null, like the other fields, leaves it as it is
        entry = plugin_type(registry, plugin.type)
        stored = box.decrypt(plugin.secrets) if plugin.secrets else {}
        data, secrets = validate_config(entry, changes["config"], stored)
        discovery.refuse_label_edits(plugin, data, changes.get("interval_seconds"))
        if (found := discovery.marker(plugin)) is not None:
            data[discovery.DISCOVERED_KEY] = found  # still the label's, after this edit too
        plugin.config = data
        plugin.secrets = box.encrypt(secrets) if secrets else None
    for field in ("name", "interval_seconds", "timeout_seconds", "enabled"):
        if field in changes and changes[field] is not None:
            setattr(plugin, field, changes[field])
    # A stored check timeout counts as typed; a new config's default follows the run's.
    typed = changes["config"] if changes.get("config") is not None else plugin.config
    config = dict(plugin.config)
    _refuse(timing.fit(typed, config, plugin.interval_seconds, plugin.timeout_seconds))
    plugin.config = config
    if changes.get("locations") is not None or changes.get("down_quorum") is not None:
        locations = changes.get("locations") or plugin.locations
        quorum = changes.get("down_quorum") or plugin.down_quorum
        if changes.get("locations") is not None and changes.get("down_quorum") is None:
            quorum = min(quorum or 1, len(locations or ["hub"]))  # fewer locations: K follows
        check_assignment(locations, quorum)
        plugin.locations, plugin.down_quorum = _stored_locations(locations), quorum
    if changes.get("depends_on") is not None:
        await dependencies.set_parents(session, plugin, changes["depends_on"])
    await commit_unique(session, "A plugin", plugin.name)
    log.info("plugin updated", extra={"plugin_id": plugin.id, "fields": ",".join(sorted(changes))})
    if scheduler is not None:
        await scheduler.sync(plugin.id)  # changes take effect now, not at the next run
    return plugin


async def delete_plugin(
    session: AsyncSession, plugin: PluginInstance, scheduler: PluginScheduler | None = None
) -> None:
    plugin_id = plugin.id
    await session.delete(plugin)
    await session.commit()
    log.info("plugin deleted", extra={"plugin_id": plugin_id})
    released = await discovery.release(session, plugin_id)
    if scheduler is not None:
        for changed in (plugin_id, *released):
            await scheduler.sync(changed)


def _refuse(problems: dict[str, str]) -> None:
    if problems:
        raise InvalidInput(summary(problems), problems)


def _stored_locations(locations: list[str] | None) -> list[str] | None:
    """None for the default (the hub only), so most rows stay as they were."""
    return None if not locations or locations == [HUB] else list(locations)


async def list_runs(
    session: AsyncSession, plugin_id: int, limit: int, offset: int, status: str | None = None
) -> tuple[list[PluginRun], int]:
    where = [PluginRun.plugin_id == plugin_id]
    if status:
        where.append(PluginRun.status == status)
    order = (PluginRun.started_at.desc(), PluginRun.id.desc())
    return await paginate(session, PluginRun, *where, order_by=order, limit=limit, offset=offset)


def unknown_health(plugin_id: int | None = None) -> PluginHealth:
    """The health of a plugin that has not run yet."""
    return PluginHealth(plugin_id=plugin_id, status=HealthStatus.UNKNOWN, consecutive_failures=0)


async def get_health(session: AsyncSession, plugin_id: int) -> PluginHealth:
    return await session.get(PluginHealth, plugin_id) or unknown_health(plugin_id)


def view(
    registry: PluginRegistry, box: SecretBox, plugin: PluginInstance, depends_on: Iterable[int]
) -> PluginOut:
    """An instance as the API shows it: secrets masked, health `unknown` until its first run."""
    return PluginOut(
        id=plugin.id,
        name=plugin.name,
        type=plugin.type,
        config=masked_config(registry, box, plugin),
        interval_seconds=plugin.interval_seconds,
        timeout_seconds=plugin.timeout_seconds,
        enabled=plugin.enabled,
        created_at=plugin.created_at,
        updated_at=plugin.updated_at,
        health=HealthOut.model_validate(plugin.health or unknown_health(plugin.id)),
        discovered=_discovered(plugin),
        depends_on=sorted(depends_on),
        locations=locations_of(plugin),
        down_quorum=plugin.down_quorum or 1,
    )


def _discovered(plugin: PluginInstance) -> DiscoveredOut | None:
    found = discovery.marker(plugin)
    if found is None:
        return None
    return DiscoveredOut(
        by_plugin_id=int(found.get("by") or 0),
        container=str(found.get("container") or ""),
        labels={str(k): str(v) for k, v in (found.get("labels") or {}).items()},
    )


def catalog(registry: PluginRegistry) -> list[PluginTypeOut]:
    """Every installed type; one that failed to load keeps the contract's defaults and says why."""
    out = []
    for entry in registry.all():
        cls = entry.cls or Plugin
        out.append(
            PluginTypeOut(
                type=entry.type,
                name=entry.cls.name if entry.cls else entry.type,
                description=entry.cls.description if entry.cls else "",
                category=cls.category,
                config_schema=entry.cls.config_schema() if entry.cls else {},
                secret_fields=cls.secret_fields() if entry.cls else [],
                default_interval_seconds=cls.default_interval_seconds,
                available=entry.available,
                unavailable_reason=entry.error,
            )
        )
    return out
