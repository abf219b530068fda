"""User accounts: first-run setup, sign-in, CRUD and password changes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import Conflict, Forbidden, Unauthorized
from app.core.security import (
    create_access_token,
    hash_password,
    verify_password,
)
from app.db.queries import get_or_not_found
from app.models import User
from app.models.enums import Role

log = logging.getLogger(__name__)


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


async def setup_first_admin(
    session: AsyncSession,
    username: str,
    password: str,
    authorize: Callable[[], None] = lambda: None,
    done: Callable[[], None] = lambda: None,
) -> User:
    """The first admin; `authorize` raises if the caller may not (setup code), `done` runs after."""
    if await user_count(session):
        raise Conflict("Unity is already set up; sign in with an existing account instead.")
    authorize()
    user = await create_user(session, username, password, Role.ADMIN)
    done()
    return user


async def check_password(session: AsyncSession, username: str, password: str) -> User:
    """The active user with this username and password (sign-in stamped), else Unauthorized."""
    user = await session.scalar(select(User).where(User.username == username))
    if not verify_password(password, user.password_hash if user else None) or user is None:
        raise Unauthorized("Wrong username or password.")
    if user.disabled:
        raise Unauthorized("This account is disabled; ask an admin to enable it.")
    user.last_login_at = datetime.now(UTC)
    await session.commit()
    return user


def access_token(settings: Settings, user: User) -> tuple[str, int]:
    """A JWT for `user` and its lifetime in seconds."""
    assert settings.jwt_secret_key
    return create_access_token(
        settings.jwt_secret_key,
        user.id,
        user.token_generation,
        settings.access_token_expire_minutes,
    )


async def list_users(session: AsyncSession) -> list[User]:
    return list(await session.scalars(select(User).order_by(User.id)))


async def get_user(session: AsyncSession, user_id: int) -> User:
    return await get_or_not_found(session, User, user_id, f"No user with id {user_id}.")


async def _keep_an_admin(session: AsyncSession, user: User) -> None:
    """Refuse to take away the last active admin: nobody could manage Unity afterwards."""
    if user.role != Role.ADMIN or user.disabled:
        return  # a viewer or an already disabled admin: no active admin is lost
    admins = await session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.disabled.is_(False))
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
    if (role is not None and role != Role.ADMIN) or disabled is True:
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
