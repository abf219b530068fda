"""Time series: one `series` row per plugin+name+labels, raw `samples`, and two roll-up tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class Series(Base):
    __tablename__ = "series"
    __table_args__ = (
        UniqueConstraint("plugin_id", "name", "labels_key", name="uq_series_identity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(32), default="")
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Canonical "k=v,k=v" form of labels: what makes the identity unique.
    labels_key: Mapped[str] = mapped_column(String(1000), default="")
    # The newest sample, kept here by the writer so dashboards never scan `samples`.
    last_ts: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_value: Mapped[float | None] = mapped_column(Float)


class Sample(Base):
    """Raw samples. On PostgreSQL the table is range-partitioned by day on `ts`.

    No foreign key to `series`: rows of a deleted series are invisible to queries (they join
    `series`) and leave with their partition, instead of a cascading delete over millions of rows.
    """

    __tablename__ = "samples"

    series_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    ts: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class SampleChunk(Base):
    """Raw samples of one series' closed hour, packed (see app.services.metrics.chunks).

    `start` is the hour, `n` the number of samples, `data` their encoded times and values.
    On PostgreSQL `data` is compressed with lz4 by TOAST and the `samples_all` view shows
    `samples` and the decoded chunks together as `(series_id, ts, value)`.
    """

    __tablename__ = "sample_chunks"

    series_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class _Rollup:
    series_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    ts: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    vmin: Mapped[float] = mapped_column(Float)
    vmax: Mapped[float] = mapped_column(Float)
    vsum: Mapped[float] = mapped_column(Float)
    vcount: Mapped[int] = mapped_column(Integer)
    vlast: Mapped[float] = mapped_column(Float)


class Rollup1m(_Rollup, Base):
    __tablename__ = "samples_1m"


class Rollup1h(_Rollup, Base):
    __tablename__ = "samples_1h"


class RollupState(Base):
    """How far each roll-up tier is complete; queries read raw data beyond it."""

    __tablename__ = "rollup_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    done_until: Mapped[datetime] = mapped_column(UTCDateTime)


class RollupDirty(Base):
    """A roll-up bucket of one series that got data after its tier had passed it (late data).

    The writer adds the key in the transaction that stores the late sample; the next
    maintenance pass rebuilds exactly these buckets and deletes their keys.
    """

    __tablename__ = "rollup_dirty"

    tier: Mapped[str] = mapped_column(String(8), primary_key=True)
    series_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    bucket: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
