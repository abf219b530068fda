"""Uptime figures on the wire: each state's seconds beside the percentage."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.models.enums import UptimeWindow


class UptimeFigures(BaseModel):
    up_s: float = Field(description="Seconds the plugin's checks succeeded.")
    down_s: float = Field(description="Seconds its checks failed (errors, timeouts).")
    maintenance_s: float = Field(description="Seconds inside a maintenance window: not counted.")
    unknown_s: float = Field(
        description="Seconds without data (Unity was not running or checking) or while "
        "Unity's own network was down (the connectivity canary): neither up nor down."
    )
    percent: float | None = Field(
        description="100 * up / (up + down); null when nothing was observed."
    )


class UptimeDay(UptimeFigures):
    date: str = Field(description="The UTC day, YYYY-MM-DD.")


class PluginUptime(BaseModel):
    plugin_id: int
    windows: dict[UptimeWindow, UptimeFigures] = Field(
        description="Keyed 24h, 7d, 30d, 90d, 365d; days count in UTC and include today."
    )
    days: list[UptimeDay] = Field(description="The last 90 UTC days, oldest first.")


class UptimeItem(UptimeFigures):
    plugin_id: int
    name: str
    window: UptimeWindow
    days: list[UptimeDay]


class UptimeList(BaseModel):
    items: list[UptimeItem]
