"""/api/v1/auth: first-run setup, login (OAuth2 password form), the current user."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import CurrentUser, SessionDep, StateDep
from app.core.errors import AUTH, Conflict, Forbidden, TooManyRequests, Unauthorized, responses
from app.models import User
from app.schemas.auth import PasswordChange, SetupRequest, SetupStatus, TokenResponse, UserOut
from app.services.auth import users as auth
from app.services.auth.login_limits import client_address

router = APIRouter(prefix="/auth", tags=["auth"])


@router.get("/setup", response_model=SetupStatus, summary="Whether first-run setup is still open")
async def setup_status(session: SessionDep) -> dict[str, bool]:
    return {"needs_setup": await auth.user_count(session) == 0}


@router.post(
    "/setup",
    response_model=UserOut,
    status_code=201,
    responses=responses(Conflict),
    summary="Create the first admin (only while no user exists)",
)
async def setup(body: SetupRequest, session: SessionDep) -> User:
    return await auth.setup_first_admin(session, body.username, body.password)


@router.post(
    "/login",
    response_model=TokenResponse,
    responses=responses(Unauthorized, TooManyRequests),
    summary="Exchange username and password for an access token",
)
async def login(
    request: Request,
    state: StateDep,
    session: SessionDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> dict[str, Any]:
    settings = state.settings
    limiter = state.login_limiter
    # The peer's X-Forwarded-For counts only when the peer is a trusted proxy (nginx).
    ip_key = "ip:" + client_address(request, await state.trusted_proxies.networks())
    user_key = "user:" + form.username.lower()
    ip_wait = limiter.retry_after(ip_key, settings.login_rate_per_minute_ip)
    user_wait = limiter.retry_after(user_key, settings.login_rate_per_minute_user)
    if ip_wait > 0 or user_wait > 0:
        seconds = int(max(ip_wait, user_wait)) + 1
        which = "from your address" if ip_wait >= user_wait else "for this account"
        raise TooManyRequests(
            f"Too many failed sign-in attempts {which}; try again in {seconds} seconds.",
            headers={"Retry-After": str(seconds)},
        )
    try:
        token, expires_in = await auth.login(session, settings, form.username, form.password)
    except Unauthorized:
        limiter.hit(ip_key)
        limiter.hit(user_key)
        raise
    limiter.reset(user_key)
    return {"access_token": token, "token_type": "bearer", "expires_in": expires_in}  # nosec B105 # a token type/marker/display mask, not a credential


@router.get("/me", response_model=UserOut, responses=responses(*AUTH), summary="The signed-in user")
async def me(user: CurrentUser) -> User:
    return user


@router.post(
    "/password",
    status_code=204,
    responses=responses(Unauthorized, Forbidden),
    summary="Change your own password (ends all your sessions: sign in again)",
)
async def change_password(body: PasswordChange, user: CurrentUser, session: SessionDep) -> None:
    await auth.change_own_password(session, user, body.current_password, body.new_password)
