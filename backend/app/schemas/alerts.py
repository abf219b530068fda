"""Alert rules, states, incidents, silences, notification channels and deliveries on the wire."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.models.enums import AlertStateName as StateName  # the name the API has always used
from app.models.enums import (
    Comparison,
    DeliveryKind,
    DeliveryStatus,
    IncidentEventKind,
    IncidentStatus,
    RuleKind,
    Severity,
)
from app.schemas.common import ORM, UTCTime

WEEK = 7 * 86400
LabelKey = Annotated[str, Field(min_length=1, max_length=100)]
LabelValue = Annotated[str, Field(max_length=500)]


class RuleCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Disk almost full",
                    "kind": "metric",
                    "plugin_id": 1,
                    "metric": "disk_percent",
                    "labels": {"mount": "/"},
                    "op": ">",
                    "threshold": 90,
                    "for_seconds": 300,
                    "keep_firing_seconds": 120,
                    "severity": "warning",
                    "channel_ids": [1],
                },
                {
                    "name": "Any plugin down 5 min",
                    "kind": "health",
                    "plugin_id": None,
                    "for_seconds": 300,
                    "severity": "critical",
                    "channel_ids": [1],
                },
            ]
        },
    )

    name: str = Field(min_length=1, max_length=100)
    kind: RuleKind = RuleKind.METRIC
    description: str = Field("", max_length=2000)
    plugin_id: int | None = Field(None, description="None: every plugin.")
    metric: str | None = Field(
        None, min_length=1, max_length=200, description="Sample name; required for metric rules."
    )
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict,
        max_length=50,
        description="Exact-match label matchers (metric rules).",
    )
    op: Comparison = Comparison.GT
    threshold: float = 0.0
    for_seconds: int = Field(
        60,
        ge=0,
        le=WEEK,
        description="How long the condition (health rules: 'down') must hold before firing.",
    )
    keep_firing_seconds: int = Field(
        60,
        ge=0,
        le=WEEK,
        description="How long the condition must stay clear before a firing alert resolves.",
    )
    severity: Severity = Severity.WARNING
    repeat_seconds: int = Field(
        0,
        ge=0,
        le=WEEK,
        description="Repeat the firing notice this often until it resolves or is acknowledged; "
        "0: one notice.",
    )
    enabled: bool = True
    channel_ids: list[int] = Field(default_factory=list)


class RuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    kind: RuleKind | None = None
    description: str | None = Field(None, max_length=2000)
    plugin_id: int | None = None
    metric: str | None = Field(None, min_length=1, max_length=200)
    labels: dict[LabelKey, LabelValue] | None = Field(None, max_length=50)
    op: Comparison | None = None
    threshold: float | None = None
    for_seconds: int | None = Field(None, ge=0, le=WEEK)
    keep_firing_seconds: int | None = Field(None, ge=0, le=WEEK)
    severity: Severity | None = None
    repeat_seconds: int | None = Field(None, ge=0, le=WEEK)
    enabled: bool | None = None
    channel_ids: list[int] | None = None


class RuleOut(BaseModel):
    id: int
    name: str
    kind: RuleKind
    description: str
    plugin_id: int | None
    metric: str | None
    labels: dict[str, str]
    op: Comparison
    threshold: float
    for_seconds: int
    keep_firing_seconds: int
    severity: Severity
    repeat_seconds: int
    enabled: bool
    channel_ids: list[int]
    pending: int = Field(description="Series or plugins currently pending for this rule.")
    firing: int = Field(description="Series or plugins currently firing for this rule.")
    created_at: UTCTime
    updated_at: UTCTime


class StateOut(ORM):
    id: int
    rule_id: int
    key: str
    plugin_id: int | None
    series_id: int | None
    labels: dict[str, str]
    state: StateName
    active_since: UTCTime | None
    firing_since: UTCTime | None
    clear_since: UTCTime | None
    resolved_at: UTCTime | None
    value: float | None
    evaluated_at: UTCTime | None
    incident_id: int | None


class IncidentOut(ORM):
    id: int
    rule_id: int | None
    rule_name: str
    rule: dict[str, Any] = Field(description="The rule as it was when the incident fired.")
    kind: RuleKind
    severity: Severity
    plugin_id: int | None
    plugin_name: str | None
    series_id: int | None
    metric: str | None
    labels: dict[str, str]
    status: IncidentStatus
    summary: str
    started_at: UTCTime
    fired_at: UTCTime
    resolved_at: UTCTime | None
    value: float | None
    last_value: float | None
    resolved_value: float | None
    resolved_reason: str | None
    silenced: bool = Field(description="It fired during a silence (notifications held back).")
    silence_id: int | None
    notified: bool
    suppressed_by_id: int | None = Field(
        None, description="The parent plugin that was down when this fired (nothing was sent)."
    )
    suppressed_by: str | None = Field(None, description="That parent's name.")
    network_down: bool = Field(
        False,
        description="It fired while Unity's own network was down (the canary): state unknown.",
    )
    last_notified_at: UTCTime | None = None
    acknowledged_at: UTCTime | None = None
    acknowledged_by: str | None = None
    ack_comment: str | None = None


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field("", max_length=2000, examples=["on it: the router is rebooting"])


class AffectedOut(ORM):
    """An incident of a dependent, suppressed while this incident's plugin was down."""

    id: int
    plugin_id: int | None
    plugin_name: str | None
    status: IncidentStatus
    summary: str
    fired_at: UTCTime
    resolved_at: UTCTime | None


class IncidentEventOut(ORM):
    at: UTCTime
    kind: IncidentEventKind
    detail: str


class DeliveryOut(ORM):
    id: int
    channel_id: int
    incident_id: int | None
    kind: DeliveryKind
    title: str
    body: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: UTCTime | None
    held: str | None = Field(
        None, description="Why it waits: group (window), quiet (quiet hours); null: not held."
    )
    last_error: str | None
    created_at: UTCTime
    sent_at: UTCTime | None


class IncidentDetail(IncidentOut):
    deliveries: list[DeliveryOut]
    affected: list[AffectedOut] = Field(
        description="Dependents that went down while this incident's plugin was down."
    )
    timeline: list[IncidentEventOut] = Field(
        description="Opened, suppressed, dependents affected, notified, acknowledged, resolved."
    )


class SilenceCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "plugin_id": 1,
                    "starts_at": "2026-01-10T22:00:00Z",
                    "ends_at": "2026-01-11T02:00:00Z",
                    "comment": "NAS firmware upgrade",
                }
            ]
        },
    )

    plugin_id: int | None = Field(None, description="None (and no rule_id): silences everything.")
    rule_id: int | None = Field(None, description="Only this rule's alerts.")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    comment: str = Field("", max_length=2000)


class SilenceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plugin_id: int | None = None
    rule_id: int | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    comment: str | None = Field(None, max_length=2000)


class SilenceOut(ORM):
    id: int
    plugin_id: int | None
    rule_id: int | None
    starts_at: UTCTime
    ends_at: UTCTime
    comment: str
    created_by: str
    created_at: UTCTime
    active: bool = False


HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
GROUP_DOC = (
    "Notices within this many seconds go out as one message (0: each at once; "
    "null: NOTIFY_GROUP_SECONDS, 30 by default)."
)
QUIET_DOC = 'Quiet hours, "HH:MM" in quiet_timezone (both or neither; may span midnight).'


class ChannelCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Phone (ntfy)",
                    "url": "ntfys://ntfy.sh/my-homelab-alerts",
                    "enabled": True,
                    "send_resolved": True,
                    "group_seconds": 30,
                    "quiet_start": "23:00",
                    "quiet_end": "07:00",
                    "quiet_timezone": "Europe/Berlin",
                    "quiet_except_critical": True,
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=3, max_length=4000, description="An Apprise URL; stored encrypted.")
    enabled: bool = True
    send_resolved: bool = Field(True, description="Also send a notice when an alert resolves.")
    group_seconds: int | None = Field(None, ge=0, le=3600, description=GROUP_DOC)
    quiet_start: str | None = Field(None, pattern=HHMM, description=QUIET_DOC)
    quiet_end: str | None = Field(None, pattern=HHMM, description=QUIET_DOC)
    quiet_timezone: str = Field("UTC", min_length=1, max_length=64, description="IANA name.")
    quiet_except_critical: bool = Field(
        True, description="Critical alerts are sent during quiet hours all the same."
    )


class ChannelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    url: str | None = Field(
        None,
        min_length=3,
        max_length=4000,
        description='"********" or absent keeps the stored URL.',
    )
    enabled: bool | None = None
    send_resolved: bool | None = None
    group_seconds: int | None = Field(None, ge=0, le=3600, description=GROUP_DOC)
    quiet_start: str | None = Field(None, pattern=HHMM, description=QUIET_DOC + " null: none.")
    quiet_end: str | None = Field(None, pattern=HHMM, description=QUIET_DOC + " null: none.")
    quiet_timezone: str | None = Field(None, min_length=1, max_length=64)
    quiet_except_critical: bool | None = None


class ChannelOut(ORM):
    id: int
    name: str
    url: str = Field(description='Always "********": the URL is never returned.')
    service: str = Field(description="Apprise's name for the service, e.g. ntfy or Discord.")
    enabled: bool
    send_resolved: bool
    group_seconds: int | None = Field(description=GROUP_DOC)
    quiet_start: str | None = Field(description=QUIET_DOC)
    quiet_end: str | None
    quiet_timezone: str
    quiet_except_critical: bool
    quiet_now: bool = Field(False, description="Quiet hours are on now.")
    created_at: UTCTime
    updated_at: UTCTime


class ChannelTestOut(BaseModel):
    ok: bool
    error: str | None
    delivery: DeliveryOut
