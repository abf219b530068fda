"""Status pages as admins write them: slug, texts, groups of plugins, announcements."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from app.schemas.common import ORM, UTCTime

SLUG = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
SLUG_HELP = "lower-case letters, digits and dashes, e.g. 'home-lab'"


HOST = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
HOST_HELP = "a lower-case host name with a dot, no scheme or port, e.g. status.example.org"
# What CSP frame-ancestors takes as a source: an http(s) origin (a leading *. for subdomains)
# or 'self'. Nothing with a space or ';' can pass, so nothing can be added to the header.
ORIGIN = r"^(?:'self'|https?://(?:\*\.)?[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?(?::[0-9]{1,5})?)$"
Origin = Annotated[str, StringConstraints(max_length=300, pattern=ORIGIN)]
LOCK_HELP = (
    "Visitors must enter this password (8 to 128 characters) to see the page; stored hashed, "
    "never returned. In a change, an empty string removes it."
)
DOMAIN_HELP = (
    "The page also answers at / on this host name (point its DNS at Unity). In a change, an "
    "empty string removes it."
)
EMBED_HELP = (
    "Origins that may show the page in a frame (CSP frame-ancestors), e.g. "
    "https://home.example.org; empty: no site may frame it."
)


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
    password: str | None = Field(None, min_length=8, max_length=128, description=LOCK_HELP)
    custom_domain: str | None = Field(None, max_length=253, pattern=HOST, description=DOMAIN_HELP)
    embed_origins: list[Origin] = Field(default_factory=list, max_length=20, description=EMBED_HELP)


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
    password: str | None = Field(
        None, pattern=r"^(?:|.{8,128})$", description=LOCK_HELP, max_length=128
    )
    custom_domain: str | None = Field(
        None, max_length=253, pattern="^(?:" + HOST[1:-1] + ")?$", description=DOMAIN_HELP
    )
    embed_origins: list[Origin] | None = Field(None, max_length=20, description=EMBED_HELP)


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
    has_password: bool = Field(description="Whether visitors need a password.")
    custom_domain: str | None
    embed_origins: list[str]
    logo_url: str | None = Field(description="The logo's public URL path; null: no logo.")
    created_at: UTCTime
    updated_at: UTCTime


class LogoFetch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        max_length=2048,
        description="An http(s) URL of a PNG, WebP or SVG image (<= 256 KB), fetched once.",
    )
