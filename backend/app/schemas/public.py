"""What a signed-out visitor may see: its own models, holding only display names, states,
uptime figures and the admin's own texts. No plugin id, type, config, host, URL or error text
has a field here, so none can be sent, whatever the services hand over.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import UTCTime

PublicState = Literal["healthy", "degraded", "down", "maintenance", "unknown"]
PageState = Literal["operational", "degraded", "down", "maintenance", "unknown"]
PublicWindow = Literal["24h", "30d", "90d"]


class PublicFigures(BaseModel):
    percent: float | None = Field(description="100 * up / (up + down); null: nothing observed.")
    up_s: float
    down_s: float
    maintenance_s: float
    unknown_s: float


class PublicDay(PublicFigures):
    date: str = Field(description="The UTC day, YYYY-MM-DD.")


class PublicMonitor(BaseModel):
    key: str = Field(description="The slug in this monitor's badge URLs.")
    name: str
    status: PublicState
    since: UTCTime | None = Field(
        None, description="When the current state began (its last change), where known."
    )
    response_ms: float | None = Field(
        None, description="The last check's duration; only where the page shows it."
    )
    uptime: dict[PublicWindow, PublicFigures]
    days: list[PublicDay] = Field(description="The last 90 UTC days, oldest first.")


class PublicGroup(BaseModel):
    name: str
    monitors: list[PublicMonitor]


class PublicMaintenance(BaseModel):
    name: str
    starts_at: UTCTime
    ends_at: UTCTime | None
    active: bool
    monitors: list[str] = Field(description="Display names of the monitors it covers.")


class PublicAnnouncement(BaseModel):
    title: str
    body: str
    posted_at: UTCTime
    active: bool


class PublicStatusPage(BaseModel):
    slug: str
    title: str
    description: str
    footer: str
    logo: str | None = Field(None, description="The logo's URL path on this server; null: none.")
    status: PageState
    generated_at: UTCTime
    groups: list[PublicGroup]
    maintenance: list[PublicMaintenance] = Field(
        description="Windows in progress or starting within 7 days."
    )
    announcements: list[PublicAnnouncement] = Field(
        description="Active ones, and the ones posted in the last 14 days."
    )


class PublicSummaryMonitor(BaseModel):
    name: str
    status: PublicState
    uptime_30d: float | None


class PublicSummary(BaseModel):
    """Flat numbers for dashboard widgets (Homepage's customapi, Homarr)."""

    title: str
    status: PageState
    total: int
    up: int = Field(description="Monitors healthy now.")
    degraded: int
    down: int
    maintenance: int
    unknown: int
    uptime_24h: float | None
    uptime_30d: float | None
    uptime_90d: float | None
    monitors: list[PublicSummaryMonitor]


class StatusUnlock(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=128, description="The page's password.")


class StatusUnlocked(BaseModel):
    ok: Literal[True] = True
    expires_in: int = Field(description="Seconds the cookie that opens this page lasts.")


class FramePolicy(BaseModel):
    status_page: str | None = Field(
        description="The slug shown at / on this host (a custom domain); null: none."
    )
    frame_ancestors: str = Field(description="The CSP frame-ancestors sources for this HTML.")
