"""Plugin dependencies: the parent graph, refusing loops, and proposing parents from configs.

A plugin's parents are the checks it cannot succeed without (the router for everything behind
it, a host's `ping` for that host's `ssh`). While a parent is down, the alert engine records a
child's alerts as suppressed instead of sending them; this module only owns the graph.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import InvalidInput
from app.models import PluginInstance, plugin_dependencies
from app.services.audit import recorder as audit_log
from app.services.plugins import discovery

Graph = dict[int, set[int]]  # plugin id -> its parents' ids

# Types whose target host can sit behind that host's `ping` check.
HOST_CHECKS = ("ssh", "docker", "tcp", "http")


async def graph(session: AsyncSession) -> Graph:
    out: Graph = {}
    rows = await session.execute(
        select(plugin_dependencies.c.plugin_id, plugin_dependencies.c.parent_id)
    )
    for child, parent in rows.all():
        out.setdefault(child, set()).add(parent)
    return out


async def parents_of(session: AsyncSession, plugin_id: int) -> list[int]:
    return sorted((await graph(session)).get(plugin_id, set()))


def descendants(edges: Graph, plugin_id: int) -> set[int]:
    """Every plugin that depends on `plugin_id`, directly or through others."""
    children: Graph = {}
    for child, parents in edges.items():
        for parent in parents:
            children.setdefault(parent, set()).add(child)
    seen: set[int] = set()
    todo = [plugin_id]
    while todo:
        for child in children.get(todo.pop(), set()):
            if child not in seen and child != plugin_id:
                seen.add(child)
                todo.append(child)
    return seen


def ancestors(edges: Graph, plugin_id: int) -> list[int]:
    """Parents, their parents and so on, nearest first."""
    out: list[int] = []
    todo = sorted(edges.get(plugin_id, set()))
    while todo:
        parent = todo.pop(0)
        if parent in out or parent == plugin_id:
            continue
        out.append(parent)
        todo.extend(sorted(edges.get(parent, set())))
    return out


def find_loop(edges: Graph, plugin_id: int, parents: Iterable[int]) -> list[int] | None:
    """The loop `plugin_id` would close with these parents, as ids from it back to it."""
    trial = {**edges, plugin_id: set(parents)}

    def path_from(node: int, trail: list[int]) -> list[int] | None:
        if node == plugin_id:
            return trail
        if node in trail:
            return None
        for parent in sorted(trial.get(node, set())):
            found = path_from(parent, [*trail, node])
            if found is not None:
                return found
        return None

    for parent in sorted(trial[plugin_id]):
        found = path_from(parent, [plugin_id])
        if found is not None:
            return [*found, plugin_id]
    return None


async def require_existing(session: AsyncSession, parents: Iterable[int]) -> dict[int, str]:
    """Every plugin's name by id; InvalidInput when one of `parents` is not among them."""
    rows = await session.execute(select(PluginInstance.id, PluginInstance.name))
    names = {plugin_id: name for plugin_id, name in rows.all()}
    missing = sorted(i for i in set(parents) if i not in names)
    if missing:
        raise InvalidInput(
            f"depends_on names no plugin with id {missing[0]}; list them with GET /api/v1/plugins.",
            {"depends_on": f"plugin {missing[0]} does not exist"},
        )
    return names


async def set_parents(session: AsyncSession, plugin: PluginInstance, parents: list[int]) -> None:
    """Replace a plugin's parents (in the caller's transaction); refuses unknown ids and loops."""
    wanted = sorted(set(parents))
    names = await require_existing(session, wanted)
    loop = find_loop(await graph(session), plugin.id, wanted)
    if loop is not None:
        path = " → ".join(names.get(i, plugin.name) for i in loop)
        raise InvalidInput(
            f"These parents would make a dependency loop: {path}. A plugin cannot depend, "
            "directly or through others, on itself; remove one of these links.",
            {"depends_on": f"makes the loop {path}"},
        )
    before = sorted(
        await session.scalars(
            select(plugin_dependencies.c.parent_id).where(
                plugin_dependencies.c.plugin_id == plugin.id
            )
        )
    )
    if before != wanted:
        await audit_log.note(session, plugin, {"depends_on": {"old": before, "new": wanted}})
    await session.execute(
        delete(plugin_dependencies).where(plugin_dependencies.c.plugin_id == plugin.id)
    )
    if wanted:
        await session.execute(
            insert(plugin_dependencies),
            [{"plugin_id": plugin.id, "parent_id": p} for p in wanted],
        )


async def set_parents_many(session: AsyncSession, parents: dict[int, list[int]]) -> None:
    """`set_parents` for many plugins in one go: one read of the graph, one delete, one insert.

    Judged on the graph with every change made (what the caller asks for as a whole), so a set
    of changes that turns links around is no loop. 10,000 plugins of a configuration file
    cost a few statements, not three whole-table reads each.
    """
    if not parents:
        return
    wanted = {plugin_id: sorted(set(ids)) for plugin_id, ids in parents.items()}
    names = await require_existing(session, [p for ids in wanted.values() for p in ids])
    edges = await graph(session)
    for plugin_id, ids in wanted.items():
        edges.pop(plugin_id, None)
        if ids:
            edges[plugin_id] = set(ids)
    for plugin_id, ids in wanted.items():
        loop = find_loop(edges, plugin_id, ids) if ids else None
        if loop is not None:
            path = " → ".join(names.get(i, f"#{i}") for i in loop)
            raise InvalidInput(
                f"These parents would make a dependency loop: {path}. A plugin cannot depend, "
                "directly or through others, on itself; remove one of these links.",
                {"depends_on": f"makes the loop {path}"},
            )
    ids_changed = list(wanted)
    for i in range(0, len(ids_changed), 500):  # bounded IN lists
        chunk = ids_changed[i : i + 500]
        await session.execute(
            delete(plugin_dependencies).where(plugin_dependencies.c.plugin_id.in_(chunk))
        )
    rows = [{"plugin_id": c, "parent_id": p} for c, ids in wanted.items() for p in ids]
    if rows:
        await session.execute(insert(plugin_dependencies), rows)


# ------------------------------------------------------------------------ proposals
@dataclass
class Proposal:
    plugin_id: int
    plugin_name: str
    parent_id: int
    parent_name: str
    reason: str


def normalize_host(text: str | None) -> str | None:
    """A host name or IP address in one spelling: lower case, no trailing dot, IPs canonical."""
    if not text:
        return None
    host = text.strip().strip("[]").rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host or None


def target_host(plugin_type: str, config: dict[str, Any]) -> str | None:
    """The host a check talks to, from its config (`host`, or the host of `url`)."""
    if plugin_type in ("ping", "ssh", "tcp"):
        return normalize_host(config.get("host"))
    if plugin_type in ("http", "docker"):
        url = str(config.get("url") or "")
        try:
            return normalize_host(urlsplit(url).hostname)
        except ValueError:
            return None
    return None


async def proposals(session: AsyncSession) -> list[Proposal]:
    """Parents worth adding: the same host's `ping` for host checks, and the `docker` plugin
    for checks found from its containers' labels. Parents a plugin already has are left out."""
    plugins = list(await session.scalars(select(PluginInstance).order_by(PluginInstance.id)))
    edges = await graph(session)
    by_id = {p.id: p for p in plugins}
    pings: dict[str, PluginInstance] = {}
    for p in plugins:
        host = target_host(p.type, p.config or {}) if p.type == "ping" else None
        if host is not None:
            pings.setdefault(host, p)
    out: list[Proposal] = []
    for p in plugins:
        have = edges.get(p.id, set())
        candidates: list[tuple[PluginInstance, str]] = []
        host = target_host(p.type, p.config or {}) if p.type in HOST_CHECKS else None
        if host is not None and host in pings:
            candidates.append((pings[host], f"pings {host}, the host this check targets"))
        found = discovery.marker(p)
        source = by_id.get(int(found.get("by") or 0)) if found else None
        if source is not None and found is not None:
            candidates.append((source, f"runs container {found.get('container')}"))
        for parent, reason in candidates:
            if parent.id in have or parent.id == p.id:
                continue
            if find_loop(edges, p.id, {*have, parent.id}) is not None:
                continue
            out.append(Proposal(p.id, p.name, parent.id, parent.name, reason))
    return out
