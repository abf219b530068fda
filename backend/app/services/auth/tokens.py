"""Long-lived API tokens for scripts: create, list (your own, or all for an admin), revoke."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import InvalidInput, NotFound
from app.core.security import new_api_token
from app.models import ApiToken, User
from app.models.enums import Role
from app.services.probes.hub import HUB, PROBE_SCOPE, check_location

log = logging.getLogger(__name__)


async def create_api_token(
    session: AsyncSession,
    user: User,
    name: str,
    expires_in_days: int | None,
    scope: str = "full",
    location: str | None = None,
) -> tuple[ApiToken, str]:
    """A token with the user's rights, or (scope "probe") one a remote probe at `location` uses."""
    if scope == PROBE_SCOPE:
        if not location:
            raise InvalidInput(
                'A probe token needs the probe\'s "location" (e.g. "vps-1").',
                {"location": "required with scope probe"},
            )
        check_location(location)
        if location == HUB:
            raise InvalidInput('"hub" is the hub itself; give the probe a location of its own.')
    elif location is not None:
        raise InvalidInput('Only a probe token has a "location"; add "scope": "probe".')
    secret, prefix, digest = new_api_token()
    expires = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=prefix,
        token_hash=digest,
        expires_at=expires,
        scope=PROBE_SCOPE if scope == PROBE_SCOPE else None,
        location=location if scope == PROBE_SCOPE else None,
    )
    session.add(token)
    await session.commit()
    log.info("API token created", extra={"user": user.username, "token_prefix": prefix})
    return token, secret


async def list_api_tokens(session: AsyncSession, user: User) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if user.role != Role.ADMIN:
        query = query.where(ApiToken.user_id == user.id)
    return list(await session.scalars(query))


async def revoke_api_token(session: AsyncSession, user: User, token_id: int) -> None:
    token = await session.get(ApiToken, token_id)
    if token is None or (token.user_id != user.id and user.role != Role.ADMIN):
        raise NotFound(f"No API token with id {token_id}.")
    await session.delete(token)
    await session.commit()
    log.info("API token revoked", extra={"user": user.username, "token_prefix": token.prefix})
