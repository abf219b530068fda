"""Maintenance windows on the wire: one-off, weekly or cron, in an IANA time zone."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.models.enums import MaintenanceKind
from app.schemas.common import ORM, UTCTime

HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class MaintenanceFields(BaseModel):
    """A window's own fields; the API names its plugins by id, a configuration file by name."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    comment: str = Field("", max_length=2000)
    kind: MaintenanceKind = MaintenanceKind.ONCE
    starts_at: AwareDatetime | None = Field(
        None, description="once: when it begins. Recurring: no occurrence before this (now)."
    )
    ends_at: AwareDatetime | None = Field(
        None, description="once: when it ends (required). Recurring: no occurrence after this."
    )
    weekdays: list[int] = Field(
        default_factory=list, description="weekly: 0 = Monday … 6 = Sunday, in `timezone`."
    )
    start_time: str | None = Field(None, pattern=HHMM, description="weekly: local HH:MM.")
    duration_seconds: int | None = Field(
        None, ge=60, le=7 * 86400, description="weekly and cron: how long each occurrence lasts."
    )
    cron: str | None = Field(
        None, max_length=100, description="cron: a crontab line in `timezone`, 0 = Sunday."
    )
    timezone: str = Field("UTC", max_length=64, description="IANA name, e.g. Europe/Berlin.")
    all_plugins: bool = False


class MaintenanceBase(MaintenanceFields):
    plugin_ids: list[int] = Field(default_factory=list, max_length=10_000)


class MaintenanceCreate(MaintenanceBase):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "NAS firmware",
                    "kind": "once",
                    "starts_at": "2026-01-10T22:00:00Z",
                    "ends_at": "2026-01-11T00:00:00Z",
                    "plugin_ids": [2],
                },
                {
                    "name": "Sunday backups",
                    "kind": "weekly",
                    "weekdays": [6],
                    "start_time": "03:00",
                    "duration_seconds": 7200,
                    "timezone": "Europe/Berlin",
                    "all_plugins": True,
                },
            ]
        },
    )


class MaintenanceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    comment: str | None = Field(None, max_length=2000)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    weekdays: list[int] | None = None
    start_time: str | None = Field(None, pattern=HHMM)
    duration_seconds: int | None = Field(None, ge=60, le=7 * 86400)
    cron: str | None = Field(None, max_length=100)
    timezone: str | None = Field(None, max_length=64)
    all_plugins: bool | None = None
    plugin_ids: list[int] | None = Field(None, max_length=10_000)


class MaintenanceOut(ORM):
    id: int
    name: str
    comment: str
    kind: MaintenanceKind
    starts_at: UTCTime
    ends_at: UTCTime | None
    weekdays: list[int]
    start_time: str | None
    duration_seconds: int | None
    cron: str | None
    timezone: str
    all_plugins: bool
    plugin_ids: list[int]
    created_by: str
    created_at: UTCTime
    active: bool = Field(False, description="An occurrence is in progress now.")
    next_start: UTCTime | None = Field(None, description="When the next occurrence begins.")
