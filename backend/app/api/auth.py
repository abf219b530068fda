"""/api/v1/auth: first-run setup, login (OAuth2 password form), the current user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.api.client_address import client_address
from app.api.deps import CurrentUser, SessionDep, StateDep
from app.core.errors import AUTH, Conflict, Forbidden, TooManyRequests, Unauthorized, responses
from app.models import User
from app.schemas.auth import PasswordChange, SetupRequest, SetupStatus, TokenResponse, UserOut
from app.services.auth import login_limits, setup_code, users

router = APIRouter(prefix="/auth", tags=["auth"])


@router.get("/setup", response_model=SetupStatus, summary="Whether first-run setup is still open")
async def setup_status(request: Request, state: StateDep, session: SessionDep) -> SetupStatus:
    open_ = await users.user_count(session) == 0
    address = client_address(request, await state.trusted_proxies.networks())
    return SetupStatus(
        needs_setup=open_, needs_code=open_ and setup_code.needs_code(state.settings, address)
    )


@router.post(
    "/setup",
    response_model=UserOut,
    status_code=201,
    responses=responses(Conflict, Forbidden),
    summary="Create the first admin (only while no user exists; the setup code unless local)",
)
async def setup(body: SetupRequest, request: Request, state: StateDep, session: SessionDep) -> User:
    address = client_address(request, await state.trusted_proxies.networks())
    return await users.setup_first_admin(
        session,
        body.username,
        body.password,
        authorize=lambda: setup_code.check(state.settings, address, body.setup_code),
        done=lambda: setup_code.discard(state.settings),
    )


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
) -> TokenResponse:
    # The peer's X-Forwarded-For counts only when the peer is a trusted proxy (nginx).
    address = client_address(request, await state.trusted_proxies.networks())
    token, expires_in = await login_limits.sign_in(
        session, state.settings, state.login_limiter, address, form.username, form.password
    )
    return TokenResponse(access_token=token, expires_in=expires_in)


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
    await users.change_own_password(session, user, body.current_password, body.new_password)
