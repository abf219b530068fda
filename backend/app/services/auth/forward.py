"""Forward auth: the user a trusted proxy in front (Authelia, Authentik, Traefik) vouches for."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import Forbidden, Unauthorized
from app.core.security import hash_password
from app.models import User
from app.models.enums import Role

log = logging.getLogger(__name__)


def vouched_username(settings: Settings, header: str | None, peer: str, trusted: bool) -> str:
    """The username in FORWARD_AUTH_HEADER, believed only from a trusted proxy."""
    name = settings.forward_auth_header
    if not name:
        raise Forbidden("Forward auth is off; set FORWARD_AUTH_HEADER to use it.")
    if not trusted:
        if header:
            log.warning(
                "forward-auth header ignored: not from a trusted proxy",
                extra={"header": name, "peer": peer},
            )
        raise Forbidden(
            f"The {name} header counts only from an address in TRUSTED_PROXIES; this request "
            f"came from {peer[:64]}."
        )
    if not header or not header.strip():
        raise Unauthorized(f"The proxy in front sent no {name} header: sign in there first.")
    return header.strip()[:64]


async def user_for(session: AsyncSession, settings: Settings, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        if not settings.forward_auth_auto_create:
            raise Forbidden(
                f"The proxy signed you in as {username!r}, but Unity has no such user; ask an "
                "admin to create it, or set FORWARD_AUTH_AUTO_CREATE=true."
            )
        user = User(
            username=username,
            password_hash=hash_password(secrets.token_urlsafe(32)),  # no usable password
            role=Role.VIEWER,
        )
        session.add(user)
        log.info("forward-auth user created", extra={"user": username})
    if user.disabled:
        raise Unauthorized("This account is disabled; ask an admin to enable it.")
    user.last_login_at = datetime.now(UTC)
    await session.commit()
    return user
