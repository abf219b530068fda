"""Alerting: rules, per-series state, incidents, silences, notification channels, deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow

alert_rule_channels = Table(
    "alert_rule_channels",
    Base.metadata,
    Column("rule_id", Integer, ForeignKey("alert_rules.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "channel_id",
        Integer,
        ForeignKey("notification_channels.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class NotificationChannel(Base):
    __tablename__ = "notification_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # Fernet ciphertext of {"url": "<apprise url>"}: URLs carry tokens and passwords.
    url_encrypted: Mapped[str] = mapped_column(Text)
    # Apprise's name for the service ("JSON", "ntfy", "Discord"), safe to show.
    service: Mapped[str] = mapped_column(String(64), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    send_resolved: Mapped[bool] = mapped_column(Boolean, default=True)
    # Notices within this many seconds go out as one message; NULL: NOTIFY_GROUP_SECONDS.
    group_seconds: Mapped[int | None] = mapped_column(Integer)
    # Quiet hours ("HH:MM" local time in quiet_timezone; both NULL: none): notices are held
    # until they end and then sent as one message; critical ones pass if quiet_except_critical.
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    quiet_timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    quiet_except_critical: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AlertRule(Base):
    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # metric | health
    description: Mapped[str] = mapped_column(Text, default="")
    # None: every plugin (a health rule for all, or a metric name wherever it is reported).
    plugin_id: Mapped[int | None] = mapped_column(
        ForeignKey("plugins.id", ondelete="CASCADE"), index=True
    )
    metric: Mapped[str | None] = mapped_column(String(200))
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    op: Mapped[str] = mapped_column(String(2), default=">")
    threshold: Mapped[float] = mapped_column(Float, default=0.0)
    for_seconds: Mapped[int] = mapped_column(Integer, default=0)
    keep_firing_seconds: Mapped[int] = mapped_column(Integer, default=0)
    severity: Mapped[str] = mapped_column(String(16), default="warning")
    # 0: one firing notice; otherwise repeat it this often until resolved or acknowledged.
    repeat_seconds: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    channels: Mapped[list[NotificationChannel]] = relationship(
        secondary=alert_rule_channels, lazy="selectin", order_by=NotificationChannel.id
    )

    def snapshot(self) -> dict[str, Any]:
        """The rule as it was when an incident fired (kept even if the rule changes later)."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "plugin_id": self.plugin_id,
            "metric": self.metric,
            "labels": dict(self.labels or {}),
            "op": self.op,
            "threshold": self.threshold,
            "for_seconds": self.for_seconds,
            "keep_firing_seconds": self.keep_firing_seconds,
            "severity": self.severity,
            "repeat_seconds": self.repeat_seconds,
            "channel_ids": [c.id for c in self.channels],
        }


class AlertState(Base):
    """Where one rule stands for one series (metric rules) or one plugin (health rules)."""

    __tablename__ = "alert_states"
    __table_args__ = (UniqueConstraint("rule_id", "key", name="uq_alert_states_rule_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))  # "series:<id>" or "plugin:<id>"
    plugin_id: Mapped[int | None] = mapped_column(Integer)
    series_id: Mapped[int | None] = mapped_column(Integer)
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16))  # pending | firing | resolved
    active_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    firing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while firing and the condition is clear: resolution waits keep_firing_seconds from here.
    clear_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    value: Mapped[float | None] = mapped_column(Float)
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_incidents.id", ondelete="SET NULL")
    )


class AlertIncident(Base):
    """One firing and its resolution; survives the rule and the plugin it was about."""

    __tablename__ = "alert_incidents"
    __table_args__ = (Index("ix_alert_incidents_status_fired", "status", "fired_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_rules.id", ondelete="SET NULL"), index=True
    )
    rule_name: Mapped[str] = mapped_column(String(100))
    rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    kind: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    plugin_id: Mapped[int | None] = mapped_column(Integer, index=True)
    plugin_name: Mapped[str | None] = mapped_column(String(100))
    series_id: Mapped[int | None] = mapped_column(Integer)
    metric: Mapped[str | None] = mapped_column(String(200))
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16))  # firing | resolved
    summary: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)  # condition first true
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    value: Mapped[float | None] = mapped_column(Float)  # at firing
    last_value: Mapped[float | None] = mapped_column(Float)
    resolved_value: Mapped[float | None] = mapped_column(Float)
    resolved_reason: Mapped[str | None] = mapped_column(String(200))
    silenced: Mapped[bool] = mapped_column(Boolean, default=False)
    silence_id: Mapped[int | None] = mapped_column(Integer)
    notified: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when the plugin fired while a parent it depends on was down: the parent's id and name.
    suppressed_by_id: Mapped[int | None] = mapped_column(Integer, index=True)
    suppressed_by: Mapped[str | None] = mapped_column(String(100))
    last_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    ack_comment: Mapped[str | None] = mapped_column(Text)
    # It fired while the connectivity canary was down: its state is unknown, not down.
    network_down: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class IncidentEvent(Base):
    """One line of an incident's timeline: opened, children affected, notified, acked, resolved."""

    __tablename__ = "alert_incident_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("alert_incidents.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")


class AlertSilence(Base):
    """A maintenance window: notifications for matching incidents are held back."""

    __tablename__ = "alert_silences"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Both None: a global silence. Otherwise it covers one plugin and/or one rule.
    plugin_id: Mapped[int | None] = mapped_column(
        ForeignKey("plugins.id", ondelete="CASCADE"), index=True
    )
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationDelivery(Base):
    """One message to one channel, with its retry state."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("ix_notification_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="CASCADE"), index=True
    )
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # firing | resolved | test
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    notify_type: Mapped[str] = mapped_column(String(16), default="info")
    severity: Mapped[str | None] = mapped_column(String(16))  # of the incident, for quiet hours
    # Why it waits: group (the channel's group window), quiet (quiet hours); NULL: not held.
    held: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CanaryOutage(Base):
    """A time the connectivity canary was down (Unity's own network); open while ended_at is
    NULL."""

    __tablename__ = "canary_outages"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detail: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The "Unity lost its network" notice (with the alerts it held) was queued.
    announced: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
