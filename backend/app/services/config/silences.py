"""Silences in the configuration file: those still to come or running."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.models import AlertSilence
from app.services.config.objects import iso, name_of, parse_iso
from app.services.config.schema import Entry, SilenceEntry
from app.services.config.sections import (
    Context,
    Item,
    Problem,
    Problems,
    Reference,
    Section,
)


class SilencesSection(Section):
    """Silences still to come or running; ended ones are history, neither exported nor pruned."""

    key = "silences"
    label = "silence"
    entry = SilenceEntry

    @staticmethod
    def _key(doc: dict[str, Any]) -> str:
        plugin = doc["plugin"] or "every plugin"
        rule = doc["rule"] or "every rule"
        return f"{plugin} / {rule} from {doc['starts_at']}"

    async def current(self, ctx: Context) -> list[Item]:
        rows = await ctx.session.scalars(select(AlertSilence).where(AlertSilence.ends_at > ctx.now))
        items = []
        for s in rows:
            doc = {
                "plugin": name_of(ctx, "plugins", s.plugin_id),
                "rule": name_of(ctx, "alert_rules", s.rule_id),
                "starts_at": iso(s.starts_at),
                "ends_at": iso(s.ends_at),
                "comment": s.comment,
            }
            owners: list[Reference] = [
                (section, name, (field,))
                for section, field in (("plugins", "plugin"), ("alert_rules", "rule"))
                if (name := doc[field])
            ]
            items.append(Item(self._key(doc), doc, row=s, references=owners))
        return sorted(items, key=lambda i: (i.doc["starts_at"], i.key, i.row.id))

    def skip_note(self, ctx: Context, entry: Entry) -> str | None:
        assert isinstance(entry, SilenceEntry)
        if entry.ends_at <= ctx.now:
            return f"it ended at {iso(entry.ends_at)}, so it was not applied"
        return None

    def desired(self, ctx: Context, entry: Entry) -> Item | None:
        assert isinstance(entry, SilenceEntry)
        if entry.ends_at <= entry.starts_at:
            raise Problems([Problem(("ends_at",), "must be after starts_at")])
        doc = {
            "plugin": entry.plugin,
            "rule": entry.rule,
            "starts_at": iso(entry.starts_at),
            "ends_at": iso(entry.ends_at),
            "comment": entry.comment,
        }
        refs: list[Reference] = []
        if entry.plugin is not None:
            refs.append(("plugins", entry.plugin, ("plugin",)))
        if entry.rule is not None:
            refs.append(("alert_rules", entry.rule, ("rule",)))
        return Item(self._key(doc), doc, references=refs)

    async def create(self, ctx: Context, item: Item) -> int:
        plugin, rule = item.doc["plugin"], item.doc["rule"]
        silence = AlertSilence(
            plugin_id=None if plugin is None else ctx.ids["plugins"][plugin],
            rule_id=None if rule is None else ctx.ids["alert_rules"][rule],
            starts_at=parse_iso(item.doc["starts_at"]),
            ends_at=parse_iso(item.doc["ends_at"]),
            comment=item.doc["comment"],
            created_by=ctx.user,
        )
        ctx.session.add(silence)
        await ctx.session.flush()
        return silence.id

    async def update(self, ctx: Context, current: Item, item: Item) -> None:
        silence: AlertSilence = current.row
        silence.ends_at = parse_iso(item.doc["ends_at"])
        silence.comment = item.doc["comment"]

    async def delete(self, ctx: Context, current: Item) -> None:
        await ctx.session.delete(current.row)
