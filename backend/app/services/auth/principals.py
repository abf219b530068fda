"""Who is calling: the user behind a bearer token (JWT or API token), and a short cache of it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.cache import ExpiringCache
from app.core.config import Settings
from app.core.errors import Forbidden, Unauthorized
from app.core.security import API_TOKEN_PREFIX, TokenError, decode_access_token, hash_api_token
from app.models import ApiToken, User
from app.models.enums import Role
from app.services.auth import sessions

# Writing last_used_at on every request would turn reads into writes; once a minute is plenty.
_LAST_USED_RESOLUTION = timedelta(minutes=1)
# How long a token's owner, once looked up, answers GET and HEAD requests without another lookup.
PRINCIPAL_TTL_SECONDS = 10.0
PRINCIPALS_MAX = 1024


class Principals:
    """Who recently seen bearer tokens belong to, so reads skip the user lookup.

    Only GET and HEAD requests use it; anything that changes data looks the caller up again.
    A change to a user or the revocation of an API token made through this process empties
    the cache when it commits (see main.py); one made by another replica takes effect within
    PRINCIPAL_TTL_SECONDS. An entry never outlives its token. Keys are SHA-256 digests, so
    no bearer secret is kept after its request.
    """

    def __init__(self) -> None:
        self._cache: ExpiringCache[bytes, User] = ExpiringCache(PRINCIPALS_MAX)

    @property
    def epoch(self) -> int:
        return self._cache.epoch

    def get(self, token: str) -> User | None:
        return self._cache.get(hashlib.sha256(token.encode()).digest())

    def put(self, token: str, user: User, expires_at: datetime | None, epoch: int) -> None:
        ttl = PRINCIPAL_TTL_SECONDS
        if expires_at is not None:
            ttl = min(ttl, (expires_at - datetime.now(UTC)).total_seconds())
        self._cache.put(hashlib.sha256(token.encode()).digest(), user, ttl, epoch)

    def clear(self) -> None:
        self._cache.clear()


async def authenticate(session: AsyncSession, settings: Settings, token: str | None) -> User:
    """The active user a bearer token (JWT or API token) belongs to, else Unauthorized."""
    return (await identify(session, settings, token))[0]


async def identify(
    session: AsyncSession, settings: Settings, token: str | None
) -> tuple[User, datetime | None]:
    """authenticate(), and when the token itself expires (None: it does not)."""
    if not token:
        raise Unauthorized()
    now = datetime.now(UTC)
    if token.startswith(sessions.SESSION_PREFIX):
        return await sessions.identify(session, token)
    if token.startswith(API_TOKEN_PREFIX):
        api_token = await session.scalar(
            select(ApiToken).where(ApiToken.token_hash == hash_api_token(token))
        )
        if api_token is None:
            raise Unauthorized("This API token is unknown or was revoked.")
        if api_token.expires_at and api_token.expires_at <= now:
            raise Unauthorized("This API token has expired; create a new one.")
        if api_token.scope == "probe":
            raise Forbidden(
                f"This is a probe token for location {api_token.location!r}: it can only read "
                "that location's assignments and write its results (/api/v1/probes/…); use a "
                "user's API token or sign in for anything else."
            )
        user = await session.get(User, api_token.user_id)
        expires_at = api_token.expires_at
        if (
            user is not None
            and not user.disabled
            and (
                api_token.last_used_at is None
                or now - api_token.last_used_at > _LAST_USED_RESOLUTION
            )
        ):
            api_token.last_used_at = now
            await session.commit()
    else:
        assert settings.jwt_secret_key
        try:
            claims = decode_access_token(settings.jwt_secret_key, token)
        except TokenError as exc:
            raise Unauthorized(str(exc)) from None
        user = await session.get(User, int(claims["sub"]))
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
        # A password change or disable bumps the generation, ending every older session.
        if user is not None and claims["gen"] != user.token_generation:
            raise Unauthorized(
                "This session ended because the password was changed or the account was "
                "disabled; sign in again."
            )
    if user is None or user.disabled:
        raise Unauthorized("This account no longer exists or is disabled.")
    return user, expires_at


def require_admin(user: User) -> User:
    if user.role != Role.ADMIN:
        raise Forbidden("This needs an admin account; viewers can only read.")
    return user
