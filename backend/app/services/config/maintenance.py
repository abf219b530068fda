"""Maintenance windows in the configuration file, named by their name, plugins by theirs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from app.core.errors import InvalidInput
from app.models import MaintenanceWindow
from app.models.enums import MaintenanceKind
from app.services.alerts.maintenance import check_shape
from app.services.config.objects import iso, parse_iso
from app.services.config.schema import Entry, MaintenanceEntry
from app.services.config.sections import Context, Item, Problem, Problems, Reference, Section

# The fields each kind uses; the others are left out of the file (they mean nothing there).
_RECURRING = {
    MaintenanceKind.ONCE: (),
    MaintenanceKind.WEEKLY: ("weekdays", "start_time", "duration_seconds"),
    MaintenanceKind.CRON: ("cron", "duration_seconds"),
}


def _doc(fields: dict[str, Any], plugins: list[str]) -> dict[str, Any]:
    kind = MaintenanceKind(fields["kind"])
    doc: dict[str, Any] = {"name": fields["name"], "comment": fields["comment"]}
    doc["kind"] = kind.value
    doc["starts_at"] = iso(fields["starts_at"])
    doc["ends_at"] = None if fields["ends_at"] is None else iso(fields["ends_at"])
    for name in _RECURRING[kind]:
        doc[name] = fields[name]
    if "weekdays" in doc:
        doc["weekdays"] = sorted(set(doc["weekdays"]))
    doc["timezone"] = fields["timezone"]
    doc["all_plugins"] = fields["all_plugins"]
    doc["plugins"] = [] if fields["all_plugins"] else sorted(set(plugins))
    return doc


def _owners(doc: dict[str, Any]) -> list[Reference]:
    # A window for one plugin goes with it (like a silence); one for several stays.
    plugins = doc["plugins"]
    return [("plugins", plugins[0], ("plugins", 0))] if len(plugins) == 1 else []


class MaintenanceSection(Section):
    """Windows still to come or running; ended ones are history, neither exported nor pruned."""

    key = "maintenance_windows"
    label = "maintenance window"
    entry = MaintenanceEntry

    async def current(self, ctx: Context) -> list[Item]:
        rows = await ctx.session.scalars(
            select(MaintenanceWindow).where(
                or_(MaintenanceWindow.ends_at.is_(None), MaintenanceWindow.ends_at > ctx.now)
            )
        )
        known = {ident: name for name, ident in ctx.ids.get("plugins", {}).items()}
        items = []
        for w in rows:
            # ids of plugins deleted since cover nothing: they are left out
            plugins = [known[i] for i in w.plugin_ids if i in known]
            doc = _doc(vars(w), plugins)
            items.append(Item(w.name, doc, row=w, references=_owners(doc)))
        return sorted(items, key=lambda i: (i.key, i.doc["starts_at"], i.row.id))

    def skip_note(self, ctx: Context, entry: Entry) -> str | None:
        assert isinstance(entry, MaintenanceEntry)
        if entry.ends_at is not None and entry.ends_at <= ctx.now:
            return f"it ended at {iso(entry.ends_at)}, so it was not applied"
        return None

    def desired(self, ctx: Context, entry: Entry) -> Item:
        assert isinstance(entry, MaintenanceEntry)
        fields = entry.model_dump(exclude={"plugins"})
        if fields["starts_at"] is None:  # keep the start it has, so applying again changes nothing
            old = ctx.current.get(self.key, {}).get(entry.name)
            fields["starts_at"] = parse_iso(old.doc["starts_at"]) if old else ctx.now
        shape = {k: v for k, v in fields.items() if k in MaintenanceWindow.__table__.c}
        try:
            check_shape(MaintenanceWindow(**shape, plugin_ids=entry.plugins))
        except InvalidInput as exc:
            fields_wrong = exc.fields or {"": exc.detail}
            raise Problems(
                [
                    Problem(("plugins",) if k == "plugin_ids" else ((k,) if k else ()), v)
                    for k, v in fields_wrong.items()
                ]
            ) from None
        doc = _doc(fields, entry.plugins)
        refs: list[Reference] = [
            ("plugins", name, ("plugins", i)) for i, name in enumerate(entry.plugins)
        ]
        return Item(entry.name, doc, references=refs)

    def _apply(self, ctx: Context, window: MaintenanceWindow, item: Item) -> None:
        doc = item.doc
        window.name, window.comment, window.kind = doc["name"], doc["comment"], doc["kind"]
        window.starts_at = parse_iso(doc["starts_at"])
        window.ends_at = None if doc["ends_at"] is None else parse_iso(doc["ends_at"])
        window.weekdays = doc.get("weekdays", [])
        window.start_time = doc.get("start_time")
        window.duration_seconds = doc.get("duration_seconds")
        window.cron = doc.get("cron")
        window.timezone = doc["timezone"]
        window.all_plugins = doc["all_plugins"]
        window.plugin_ids = sorted(ctx.ids["plugins"][name] for name in doc["plugins"])

    async def create(self, ctx: Context, item: Item) -> int:
        window = MaintenanceWindow(created_by=ctx.user)
        self._apply(ctx, window, item)
        ctx.session.add(window)
        await ctx.session.flush()
        return window.id

    async def update(self, ctx: Context, current: Item, item: Item) -> None:
        self._apply(ctx, current.row, item)

    async def delete(self, ctx: Context, current: Item) -> None:
        await ctx.session.delete(current.row)
