"""Public status pages: what a page shows, chosen by an admin; groups and notes kept as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class StatusPage(Base):
    __tablename__ = "status_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    footer: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    # [{"name", "items": [{"plugin_id", "name", "key", "show_response_time", "badge"}]}]: read
    # and written whole with the page, never queried inside, so one column keeps it in one place.
    groups: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # [{"title", "body", "posted_at", "active"}]: incident notes written for the public.
    announcements: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Visitors' password (Argon2); None: the page is open to anyone.
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    # A host name the page also answers on at `/` (lower case, no port).
    custom_domain: Mapped[str | None] = mapped_column(String(253), unique=True, default=None)
    # Origins allowed to frame the page (CSP frame-ancestors); empty: nobody may.
    embed_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The logo image itself (PNG, WebP or sanitised SVG, <= 256 KB), its media type and sha256.
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    logo_type: Mapped[str | None] = mapped_column(String(32), default=None)
    logo_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    @property
    def logo_url(self) -> str | None:
        """Where the public API serves the logo; the version in it lets browsers keep it."""
        if self.logo_hash is None:
            return None
        return f"/api/v1/public/status/{self.slug}/logo?v={self.logo_hash[:12]}"
