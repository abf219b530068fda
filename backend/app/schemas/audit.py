"""Audit log entries, recorded events and an incident's "what changed" window."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.models.enums import AuditAction, AuditVia
from app.schemas.common import ORM, UTCTime


class AuditEntryOut(ORM):
    id: int
    at: UTCTime
    actor: str = Field(description="The user's name; `unity` for Unity's own changes.")
    user_id: int | None
    token_id: int | None = Field(description="The API token used, when one was.")
    token_name: str | None
    via: AuditVia
    object_type: str = Field(
        description="plugin, alert_rule, channel, silence, maintenance_window, status_page, "
        "user, api_token or push_monitor."
    )
    object_id: str
    object_name: str
    action: AuditAction
    changes: dict[str, Any] = Field(
        description='Field → {"old", "new"} ({"new"} on create); secrets are the string '
        '"changed", never a value; many-to-many links are {"added", "removed"}.'
    )


class EventOut(ORM):
    id: int
    at: UTCTime
    plugin_id: int | None
    plugin_name: str
    kind: str = Field(
        description="container_restarted, container_oom_killed, container_image_changed, "
        "host_rebooted, certificate_renewed, config_changed (or a plugin's own kind)."
    )
    summary: str
    labels: dict[str, str]
    details: dict[str, Any]
    audit_id: int | None = Field(description="The audit entry a config_changed event comes from.")


class IncidentChangesOut(ORM):
    incident_id: int
    plugin_id: int | None
    started_at: UTCTime
    start: UTCTime = Field(description="15 minutes before the incident started.")
    end: UTCTime = Field(description="15 minutes after the incident started.")
    events: list[EventOut]
    audit: list[AuditEntryOut]
