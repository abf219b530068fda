"""Checks found by label: containers with `unity.*` labels become plugin instances.

A `docker` instance with `discover_labels` on lists its engine's containers each run; for
every container whose labels ask for a check (`unity.http.url`, `unity.tcp.port`), this
module creates the matching instance, updates it when the labels change and retires it when
the container is gone. Such instances carry a marker in their stored config (the reserved
key `_discovered`): which docker instance found them, on which container, and which fields
each label set. Those fields are the label's to change, so the API refuses to edit them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import DomainError, InvalidInput
from app.core.security import SecretBox
from app.db.queries import commit_unique
from app.models import PluginInstance
from app.plugins.registry import PluginRegistry
from app.services.plugins import timing

if TYPE_CHECKING:
    from app.services.plugins.scheduler import PluginScheduler

log = logging.getLogger(__name__)

DISCOVERED_KEY = "_discovered"
INTERVAL_LABEL = "unity.interval"
NAME_LABEL = "unity.name"
DEPENDS_LABEL = "unity.depends_on"  # comma-separated names of the checks' parent plugins
# label -> (plugin type, config field); the first label of a type creates its check.
CHECK_LABELS: dict[str, tuple[str, str]] = {
    "unity.http.url": ("http", "url"),
    "unity.http.keyword": ("http", "keyword"),
    "unity.http.method": ("http", "method"),
    "unity.tcp.port": ("tcp", "port"),
    "unity.tcp.host": ("tcp", "host"),
}
CREATING_LABELS = {"http": "unity.http.url", "tcp": "unity.tcp.port"}
KNOWN_LABELS = {*CHECK_LABELS, INTERVAL_LABEL, NAME_LABEL, DEPENDS_LABEL}
# A `unity.*` label whose last part has one of these words (split at `_`) names a credential.
# Labels are readable by anyone who can `docker inspect` and would be stored unencrypted in the
# check's config, so such labels are refused: a secret belongs in the check's form or the
# config file.
SECRET_WORDS = frozenset(
    {"password", "passwd", "pass", "token", "secret", "community", "passphrase", "key", "apikey"}
    | {"auth", "credentials"}
)
SECRETS_ELSEWHERE = (
    "secrets are not read from labels (anyone who can `docker inspect` the container sees "
    "them); set it on the check in the UI or in the config file, where it is stored encrypted"
)
MAX_NAME = 100
# Per scheduler (one per app): docker instance id -> the label problems last logged for it.
_LOGGED: WeakKeyDictionary[Any, dict[int, frozenset[str]]] = WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class FoundContainer:
    """What the docker plugin saw of one container: enough to derive its checks."""

    id: str
    name: str
    labels: dict[str, str]
    address: str | None = None  # its first network address, the default tcp host


@dataclass
class Spec:
    """One check a container's labels ask for."""

    type: str
    name: str
    container: str
    config: dict[str, Any]
    interval: int | None
    fields: dict[str, str] = field(default_factory=dict)  # field -> label that set it
    parents: list[str] | None = None  # names from DEPENDS_LABEL; None: no such label


@dataclass
class Outcome:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def marker(plugin: PluginInstance) -> dict[str, Any] | None:
    value = (plugin.config or {}).get(DISCOVERED_KEY)
    return value if isinstance(value, dict) else None


def without_marker(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k != DISCOVERED_KEY}


def specs_for(found: FoundContainer, errors: list[str]) -> list[Spec]:
    """The checks one container's labels ask for; a bad label is reported, not fatal."""
    labels = _checked_labels(found, errors)
    base = (labels.get(NAME_LABEL) or found.name).strip() or found.name
    interval: int | None = None
    fields: dict[str, str] = {}
    if INTERVAL_LABEL in labels:
        raw = labels[INTERVAL_LABEL].strip().removesuffix("s")
        if raw.isdigit() and 5 <= int(raw) <= 86400:
            interval = int(raw)
            fields["interval_seconds"] = INTERVAL_LABEL
        else:
            errors.append(
                f"container {found.name}: {INTERVAL_LABEL}={labels[INTERVAL_LABEL]!r} must be "
                "a number of seconds between 5 and 86400; the default interval is used"
            )
    parents = None
    if DEPENDS_LABEL in labels:
        parents = [n.strip() for n in labels[DEPENDS_LABEL].split(",") if n.strip()]
    out = []
    for type_, creating in CREATING_LABELS.items():
        if creating not in labels:
            continue
        config: dict[str, Any] = {}
        own = dict(fields)
        for label, (t, name) in CHECK_LABELS.items():
            if t == type_ and label in labels:
                config[name] = labels[label].strip()
                own[name] = label
        if type_ == "tcp" and "host" not in config:
            config["host"] = found.address or found.name
            own["host"] = "unity.tcp.host"
        name = f"{base} {type_}"[:MAX_NAME]
        out.append(Spec(type_, name, found.name, config, interval, own, parents))
    return out


def _checked_labels(found: FoundContainer, errors: list[str]) -> dict[str, str]:
    """The container's labels minus the ones that carry a credential; each refused or unknown
    `unity.*` label is reported (a typo such as `unity.http.ulr` would otherwise do nothing)."""
    out: dict[str, str] = {}
    for label, value in found.labels.items():
        if not label.startswith("unity.") or label in KNOWN_LABELS:
            out[label] = value
        elif SECRET_WORDS & set(re.split(r"[_-]", label.rsplit(".", 1)[-1].lower())):
            errors.append(f"container {found.name}: label {label} is ignored: {SECRETS_ELSEWHERE}")
        else:
            errors.append(
                f"container {found.name}: label {label} is not one Unity reads and is ignored; "
                f"the labels are {', '.join(sorted(KNOWN_LABELS))} (docs/PLUGINS.md)"
            )
    url = out.get("unity.http.url")
    if url is not None and _has_password(url):
        del out["unity.http.url"]
        errors.append(
            f"container {found.name}: unity.http.url holds a password (user:password@host), so "
            f"no http check is made from it: {SECRETS_ELSEWHERE} (basic_auth_password)"
        )
    return out


def _has_password(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url.strip()).password is not None
    except ValueError:
        return False  # a malformed URL: validating the check's config reports it


async def reconcile(
    session: AsyncSession,
    registry: PluginRegistry,
    box: SecretBox,
    source_id: int,
    containers: list[FoundContainer],
    scheduler: PluginScheduler | None = None,
    logged: dict[int, frozenset[str]] | None = None,
) -> Outcome:
    """Make the discovered instances of docker instance `source_id` match its containers.

    `logged` remembers the label problems already logged, so each is logged when it appears
    rather than on every run; without it every problem is logged.
    """
    from app.services.plugins.instances import (
        list_plugins,
        plugin_type,
        unknown_health,
        validate_config,
    )

    outcome = Outcome()
    existing: dict[tuple[str, str], PluginInstance] = {}
    for row in await list_plugins(session):
        m = marker(row)
        if m is not None and m.get("by") == source_id:
            existing[(str(m.get("container")), row.type)] = row
    touched: list[int] = []
    links: list[Spec] = []
    for found in containers:
        for spec in specs_for(found, outcome.errors):
            if spec.parents is not None:
                links.append(spec)
            plugin: PluginInstance | None = existing.pop((spec.container, spec.type), None)
            typed = {**_user_fields(plugin), **spec.config}
            try:
                entry = plugin_type(registry, spec.type)
                data, _ = validate_config(entry, typed)
                assert entry.cls is not None
                interval, timeout, bad = timing.settle(entry.cls, typed, data, spec.interval, None)
                if plugin is not None:  # the run timeout is the user's, within the interval
                    timeout = min(plugin.timeout_seconds, interval)
                    bad = timing.fit(typed, data, interval, timeout)
                if bad:
                    raise InvalidInput(next(iter(bad.values())), bad)
            except InvalidInput as exc:
                said = "; ".join(f"{k} {v}" for k, v in (exc.fields or {}).items()) or str(exc)
                outcome.errors.append(f"container {spec.container}: {said} (from its labels)")
                if plugin is not None:
                    existing[(spec.container, spec.type)] = plugin  # keep it until fixed
                continue
            data[DISCOVERED_KEY] = {
                "by": source_id,
                "container": spec.container,
                "labels": spec.fields,
            }
            if plugin is None:
                plugin = PluginInstance(
                    name=spec.name,
                    type=spec.type,
                    config=data,
                    interval_seconds=interval,
                    timeout_seconds=timeout,
                    enabled=True,
                )
                plugin.health = unknown_health()
                session.add(plugin)
                try:
                    await commit_unique(session, "A plugin", spec.name)
                except DomainError as exc:
                    outcome.errors.append(f"container {spec.container}: {exc}")
                    continue
                outcome.created.append(spec.name)
            elif (plugin.config, plugin.interval_seconds, plugin.name) != (
                data,
                interval,
                spec.name,
            ):
                plugin.config, plugin.name = data, spec.name
                plugin.interval_seconds, plugin.timeout_seconds = interval, timeout
                try:
                    await commit_unique(session, "A plugin", spec.name)
                except DomainError as exc:
                    outcome.errors.append(f"container {spec.container}: {exc}")
                    continue
                outcome.updated.append(spec.name)
            else:
                continue
            touched.append(plugin.id)
    for gone in existing.values():
        outcome.retired.append(gone.name)
        touched.append(gone.id)
        await session.delete(gone)
    await _link(session, links, outcome.errors)
    await session.commit()
    # A bad label stays bad until its container is recreated: say so when it appears, not on
    # every run of the docker instance (each minute or so).
    seen = logged if logged is not None else {}
    fresh = [e for e in outcome.errors if e not in seen.get(source_id, frozenset())]
    seen[source_id] = frozenset(outcome.errors)
    for error in fresh:
        log.warning("label discovery: %s", error, extra={"plugin_id": source_id})
    if touched:
        log.info(
            "label discovery: %d created, %d updated, %d retired",
            len(outcome.created),
            len(outcome.updated),
            len(outcome.retired),
            extra={"plugin_id": source_id},
        )
    if scheduler is not None:
        for plugin_id in touched:
            await scheduler.sync(plugin_id)
    return outcome


async def _link(session: AsyncSession, specs: list[Spec], errors: list[str]) -> None:
    """Give the checks of labelled containers the parents their `unity.depends_on` names."""
    from app.services.plugins import dependencies
    from app.services.plugins.instances import list_plugins

    if not specs:
        return
    by_name = {p.name: p for p in await list_plugins(session)}
    edges = await dependencies.graph(session)
    for spec in specs:
        plugin = by_name.get(spec.name)
        if plugin is None or spec.parents is None:
            continue  # not created (its error is reported already)
        ids = set()
        for name in spec.parents:
            if name in by_name:
                ids.add(by_name[name].id)
            else:
                errors.append(
                    f"container {spec.container}: {DEPENDS_LABEL} names {name!r}, "
                    "which is no plugin; that parent is left out"
                )
        if ids == edges.get(plugin.id, set()):
            continue
        try:
            await dependencies.set_parents(session, plugin, sorted(ids))
        except InvalidInput as exc:
            errors.append(f"container {spec.container}: {DEPENDS_LABEL}: {exc}")


async def release(session: AsyncSession, source_id: int) -> list[int]:
    """Hand the checks a deleted docker instance found over to the user (unmarked, kept)."""
    from app.services.plugins.instances import list_plugins

    released = []
    for plugin in await list_plugins(session):
        m = marker(plugin)
        if m is not None and m.get("by") == source_id:
            plugin.config = without_marker(plugin.config)
            released.append(plugin.id)
    if released:
        await session.commit()
    return released


def _user_fields(plugin: PluginInstance | None) -> dict[str, Any]:
    """What the user set on a discovered instance (kept); label-set fields come anew."""
    if plugin is None:
        return {}
    labelled = set(((marker(plugin) or {}).get("labels") or {}).keys())
    return {k: v for k, v in without_marker(plugin.config).items() if k not in labelled}


def refuse_label_edits(
    plugin: PluginInstance, config: dict[str, Any] | None, interval: int | None
) -> None:
    """Raise InvalidInput when a change touches a field a container label sets."""
    m = marker(plugin)
    if m is None:
        return
    container = m.get("container")
    fields: dict[str, str] = {}
    for name, label in (m.get("labels") or {}).items():
        if name == "interval_seconds":
            changed = interval is not None and interval != plugin.interval_seconds
            key = "interval_seconds"
        else:
            changed = config is not None and config.get(name) != plugin.config.get(name)
            key = f"config.{name}"
        if changed:
            fields[key] = f"is set by the label {label} on container {container}; edit the label"
    if fields:
        raise InvalidInput(
            f"This plugin was discovered from the labels of container {container}: change "
            f"{', '.join(sorted(fields))} by editing the container's labels, not here.",
            fields,
        )


async def after_run(
    scheduler: PluginScheduler, source_id: int, found: list[dict[str, Any]]
) -> None:
    """Reconcile after a successful docker run; a failure here is logged, never raised."""
    containers = [
        FoundContainer(
            id=str(c.get("id", "")),
            name=str(c.get("name", "")),
            labels=dict(c.get("labels") or {}),
            address=c.get("address"),
        )
        for c in found
    ]
    try:
        async with scheduler.db.session() as session:
            logged = _LOGGED.setdefault(scheduler, {})
            await reconcile(
                session, scheduler.registry, scheduler.box, source_id, containers, scheduler, logged
            )
    except Exception:
        log.exception("label discovery failed", extra={"plugin_id": source_id})
