"""The audit log of configuration changes and the timeline of events plugins saw (issue 20)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    """One configuration change: who, through what, which object, and the field-level diff.

    `changes` maps a field to {"old": …, "new": …}, or to "changed" for a secret (plugin secret
    fields, channel URLs, passwords, token hashes): a secret's value is never stored here.
    Rows keep the actor's and object's names, so they outlive deleted users and objects.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100), default="")
    user_id: Mapped[int | None] = mapped_column(Integer)
    token_id: Mapped[int | None] = mapped_column(Integer)
    token_name: Mapped[str | None] = mapped_column(String(100))
    via: Mapped[str] = mapped_column(String(16))  # AuditVia
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), default="")
    object_name: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(16))  # AuditAction
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Event(Base):
    """Something a plugin saw happen (a container restart, a reboot, a renewed certificate),
    or a configuration change of a plugin; shown around incidents on their timeline."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_plugin_at", "plugin_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    plugin_id: Mapped[int | None] = mapped_column(
        ForeignKey("plugins.id", ondelete="SET NULL"), nullable=True
    )
    plugin_name: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(32))  # EventKind
    summary: Mapped[str] = mapped_column(Text, default="")
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    audit_id: Mapped[int | None] = mapped_column(Integer)
