"""Status pages as admins write them: slug, texts, groups of plugins, announcements."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.schemas.common import ORM, UTCTime

SLUG = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
SLUG_HELP = "lower-case letters, digits and dashes, e.g. 'home-lab'"


class StatusItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plugin_id: int = Field(description="The plugin shown; never sent to the public page.")
    name: str = Field(min_length=1, max_length=100, description="The name visitors see.")
    key: str | None = Field(
        None,
        max_length=64,
        pattern=SLUG,
        description="The item's slug in badge URLs; made from `name` when left out.",
    )
    show_response_time: bool = Field(
        False, description="Also show the last check's response time (and its badge)."
    )
    badge: bool = Field(True, description="Serve SVG badges for it while the page is published.")


class StatusGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("", max_length=100, description="A section heading; may be empty.")
    items: list[StatusItem] = Field(default_factory=list, max_length=500)


class Announcement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    body: str = Field("", max_length=5000)
    posted_at: AwareDatetime | None = Field(None, description="Defaults to now.")
    active: bool = Field(True, description="Shown at the top until set false (resolved).")


class AnnouncementOut(Announcement):
    posted_at: UTCTime


class StatusPageBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=2000)
    footer: str = Field("", max_length=1000, description="Plain text under the page.")
    published: bool = Field(False, description="Only published pages answer without login.")
    groups: list[StatusGroup] = Field(default_factory=list, max_length=50)
    announcements: list[Announcement] = Field(default_factory=list, max_length=50)


class StatusPageCreate(StatusPageBase):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "slug": "home",
                    "title": "Home lab",
                    "published": True,
                    "groups": [{"name": "Services", "items": [{"plugin_id": 1, "name": "NAS"}]}],
                }
            ]
        },
    )

    slug: str = Field(max_length=64, pattern=SLUG, description=SLUG_HELP)


class StatusPageUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str | None = Field(None, max_length=64, pattern=SLUG, description=SLUG_HELP)
    title: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=2000)
    footer: str | None = Field(None, max_length=1000)
    published: bool | None = None
    groups: list[StatusGroup] | None = Field(None, max_length=50)
    announcements: list[Announcement] | None = Field(None, max_length=50)


class StatusItemOut(StatusItem):
    key: str


class StatusGroupOut(StatusGroup):
    items: list[StatusItemOut]  # type: ignore[assignment]


class StatusPageOut(ORM):
    id: int
    slug: str
    title: str
    description: str
    footer: str
    published: bool
    groups: list[StatusGroupOut]
    announcements: list[AnnouncementOut]
    created_at: UTCTime
    updated_at: UTCTime
