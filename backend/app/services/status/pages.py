"""Status pages as admins keep them: create, change, delete, with their groups checked."""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.security import hash_password
from app.db.queries import commit_unique, get_or_not_found
from app.models import PluginInstance, StatusPage
from app.services.status.logo import Logo

log = logging.getLogger(__name__)


def slugify(text: str) -> str:
    """'Nextcloud (web)' -> 'nextcloud-web': what a badge URL can carry."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:64].strip("-") or "item"


def keyed_groups(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every item gets a key unique on its page (from its name unless given)."""
    seen: set[str] = set()
    out = []
    for group in groups:
        items = []
        for item in group["items"]:
            key = item.get("key") or slugify(item["name"])
            if item.get("key") and key in seen:
                raise InvalidInput(
                    f"Two items share the key {key!r}; each needs its own (badge URLs use it).",
                    {"groups": f"duplicate key {key!r}"},
                )
            base, n = key, 2
            while key in seen:  # a made-up key that clashes gets a number
                key, n = f"{base[:60]}-{n}", n + 1
            seen.add(key)
            items.append({**item, "key": key})
        out.append({**group, "items": items})
    return out


def _announcements(notes: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    return [
        {**n, "posted_at": (n.get("posted_at") or now).isoformat()}
        for n in sorted(notes, key=lambda n: n.get("posted_at") or now, reverse=True)
    ]


async def _check_plugins(session: AsyncSession, groups: list[dict[str, Any]]) -> None:
    wanted = {item["plugin_id"] for group in groups for item in group["items"]}
    if not wanted:
        return
    found = set(
        await session.scalars(select(PluginInstance.id).where(PluginInstance.id.in_(wanted)))
    )
    missing = sorted(wanted - found)
    if missing:
        raise InvalidInput(
            f"No plugin with id {', '.join(map(str, missing))}; see GET /api/v1/plugins.",
            {"groups": f"unknown plugin ids: {missing}"},
        )


async def _check_domain(session: AsyncSession, page: StatusPage, domain: str) -> None:
    clash = await session.scalar(
        select(StatusPage.slug).where(StatusPage.custom_domain == domain, StatusPage.id != page.id)
        if page.id is not None
        else select(StatusPage.slug).where(StatusPage.custom_domain == domain)
    )
    if clash is not None:
        raise Conflict(
            f"The status page {clash!r} already answers on {domain!r}; a host name serves one page."
        )


async def _access(session: AsyncSession, page: StatusPage, data: dict[str, Any]) -> None:
    """Turn the write-only password into its hash; an empty string clears password or domain."""
    if "password" in data:
        password = data.pop("password")
        page.password_hash = hash_password(password) if password else None
    if "custom_domain" in data:
        data["custom_domain"] = data["custom_domain"] or None
        if data["custom_domain"]:
            await _check_domain(session, page, data["custom_domain"])
    if "embed_origins" in data:
        data["embed_origins"] = list(dict.fromkeys(data["embed_origins"]))


async def _apply(
    session: AsyncSession, page: StatusPage, data: dict[str, Any], now: datetime
) -> None:
    await _access(session, page, data)
    if "groups" in data:
        await _check_plugins(session, data["groups"])
        data["groups"] = keyed_groups(data["groups"])
    if "announcements" in data:
        data["announcements"] = _announcements(data["announcements"], now)
    for field, value in data.items():
        setattr(page, field, value)
    session.add(page)  # only now: the checks above must not flush a half-made page
    await commit_unique(session, "A status page", page.slug)


async def list_pages(session: AsyncSession) -> list[StatusPage]:
    return list(await session.scalars(select(StatusPage).order_by(StatusPage.slug)))


async def get_page(session: AsyncSession, page_id: int) -> StatusPage:
    return await get_or_not_found(
        session,
        StatusPage,
        page_id,
        f"No status page with id {page_id}; list them with GET /api/v1/status-pages.",
    )


async def published_page(session: AsyncSession, slug: str) -> StatusPage:
    """The published page at `slug`; an unpublished one is as absent as a missing one."""
    page = await session.scalar(
        select(StatusPage).where(StatusPage.slug == slug, StatusPage.published.is_(True))
    )
    if page is None:
        raise NotFound(f"There is no status page at {slug!r}.")
    return page


async def create_page(session: AsyncSession, data: dict[str, Any], now: datetime) -> StatusPage:
    page = StatusPage(slug=data["slug"], groups=[], announcements=[])
    await _apply(session, page, data, now)
    log.info("status page created", extra={"status_page_id": page.id})
    return page


async def update_page(
    session: AsyncSession, page: StatusPage, changes: dict[str, Any], now: datetime
) -> StatusPage:
    await _apply(session, page, changes, now)
    log.info("status page updated", extra={"status_page_id": page.id})
    return page


async def set_logo(session: AsyncSession, page: StatusPage, logo: Logo | None) -> StatusPage:
    page.logo = logo.data if logo else None
    page.logo_type = logo.media_type if logo else None
    page.logo_hash = logo.sha256 if logo else None
    await session.commit()
    log.info("status page logo %s", "set" if logo else "removed", extra={"status_page_id": page.id})
    return page


async def logo_of(session: AsyncSession, page: StatusPage) -> tuple[bytes, str, str] | None:
    """The logo's bytes, media type and hash (the bytes are not loaded with the page)."""
    row = (
        await session.execute(
            select(StatusPage.logo, StatusPage.logo_type, StatusPage.logo_hash).where(
                StatusPage.id == page.id
            )
        )
    ).first()
    if row is None or row[0] is None or row[1] is None or row[2] is None:
        return None
    return bytes(row[0]), row[1], row[2]


async def delete_page(session: AsyncSession, page: StatusPage) -> None:
    await session.delete(page)
    await session.commit()
    log.info("status page deleted", extra={"status_page_id": page.id})
