"""Who is changing configuration right now: set per request (or per config-file apply)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import API_TOKEN_PREFIX, hash_api_token
from app.models import ApiToken, User
from app.models.enums import AuditVia


@dataclass(frozen=True)
class Actor:
    name: str
    via: AuditVia
    user_id: int | None = None
    token_id: int | None = None
    token_name: str | None = None


SYSTEM = Actor("unity", AuditVia.SYSTEM)

_current: ContextVar[Actor | None] = ContextVar("unity_audit_actor", default=None)


def current() -> Actor:
    """The actor of the running request or job; Unity itself when nobody is named."""
    return _current.get() or SYSTEM


def set_current(actor: Actor | None) -> None:
    _current.set(actor)


@contextlib.contextmanager
def acting(actor: Actor) -> Iterator[None]:
    """Attribute the changes made inside the block to `actor`."""
    token = _current.set(actor)
    try:
        yield
    finally:
        _current.reset(token)


async def for_request(
    session: AsyncSession, user: User, bearer: str | None, from_cookie: bool
) -> Actor:
    """The actor of a request: a browser session is the UI, a bearer token the API."""
    if from_cookie:
        return Actor(user.username, AuditVia.UI, user.id)
    if bearer and bearer.startswith(API_TOKEN_PREFIX):
        row = (
            await session.execute(
                select(ApiToken.id, ApiToken.name).where(
                    ApiToken.token_hash == hash_api_token(bearer)
                )
            )
        ).first()
        if row is not None:
            return Actor(user.username, AuditVia.API, user.id, row.id, row.name)
    return Actor(user.username, AuditVia.API, user.id)
