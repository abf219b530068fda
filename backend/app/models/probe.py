"""Remote probes: each location's last check-in, and each plugin's latest result per location."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime
from app.models.enums import HealthStatus


class Probe(Base):
    """A location that checked in with a probe token (created on its first heartbeat)."""

    __tablename__ = "probes"

    location: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_seconds: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    version: Mapped[str] = mapped_column(String(64), default="", server_default="")
    spooled: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    dropped_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    results_total: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # The Idempotency-Key of the last batch taken: the same batch again (its answer was lost) is
    # answered, not stored twice.
    last_batch: Mapped[str | None] = mapped_column(String(128))


class PluginLocation(Base):
    """The latest outcome of one plugin at one location (the hub's too, once it has others)."""

    __tablename__ = "plugin_locations"

    plugin_id: Mapped[int] = mapped_column(
        ForeignKey("plugins.id", ondelete="CASCADE"), primary_key=True
    )
    location: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(
        String(16), default=HealthStatus.UNKNOWN, server_default="unknown"
    )
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    sample_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
