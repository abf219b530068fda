"""Who may see a status page, and where: its visitors' password, custom domain and embedding.

A protected page hands a visitor who knows its password a token for that page alone (a JWT
the browser keeps in an HttpOnly cookie); the token names the page and a fingerprint of its
password hash, so changing or removing the password ends every token given out before.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import TooManyRequests, Unauthorized
from app.core.security import JWT_ALGORITHM, verify_password
from app.models import StatusPage
from app.services.auth.login_limits import RateLimiter

TOKEN_TYPE = "status-page"  # noqa: S105 - a claim value  # nosec B105
TOKEN_DAYS = 30
COOKIE_PREFIX = "unity_status_"
COOKIE_PATH = "/api/v1/public/"
NEEDS_PASSWORD = "This status page is protected: enter its password to see it."  # noqa: S105  # nosec B105
WRONG_PASSWORD = "That password does not open this status page."  # noqa: S105  # nosec B105
NO_FRAMING = "'none'"
# Per address and per page, in a minute; tighter than sign-in since nothing else is at stake.
UNLOCK_PER_ADDRESS = 10
UNLOCK_PER_PAGE = 30


def cookie_name(slug: str) -> str:
    return COOKIE_PREFIX + slug


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def page_token(settings: Settings, page: StatusPage, now: datetime | None = None) -> str:
    if page.password_hash is None:
        raise ValueError("an open page hands out no tokens")
    now = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "typ": TOKEN_TYPE,
        "sub": page.slug,
        "pid": page.id,
        "pw": _fingerprint(page.password_hash),
        "iat": now,
        "exp": now + timedelta(days=TOKEN_DAYS),
    }
    return jwt.encode(claims, settings.jwt_secret_key or "", algorithm=JWT_ALGORITHM)


def token_opens(settings: Settings, page: StatusPage, token: str | None) -> bool:
    """Whether `token` was given out for this page under its current password."""
    if not token or page.password_hash is None:
        return False
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret_key or "",
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "typ", "sub", "pid", "pw"]},
        )
    except jwt.PyJWTError:
        return False
    return (
        claims["typ"] == TOKEN_TYPE
        and claims["pid"] == page.id
        and hmac.compare_digest(str(claims["pw"]), _fingerprint(page.password_hash))
    )


def check_visitor(settings: Settings, page: StatusPage, token: str | None) -> None:
    """Raise 401 when the page is protected and `token` does not open it."""
    if page.password_hash is not None and not token_opens(settings, page, token):
        raise Unauthorized(NEEDS_PASSWORD)


def _limit(limiter: RateLimiter, key: str, limit: int) -> None:
    wait = limiter.retry_after(key, limit)
    if wait > 0:
        seconds = int(wait) + 1
        raise TooManyRequests(
            f"Too many wrong passwords; try again in {seconds} seconds.",
            headers={"Retry-After": str(seconds)},
        )


def unlock(
    settings: Settings,
    limiter: RateLimiter,
    page: StatusPage | None,
    address: str,
    password: str,
) -> str:
    """A token for `page` if `password` opens it.

    A missing, unpublished or open page answers exactly as a wrong password does (and as
    slowly), so guessing slugs here tells nothing about which pages exist.
    """
    page_key = "status-page:" + (page.slug if page else "-")
    ip_key = "status-ip:" + address
    _limit(limiter, ip_key, UNLOCK_PER_ADDRESS)
    _limit(limiter, page_key, UNLOCK_PER_PAGE)
    stored = page.password_hash if page is not None else None
    if page is None or not verify_password(password, stored):
        limiter.hit(ip_key)
        limiter.hit(page_key)
        raise Unauthorized(WRONG_PASSWORD)
    return page_token(settings, page)


def normal_host(host: str) -> str:
    """'Status.Example.org:443' -> 'status.example.org': how a Host header is compared."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("["):  # an IPv6 literal never names a page
        return ""
    return host.rsplit(":", 1)[0] if ":" in host else host


async def page_for_host(session: AsyncSession, host: str) -> StatusPage | None:
    """The published page whose custom domain is `host`, if any."""
    name = normal_host(host)
    if not name:
        return None
    return await session.scalar(
        select(StatusPage).where(
            func.lower(StatusPage.custom_domain) == name, StatusPage.published.is_(True)
        )
    )


def frame_ancestors(page: StatusPage | None) -> str:
    """The CSP frame-ancestors source list for a page's HTML ('none' unless it allows some)."""
    if page is None or not page.embed_origins:
        return NO_FRAMING
    return " ".join(page.embed_origins)


def html_csp(base_csp: str, ancestors: str) -> str:
    """`base_csp` (which ends in frame-ancestors 'none') with the page's own ancestors."""
    head, sep, _ = base_csp.rpartition("frame-ancestors ")
    return f"{head}{sep}{ancestors}" if sep else f"{base_csp}; frame-ancestors {ancestors}"


@dataclass(frozen=True)
class HtmlPolicy:
    """For the SPA's HTML at one path on one host: the page it shows at `/` on a custom domain
    (None: the SPA routes by path as usual) and who may frame it."""

    status_page: str | None
    frame_ancestors: str


async def html_policy(session: AsyncSession, host: str, path: str) -> HtmlPolicy:
    path = path.split("?", 1)[0].split("#", 1)[0]
    if path in ("", "/"):
        page = await page_for_host(session, host)
        return HtmlPolicy(page.slug if page else None, frame_ancestors(page))
    if path.startswith("/status/"):
        slug = path[len("/status/") :].strip("/").split("/", 1)[0]
        page = await session.scalar(
            select(StatusPage).where(StatusPage.slug == slug, StatusPage.published.is_(True))
        )
        return HtmlPolicy(None, frame_ancestors(page))
    return HtmlPolicy(None, NO_FRAMING)
