"""Status pages as configuration: `status_pages:` entries naming plugins by name.

Announcements are posted in the UI or API as things happen and are not part of the file: apply
leaves them as they are.
"""

from __future__ import annotations

from pydantic import Field

from app.core.errors import InvalidInput
from app.models import StatusPage
from app.schemas.status import SLUG, SLUG_HELP
from app.services.config.schema import Entry
from app.services.config.sections import Context, Item, Problem, Problems, Reference, Section
from app.services.status import pages

ITEM_FIELDS = ("name", "key", "show_response_time", "badge")
PAGE_FIELDS = ("slug", "title", "description", "footer", "published")


class StatusItemEntry(Entry):
    plugin: str = Field(min_length=1, max_length=100, description="A plugin's name.")
    name: str = Field(min_length=1, max_length=100, description="The name visitors see.")
    key: str | None = Field(None, max_length=64, pattern=SLUG, description="Default: from name.")
    show_response_time: bool = False
    badge: bool = True


class StatusGroupEntry(Entry):
    name: str = Field("", max_length=100)
    items: list[StatusItemEntry] = Field(default_factory=list, max_length=500)


class StatusPageEntry(Entry):
    """A public status page; each item's `plugin` names a plugin of this file or the database."""

    slug: str = Field(max_length=64, pattern=SLUG, description=SLUG_HELP)
    title: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=2000)
    footer: str = Field("", max_length=1000)
    published: bool = False
    groups: list[StatusGroupEntry] = Field(default_factory=list, max_length=50)


class StatusPagesSection(Section):
    key = "status_pages"
    label = "status page"
    entry = StatusPageEntry

    async def current(self, ctx: Context) -> list[Item]:
        names = {ident: name for name, ident in ctx.ids.get("plugins", {}).items()}
        items = []
        for page in await pages.list_pages(ctx.session):
            groups = [
                {
                    "name": g["name"],
                    "items": [
                        {"plugin": names[i["plugin_id"]], **{k: i[k] for k in ITEM_FIELDS}}
                        for i in g["items"]
                        if i["plugin_id"] in names  # a deleted plugin has left the page
                    ],
                }
                for g in page.groups
            ]
            doc = {**{f: getattr(page, f) for f in PAGE_FIELDS}, "groups": groups}
            items.append(Item(page.slug, doc, row=page))
        return items

    def desired(self, ctx: Context, entry: Entry) -> Item:
        assert isinstance(entry, StatusPageEntry)
        doc = entry.model_dump(mode="json")
        try:
            doc["groups"] = pages.keyed_groups(doc["groups"])
        except InvalidInput as exc:
            raise Problems([Problem(("groups",), exc.detail)]) from None
        refs: list[Reference] = [
            ("plugins", item["plugin"], ("groups", gi, "items", ii, "plugin"))
            for gi, group in enumerate(doc["groups"])
            for ii, item in enumerate(group["items"])
        ]
        return Item(entry.slug, doc, references=refs)

    def _apply(self, ctx: Context, page: StatusPage, item: Item) -> None:
        for field in PAGE_FIELDS:
            setattr(page, field, item.doc[field])
        page.groups = [
            {
                "name": g["name"],
                "items": [
                    {"plugin_id": ctx.ids["plugins"][i["plugin"]], **{k: i[k] for k in ITEM_FIELDS}}
                    for i in g["items"]
                ],
            }
            for g in item.doc["groups"]
        ]

    async def create(self, ctx: Context, item: Item) -> int:
        page = StatusPage(announcements=[])
        self._apply(ctx, page, item)
        ctx.session.add(page)
        await ctx.session.flush()
        return page.id

    async def update(self, ctx: Context, current: Item, item: Item) -> None:
        self._apply(ctx, current.row, item)

    async def delete(self, ctx: Context, current: Item) -> None:
        await ctx.session.delete(current.row)
