"""Dependencies shared by routes: the app state, a DB session per request, and the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Forbidden
from app.models import User
from app.services.audit import actor as audit_actor
from app.services.auth import principals, sessions
from app.state import AppState

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


async def get_state(request: Request) -> AppState:
    # async on purpose: FastAPI runs a plain `def` dependency in a worker thread, a thread
    # switch on every request for one attribute lookup.
    state: AppState = request.app.state.unity
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_session(request: Request, state: StateDep) -> AsyncIterator[AsyncSession]:
    # GET and HEAD routes only read (and an API token's once-a-minute last-used stamp, one
    # statement): they get autocommit sessions, two round trips fewer per request.
    async with state.db.session(read_only=request.method in ("GET", "HEAD")) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_current_user(
    request: Request, state: StateDep, token: Annotated[str | None, Depends(oauth2)]
) -> User:
    """The caller; looked up in a session of its own, which reads skip for a recent token.

    A bearer token wins; without one, the browser's session cookie counts, and then a
    state-changing request must also carry the session's CSRF token.
    """
    if not token and (cookie := request.cookies.get(sessions.SESSION_COOKIE)):
        token = cookie
        if request.method not in sessions.SAFE_METHODS:
            sessions.check_csrf(state.settings, cookie, request.headers.get(sessions.CSRF_HEADER))
    reading = request.method in ("GET", "HEAD")
    if reading and token and (user := state.principals.get(token)) is not None:
        return user
    epoch = state.principals.epoch
    async with state.db.session(read_only=True) as session:
        user, expires_at = await principals.identify(session, state.settings, token)
        if not reading:  # whoever changes something is named in the audit log
            browser = token is not None and token.startswith(sessions.SESSION_PREFIX)
            audit_actor.set_current(await audit_actor.for_request(session, user, token, browser))
    if reading:
        state.principals.put(token or "", user, expires_at, epoch)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_admin_user(user: CurrentUser, state: StateDep) -> User:
    principals.require_admin(user)
    if state.settings.totp_required_for_admins and not user.totp_enabled:
        raise Forbidden(
            "Admins must use two-factor sign-in here (TOTP_REQUIRED_FOR_ADMINS); turn it on "
            "under Settings → Two-factor first."
        )
    return user


AdminUser = Annotated[User, Depends(get_admin_user)]
