"""Browser sessions: an HttpOnly cookie the SPA signs in to, with a CSRF token bound to it.

JavaScript never sees the session secret (cookie `unity_session`, HttpOnly). It does read the
CSRF token (cookie `unity_csrf`) and sends it back in `X-CSRF-Token` on every state-changing
request: a cross-site form can make the browser send the cookie, but it cannot read the CSRF
cookie to copy it into a header. The CSRF token is an HMAC of the session secret, so it cannot
be forged for another session and needs no storage. Bearer tokens (JWT, API tokens) are not
cookies and need no CSRF token: curl and scripts keep working unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import Forbidden, NotFound, Unauthorized
from app.core.security import hash_api_token
from app.models import BrowserSession, User

SESSION_PREFIX = "ses_"
SESSION_COOKIE = "unity_session"
CSRF_COOKIE = "unity_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_LAST_SEEN_RESOLUTION = timedelta(minutes=1)


def csrf_token(settings: Settings, token: str) -> str:
    assert settings.jwt_secret_key
    mac = hmac.new(settings.jwt_secret_key.encode(), b"csrf:" + token.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def check_csrf(settings: Settings, token: str, header: str | None) -> None:
    """Forbidden unless `header` is the CSRF token of this session's cookie."""
    if not header or not hmac.compare_digest(header.encode(), csrf_token(settings, token).encode()):
        raise Forbidden(
            f"This request came with the session cookie but without a valid {CSRF_HEADER} "
            f"header; send the value of the {CSRF_COOKIE} cookie in it (or use a bearer token)."
        )


def lifetime(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.access_token_expire_minutes)


async def open_session(
    session: AsyncSession, settings: Settings, user: User, user_agent: str, address: str
) -> tuple[str, BrowserSession]:
    """A new session for `user`; returns the cookie secret (stored only as its hash)."""
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    row = BrowserSession(
        user_id=user.id,
        token_hash=hash_api_token(token),
        generation=user.token_generation,
        user_agent=user_agent[:200],
        address=address[:64],
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime(settings),
    )
    session.add(row)
    await session.commit()
    return token, row


async def identify(session: AsyncSession, token: str) -> tuple[User, datetime]:
    """The user behind a session cookie, and when the session expires; else Unauthorized."""
    row = await session.scalar(
        select(BrowserSession).where(BrowserSession.token_hash == hash_api_token(token))
    )
    now = datetime.now(UTC)
    if row is None:
        raise Unauthorized("This session has ended (signed out or revoked); sign in again.")
    if row.expires_at <= now:
        raise Unauthorized("This session has expired; sign in again.")
    user = await session.get(User, row.user_id)
    if user is None or user.disabled:
        raise Unauthorized("This account no longer exists or is disabled.")
    if row.generation != user.token_generation:
        raise Unauthorized(
            "This session ended because the password was changed or the account was "
            "disabled; sign in again."
        )
    if now - row.last_seen_at > _LAST_SEEN_RESOLUTION:
        row.last_seen_at = now
        await session.commit()
    return user, row.expires_at


async def end_session(session: AsyncSession, token: str) -> None:
    await session.execute(
        delete(BrowserSession).where(BrowserSession.token_hash == hash_api_token(token))
    )
    await session.commit()


async def list_sessions(session: AsyncSession, user: User) -> list[BrowserSession]:
    now = datetime.now(UTC)
    rows = await session.scalars(
        select(BrowserSession)
        .where(BrowserSession.user_id == user.id, BrowserSession.expires_at > now)
        .order_by(BrowserSession.last_seen_at.desc())
    )
    return [r for r in rows if r.generation == user.token_generation]


async def revoke(session: AsyncSession, user: User, session_id: int) -> None:
    row = await session.get(BrowserSession, session_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"You have no session with id {session_id}.")
    await session.delete(row)
    await session.commit()


def is_current(row: BrowserSession, token: str | None) -> bool:
    return token is not None and hmac.compare_digest(row.token_hash, hash_api_token(token))


_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def describe_agent(user_agent: str) -> str:
    """'Firefox on Linux' from a User-Agent header, for the sessions list."""
    browser = next((name for key, name in _BROWSERS if key in user_agent), None)
    system = next((name for key, name in _SYSTEMS if re.search(key, user_agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "an unknown browser"
