"""Plugin instances, their run history and their current health."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.enums import HealthStatus

# A plugin's parents: while one of them is down, the plugin's own alerts are suppressed.
# Deleting either side drops the edge (a child of a deleted parent simply has one parent fewer).
plugin_dependencies = Table(
    "plugin_dependencies",
    Base.metadata,
    Column("plugin_id", Integer, ForeignKey("plugins.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "parent_id",
        Integer,
        ForeignKey("plugins.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class PluginInstance(Base):
    __tablename__ = "plugins"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Fernet ciphertext of a JSON object holding the secret config fields.
    secrets: Mapped[str | None] = mapped_column(Text)
    interval_seconds: Mapped[int] = mapped_column(Integer, default=60)
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=30)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where it runs: None means the hub only; otherwise location names ("hub" for the hub).
    locations: Mapped[list[str] | None] = mapped_column(JSON)
    # K of "down from at least K of N locations" (None: 1).
    down_quorum: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    health: Mapped[PluginHealth | None] = relationship(
        back_populates="plugin", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )


class PluginRun(Base):
    __tablename__ = "plugin_runs"
    __table_args__ = (Index("ix_plugin_runs_plugin_started", "plugin_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16), default="schedule")  # schedule | manual
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[float | None]
    error: Mapped[str | None] = mapped_column(Text)
    sample_count: Mapped[int] = mapped_column(Integer, default=0)
    lateness_ms: Mapped[float | None]


class PluginHealth(Base):
    __tablename__ = "plugin_health"

    plugin_id: Mapped[int] = mapped_column(
        ForeignKey("plugins.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16), default=HealthStatus.UNKNOWN)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    plugin: Mapped[PluginInstance] = relationship(back_populates="health")
