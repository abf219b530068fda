"""Uptime: push monitors, hourly/daily state durations, the roll-up cursor, maintenance windows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class PushMonitor(Base):
    """The secret of a `push` plugin and the last call it received."""

    __tablename__ = "push_monitors"

    plugin_id: Mapped[int] = mapped_column(
        ForeignKey("plugins.id", ondelete="CASCADE"), primary_key=True
    )
    # SHA-256 hex of the token: what a call is looked up by; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Fernet ciphertext of the token, so an admin can copy the URL again.
    token_encrypted: Mapped[str] = mapped_column(Text)
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[str | None] = mapped_column(String(8))  # up | down
    last_msg: Mapped[str | None] = mapped_column(String(500))
    last_ping_ms: Mapped[float | None] = mapped_column(Float)
    push_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class _Durations:
    up_s: Mapped[float] = mapped_column(Float, default=0.0)
    down_s: Mapped[float] = mapped_column(Float, default=0.0)
    maintenance_s: Mapped[float] = mapped_column(Float, default=0.0)
    unknown_s: Mapped[float] = mapped_column(Float, default=0.0)  # no data: Unity saw nothing


class UptimeHourly(_Durations, Base):
    __tablename__ = "uptime_hourly"

    plugin_id: Mapped[int] = mapped_column(
        ForeignKey("plugins.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)


class UptimeDaily(_Durations, Base):
    """One UTC day; the cum_ columns hold the totals from the plugin's first row through it,
    so a window is the difference of two rows (365 days for 1,000 plugins: 2,000 rows read).
    """

    __tablename__ = "uptime_daily"
    __table_args__ = (Index("ix_uptime_daily_day", "day"),)

    plugin_id: Mapped[int] = mapped_column(
        ForeignKey("plugins.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)  # 00:00 UTC
    cum_up_s: Mapped[float] = mapped_column(Float, default=0.0)
    cum_down_s: Mapped[float] = mapped_column(Float, default=0.0)
    cum_maintenance_s: Mapped[float] = mapped_column(Float, default=0.0)
    cum_unknown_s: Mapped[float] = mapped_column(Float, default=0.0)


class UptimeCursor(Base):
    """How far run history has been folded into the roll-ups."""

    __tablename__ = "uptime_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MaintenanceWindow(Base):
    """Planned work: mutes notifications and counts as maintenance, not downtime, in uptime."""

    __tablename__ = "maintenance_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    comment: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16))  # once | weekly | cron
    # once: the window itself. Recurring: no occurrence starts before starts_at or after ends_at.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)  # 0 = Monday
    start_time: Mapped[str | None] = mapped_column(String(5))  # "HH:MM" local
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    cron: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    all_plugins: Mapped[bool] = mapped_column(Boolean, default=False)
    plugin_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
