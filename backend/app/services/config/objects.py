"""The kinds of objects configuration as code covered first: plugins, channels, rules, silences."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from app.core.errors import InvalidInput
from app.models import AlertRule, NotificationChannel, PluginInstance
from app.models.enums import RuleKind
from app.services.alerts.rules import RULE_FIELDS
from app.services.config.schema import ChannelEntry, Entry, PluginEntry, RuleEntry
from app.services.config.sections import (
    Context,
    Item,
    Problem,
    Problems,
    Reference,
    Section,
    problems_of,
)
from app.services.notify.channels import check_quiet
from app.services.notify.notifier import describe_url
from app.services.plugins import dependencies, discovery, timing
from app.services.plugins.instances import unknown_health
from app.services.probes.hub import HUB, check_assignment


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def name_of(ctx: Context, section: str, ident: int | None) -> str | None:
    if ident is None:
        return None
    for name, known in ctx.ids.get(section, {}).items():
        if known == ident:
            return name
    return f"#{ident}"  # not reachable with foreign keys; keeps the export honest if it happens


def _decrypt(ctx: Context, what: str, token: str | None) -> dict[str, Any]:
    try:
        return ctx.box.decrypt(token) if token else {}
    except ValueError as exc:
        raise InvalidInput(f"The stored credentials of {what} are unreadable: {exc}") from None


class PluginsSection(Section):
    key = "plugins"
    label = "plugin"
    entry = PluginEntry

    async def current(self, ctx: Context) -> list[Item]:
        items = []
        plugins = sorted(await ctx.session.scalars(select(PluginInstance)), key=lambda p: p.name)
        names = {p.id: p.name for p in plugins}
        edges = await dependencies.graph(ctx.session)
        for p in plugins:
            secrets = _decrypt(ctx, f"plugin {p.name!r}", p.secrets)
            entry = ctx.registry.get(p.type)
            secret_names = entry.cls.secret_fields() if entry and entry.cls else list(secrets)
            # the discovery marker is the label's bookkeeping, not config a file can set
            stored = discovery.without_marker(p.config or {})
            config = {k: v for k, v in stored.items() if k not in secret_names}
            config.update({k: v for k, v in secrets.items() if v is not None})
            doc = {
                "name": p.name,
                "type": p.type,
                "enabled": p.enabled,
                "interval_seconds": p.interval_seconds,
                "timeout_seconds": p.timeout_seconds,
                "config": dict(sorted(config.items())),
                "depends_on": sorted(names[i] for i in edges.get(p.id, ())),
                **_placement(p.locations, p.down_quorum),
            }
            secret = frozenset(f"config.{k}" for k in secret_names if k in config)
            items.append(Item(p.name, doc, secret, row=p))
        return items

    def desired(self, ctx: Context, entry: Entry) -> Item:
        assert isinstance(entry, PluginEntry)
        found = ctx.registry.get(entry.type)
        if found is None:
            known = ", ".join(t.type for t in ctx.registry.all())
            raise Problems([Problem(("type",), f"is not a plugin type; choose one of: {known}")])
        if found.cls is None:
            raise Problems([Problem(("type",), f"cannot be used here: {found.error}")])
        cls = found.cls
        try:
            model = cls.Config.model_validate(entry.config)
        except ValidationError as exc:
            problems = problems_of(exc, cls.Config).problems
            raise Problems([Problem(("config", *p.path), p.sentence) for p in problems]) from None
        secret_names = set(cls.secret_fields())
        data = model.model_dump(mode="json")
        config = {k: v for k, v in data.items() if not (k in secret_names and v is None)}
        interval, timeout, bad = timing.settle(
            cls, entry.config, config, entry.interval_seconds, entry.timeout_seconds
        )
        if bad:
            raise Problems([Problem(tuple(k.split(".")), v) for k, v in bad.items()])
        try:
            check_assignment(entry.locations, entry.down_quorum)
        except InvalidInput as exc:
            raise Problems([Problem(("locations",), str(exc).rstrip("."))]) from None
        doc = {
            "name": entry.name,
            "type": entry.type,
            "enabled": entry.enabled,
            "interval_seconds": interval,
            "timeout_seconds": timeout,
            "config": dict(sorted(config.items())),
            "depends_on": sorted(set(entry.depends_on)),
            **_placement(entry.locations, entry.down_quorum),
        }
        secret = frozenset(f"config.{k}" for k in secret_names if k in config)
        refs: list[Reference] = [
            ("plugins", name, ("depends_on", i)) for i, name in enumerate(entry.depends_on)
        ]
        return Item(entry.name, doc, secret, references=refs)

    def refuse_change(self, current: Item, item: Item) -> Problem | None:
        if current.doc["type"] != item.doc["type"]:
            return Problem(
                ("type",),
                f"the database's plugin {item.key!r} is of type {current.doc['type']!r}, and a "
                "type cannot change; give this one another name (--prune removes the old one)",
            )
        return None

    @staticmethod
    def _split(item: Item) -> tuple[dict[str, Any], dict[str, Any]]:
        config = item.doc["config"]
        secret = {p.split(".", 1)[1] for p in item.secret_fields}
        return (
            {k: v for k, v in config.items() if k not in secret},
            {k: v for k, v in config.items() if k in secret},
        )

    async def create(self, ctx: Context, item: Item) -> int:
        return (await self.create_many(ctx, [item]))[0]

    async def create_many(self, ctx: Context, items: list[Item]) -> list[int]:
        plugins = [self._new(ctx, item) for item in items]
        ctx.session.add_all(plugins)
        await ctx.session.flush()  # one batched INSERT ... RETURNING for all of them
        for plugin, item in zip(plugins, items, strict=True):
            ctx.plugins_touched.add(plugin.id)
            if item.doc["depends_on"]:  # a new plugin has no links to clear
                ctx.parents[plugin.id] = item.doc["depends_on"]
        return [plugin.id for plugin in plugins]

    def _new(self, ctx: Context, item: Item) -> PluginInstance:
        data, secrets = self._split(item)
        plugin = PluginInstance(
            name=item.doc["name"],
            type=item.doc["type"],
            config=data,
            secrets=ctx.box.encrypt(secrets) if secrets else None,
            interval_seconds=item.doc["interval_seconds"],
            timeout_seconds=item.doc["timeout_seconds"],
            enabled=item.doc["enabled"],
            locations=item.doc.get("locations"),
            down_quorum=item.doc.get("down_quorum"),
        )
        plugin.health = unknown_health()
        return plugin

    async def update(self, ctx: Context, current: Item, item: Item) -> None:
        plugin: PluginInstance = current.row
        data, secrets = self._split(item)
        if current.doc["config"] != item.doc["config"]:
            if (found := discovery.marker(plugin)) is not None:
                data[discovery.DISCOVERED_KEY] = found  # still the label's, after this edit too
            plugin.config = data
            plugin.secrets = ctx.box.encrypt(secrets) if secrets else None
        for field in ("enabled", "interval_seconds", "timeout_seconds"):
            setattr(plugin, field, item.doc[field])
        plugin.locations = item.doc.get("locations")
        plugin.down_quorum = item.doc.get("down_quorum")
        ctx.plugins_touched.add(plugin.id)
        if current.doc["depends_on"] != item.doc["depends_on"]:
            ctx.parents[plugin.id] = item.doc["depends_on"]

    async def link(self, ctx: Context) -> None:
        # Every changed plugin's links are replaced at once, so a file that turns a link
        # around is judged on what it asks for, not on a mix of old and new links.
        await dependencies.set_parents_many(
            ctx.session,
            {
                plugin_id: [ctx.ids["plugins"][name] for name in names]
                for plugin_id, names in ctx.parents.items()
            },
        )

    async def delete(self, ctx: Context, current: Item) -> None:
        ctx.plugins_touched.add(current.row.id)
        await ctx.session.delete(current.row)


# A channel's group window and quiet hours, as the file and the table name them.
CHANNEL_TIMING = (
    "group_seconds",
    "quiet_start",
    "quiet_end",
    "quiet_timezone",
    "quiet_except_critical",
)


class ChannelsSection(Section):
    key = "channels"
    label = "channel"
    entry = ChannelEntry

    async def current(self, ctx: Context) -> list[Item]:
        items = []
        rows = await ctx.session.scalars(select(NotificationChannel))
        for c in sorted(rows, key=lambda c: c.name):
            url = _decrypt(ctx, f"channel {c.name!r}", c.url_encrypted).get("url", "")
            doc = {
                "name": c.name,
                "url": url,
                "enabled": c.enabled,
                "send_resolved": c.send_resolved,
                **{f: getattr(c, f) for f in CHANNEL_TIMING},
            }
            items.append(Item(c.name, doc, frozenset({"url"}), row=c))
        return items

    def desired(self, ctx: Context, entry: Entry) -> Item:
        assert isinstance(entry, ChannelEntry)
        try:
            describe_url(entry.url)
        except InvalidInput as exc:  # the sentence names the scheme only, never the URL
            raise Problems([Problem(("url",), exc.detail)]) from None
        try:
            check_quiet(entry.quiet_start, entry.quiet_end, entry.quiet_timezone)
        except InvalidInput as exc:
            raise Problems([Problem((f,), m) for f, m in (exc.fields or {}).items()]) from None
        return Item(entry.name, entry.model_dump(mode="json"), frozenset({"url"}))

    async def create(self, ctx: Context, item: Item) -> int:
        channel = NotificationChannel(
            name=item.doc["name"],
            url_encrypted=ctx.box.encrypt({"url": item.doc["url"]}),
            service=describe_url(item.doc["url"]),
            enabled=item.doc["enabled"],
            send_resolved=item.doc["send_resolved"],
            **{f: item.doc[f] for f in CHANNEL_TIMING},
        )
        ctx.session.add(channel)
        await ctx.session.flush()
        return channel.id

    async def update(self, ctx: Context, current: Item, item: Item) -> None:
        channel: NotificationChannel = current.row
        if current.doc["url"] != item.doc["url"]:
            channel.url_encrypted = ctx.box.encrypt({"url": item.doc["url"]})
            channel.service = describe_url(item.doc["url"])
        channel.enabled = item.doc["enabled"]
        channel.send_resolved = item.doc["send_resolved"]
        for f in CHANNEL_TIMING:
            setattr(channel, f, item.doc[f])

    async def delete(self, ctx: Context, current: Item) -> None:
        await ctx.session.delete(current.row)


# The rule's own fields as the file names them (its plugin by name, not id), then its channels.
_RULE_FIELDS = (*("plugin" if f == "plugin_id" else f for f in RULE_FIELDS), "channels")


class RulesSection(Section):
    key = "alert_rules"
    label = "alert rule"
    entry = RuleEntry

    async def current(self, ctx: Context) -> list[Item]:
        items = []
        for r in sorted(await ctx.session.scalars(select(AlertRule)), key=lambda r: r.name):
            plugin = name_of(ctx, "plugins", r.plugin_id)
            doc: dict[str, Any] = {
                "name": r.name,
                "kind": r.kind,
                "description": r.description,
                "plugin": plugin,
                "metric": r.metric,
                "labels": dict(sorted((r.labels or {}).items())),
                "op": r.op,
                "threshold": float(r.threshold),
                "for_seconds": r.for_seconds,
                "keep_firing_seconds": r.keep_firing_seconds,
                "severity": r.severity,
                "repeat_seconds": r.repeat_seconds,
                "enabled": r.enabled,
                "channels": sorted(c.name for c in r.channels),
            }
            owner: list[Reference] = [("plugins", plugin, ("plugin",))] if plugin else []
            items.append(Item(r.name, doc, row=r, references=owner))
        return items

    def desired(self, ctx: Context, entry: Entry) -> Item:
        assert isinstance(entry, RuleEntry)
        doc = entry.model_dump(mode="json")
        doc = {k: doc[k] for k in _RULE_FIELDS}
        if entry.kind == RuleKind.HEALTH:
            doc["metric"], doc["labels"] = None, {}
        elif not entry.metric:
            raise Problems(
                [Problem(("metric",), "is required for a metric rule: a sample name, e.g. cpu")]
            )
        doc["labels"] = dict(sorted(doc["labels"].items()))
        doc["threshold"] = float(doc["threshold"])
        doc["channels"] = sorted(set(entry.channels))
        refs: list[Reference] = [
            ("channels", name, ("channels", i)) for i, name in enumerate(entry.channels)
        ]
        if entry.plugin is not None:
            refs.append(("plugins", entry.plugin, ("plugin",)))
        return Item(entry.name, doc, references=refs)

    async def _apply(self, ctx: Context, rule: AlertRule, item: Item) -> None:
        for field in _RULE_FIELDS[:-1]:
            if field != "plugin":
                setattr(rule, field, item.doc[field])
        plugin = item.doc["plugin"]
        rule.plugin_id = None if plugin is None else ctx.ids["plugins"][plugin]
        ids = [ctx.ids["channels"][name] for name in item.doc["channels"]]
        rows = await ctx.session.scalars(
            select(NotificationChannel).where(NotificationChannel.id.in_(ids))
        )
        rule.channels = sorted(rows, key=lambda c: c.id)
        ctx.rules_touched = True

    async def create(self, ctx: Context, item: Item) -> int:
        rule = AlertRule(labels={}, channels=[])
        await self._apply(ctx, rule, item)
        ctx.session.add(rule)
        await ctx.session.flush()
        return rule.id

    async def update(self, ctx: Context, current: Item, item: Item) -> None:
        await self._apply(ctx, current.row, item)

    async def delete(self, ctx: Context, current: Item) -> None:
        ctx.rules_touched = True
        await ctx.session.delete(current.row)


def _placement(locations: list[str] | None, down_quorum: int | None) -> dict[str, Any]:
    """Locations and K, only when not the default (the hub alone, K=1): older files stay equal."""
    out: dict[str, Any] = {}
    if locations and locations != [HUB]:
        out["locations"] = list(locations)
    if down_quorum and down_quorum != 1:
        out["down_quorum"] = down_quorum
    return out
