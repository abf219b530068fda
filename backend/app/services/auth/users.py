"""Who is calling: users, passwords, access tokens and API tokens."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.cache import ExpiringCache
from app.core.config import Settings
from app.core.errors import Conflict, Forbidden, NotFound, Unauthorized
from app.core.security import (
    API_TOKEN_PREFIX,
    TokenError,
    create_access_token,
    decode_access_token,
    hash_api_token,
    hash_password,
    new_api_token,
    verify_password,
)
from app.models import ApiToken, User

log = logging.getLogger(__name__)

ROLES = ("admin", "viewer")
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


async def user_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def create_user(session: AsyncSession, username: str, password: str, role: str) -> User:
    taken = Conflict(f"A user named {username!r} already exists; pick another name.")
    if await session.scalar(select(User.id).where(User.username == username)):
        raise taken
    user = User(username=username, password_hash=hash_password(password), role=role)
    session.add(user)
    try:
        await session.commit()
    except IntegrityError:  # the same name created concurrently (two first-run setups racing)
        await session.rollback()
        raise taken from None
    log.info("user created", extra={"user": username, "role": role})
    return user


async def setup_first_admin(session: AsyncSession, username: str, password: str) -> User:
    if await user_count(session):
        raise Conflict("Unity is already set up; sign in with an existing account instead.")
    return await create_user(session, username, password, "admin")


async def login(
    session: AsyncSession, settings: Settings, username: str, password: str
) -> tuple[str, int]:
    user = await session.scalar(select(User).where(User.username == username))
    if not verify_password(password, user.password_hash if user else None) or user is None:
        raise Unauthorized("Wrong username or password.")
    if user.disabled:
        raise Unauthorized("This account is disabled; ask an admin to enable it.")
    user.last_login_at = datetime.now(UTC)
    await session.commit()
    assert settings.jwt_secret_key  # nosec B101 # type narrowing for mypy; the invariant holds by construction
    return create_access_token(
        settings.jwt_secret_key,
        user.id,
        user.token_generation,
        settings.access_token_expire_minutes,
    )


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
    if token.startswith(API_TOKEN_PREFIX):
        api_token = await session.scalar(
            select(ApiToken).where(ApiToken.token_hash == hash_api_token(token))
        )
        if api_token is None:
            raise Unauthorized("This API token is unknown or was revoked.")
        if api_token.expires_at and api_token.expires_at <= now:
            raise Unauthorized("This API token has expired; create a new one.")
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
        assert settings.jwt_secret_key  # nosec B101 # type narrowing for mypy; the invariant holds by construction
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
    if user.role != "admin":
        raise Forbidden("This needs an admin account; viewers can only read.")
    return user


async def list_users(session: AsyncSession) -> list[User]:
    return list(await session.scalars(select(User).order_by(User.id)))


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


async def _keep_an_admin(session: AsyncSession, user: User) -> None:
    """Refuse to take away the last active admin: nobody could manage Unity afterwards."""
    if user.role != "admin" or user.disabled:
        return  # a viewer or an already disabled admin: no active admin is lost
    admins = await session.scalar(
        select(func.count()).select_from(User).where(User.role == "admin", User.disabled.is_(False))
    )
    if (admins or 0) <= 1:
        raise Conflict("This is the last active admin; make another user admin first.")


async def update_user(
    session: AsyncSession,
    actor: User,
    user_id: int,
    *,
    role: str | None = None,
    disabled: bool | None = None,
    password: str | None = None,
) -> User:
    user = await get_user(session, user_id)
    if (role is not None and role != "admin") or disabled is True:
        await _keep_an_admin(session, user)
    if role is not None:
        user.role = role
    if disabled is not None and disabled != user.disabled:
        user.disabled = disabled
        user.token_generation += 1
    if password is not None:
        user.password_hash = hash_password(password)
        user.token_generation += 1
    await session.commit()
    log.info(
        "user updated",
        extra={
            "user": user.username,
            "by": actor.username,
            "role": user.role,
            "disabled": user.disabled,
            "password_reset": password is not None,
        },
    )
    return user


async def change_own_password(session: AsyncSession, caller: User, current: str, new: str) -> None:
    user = await get_user(session, caller.id)  # the caller was looked up in another session
    if not verify_password(current, user.password_hash):
        raise Forbidden("The current password is wrong; your password was not changed.")
    user.password_hash = hash_password(new)
    user.token_generation += 1
    await session.commit()
    log.info("password changed", extra={"user": user.username})


async def delete_user(session: AsyncSession, actor: User, user_id: int) -> None:
    user = await get_user(session, user_id)
    if user.id == actor.id:
        raise Conflict("You cannot delete your own account; ask another admin.")
    await _keep_an_admin(session, user)
    await session.delete(user)  # its API tokens go with it (ON DELETE CASCADE)
    await session.commit()
    log.info("user deleted", extra={"user": user.username, "by": actor.username})


async def create_api_token(
    session: AsyncSession, user: User, name: str, expires_in_days: int | None
) -> tuple[ApiToken, str]:
    secret, prefix, digest = new_api_token()
    expires = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken(
        user_id=user.id, name=name, prefix=prefix, token_hash=digest, expires_at=expires
    )
    session.add(token)
    await session.commit()
    log.info("API token created", extra={"user": user.username, "token_prefix": prefix})
    return token, secret


async def list_api_tokens(session: AsyncSession, user: User) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if user.role != "admin":
        query = query.where(ApiToken.user_id == user.id)
    return list(await session.scalars(query))


async def revoke_api_token(session: AsyncSession, user: User, token_id: int) -> None:
    token = await session.get(ApiToken, token_id)
    if token is None or (token.user_id != user.id and user.role != "admin"):
        raise NotFound(f"No API token with id {token_id}.")
    await session.delete(token)
    await session.commit()
    log.info("API token revoked", extra={"user": user.username, "token_prefix": token.prefix})
