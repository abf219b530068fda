"""History imported from other tools: resume points of file imports, and imported objects."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class ImportCheckpoint(Base):
    """How far an import of one file got: re-running it resumes here instead of starting over.

    `source` names the file by its content (size and a digest of its start), not by its path,
    so a moved file resumes and a different file with the same name starts afresh.
    """

    __tablename__ = "import_checkpoints"

    source: Mapped[str] = mapped_column(String(128), primary_key=True)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes committed
    line: Mapped[int] = mapped_column(BigInteger, default=0)  # lines committed
    samples: Mapped[int] = mapped_column(BigInteger, default=0)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ImportLink(Base):
    """A plugin made from an object of another tool (e.g. an Uptime Kuma monitor).

    `position` is how far that object's history is imported (the last heartbeat id), so a
    second run adds only what is new and never duplicates.
    """

    __tablename__ = "import_links"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    plugin_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("plugins.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
