"""/api/v1/auth: first-run setup, login (OAuth2 password form), the current user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.client_address import client_address, client_scheme, origin_allowed
from app.api.deps import CurrentUser, SessionDep, StateDep
from app.core.errors import (
    AUTH,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    responses,
)
from app.models import User
from app.schemas.auth import (
    PasswordChange,
    SessionCreated,
    SessionOut,
    SetupRequest,
    SetupStatus,
    TokenResponse,
    UserOut,
)
from app.services.auth import login_limits, sessions, setup_code, users
from app.state import AppState

router = APIRouter(prefix="/auth", tags=["auth"])

# The two-factor code rides along with username and password in the same form.
TotpCode = Annotated[
    str | None,
    Form(
        max_length=64,
        description="The authenticator app's 6-digit code, or a recovery code; needed only "
        "when the account has two-factor sign-in (else the answer is 401 TwoFactorRequired).",
    ),
]


@router.get(
    "/setup",
    response_model=SetupStatus,
    responses=responses(),
    summary="Whether first-run setup is still open",
)
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
    code: TotpCode = None,
) -> TokenResponse:
    # The peer's X-Forwarded-For counts only when the peer is a trusted proxy (nginx).
    address = client_address(request, await state.trusted_proxies.networks())
    token, expires_in = await login_limits.sign_in(
        session,
        state.settings,
        state.login_limiter,
        state.box,
        address,
        form.username,
        form.password,
        code,
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


def _secure(request: Request, forced: bool | None, trusted_proxies: list[str]) -> bool:
    if forced is not None:
        return forced
    return client_scheme(request, trusted_proxies) == "https"


def same_site(request: Request, allowed: list[str]) -> None:
    """A browser signing in from another site's page is refused (login CSRF)."""
    if not origin_allowed(request, allowed):
        origin = request.headers.get("origin", "")
        raise Forbidden(f"Sign-in from {origin[:100]} is not allowed; add it to CORS_ORIGINS.")


async def sign_browser_in(
    request: Request, response: Response, state: AppState, session: AsyncSession, user: User
) -> SessionCreated:
    """Open a session for `user` and set its cookies on `response` (password, SSO and
    forward-auth sign-in all end here)."""
    settings = state.settings
    proxies = await state.trusted_proxies.networks()
    address = client_address(request, proxies)
    agent = request.headers.get("user-agent", "")
    token, _ = await sessions.open_session(session, settings, user, agent, address)
    csrf = sessions.csrf_token(settings, token)
    max_age = int(sessions.lifetime(settings).total_seconds())
    secure = _secure(request, settings.cookie_secure, proxies)
    response.set_cookie(
        sessions.SESSION_COOKIE,
        token,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    # Readable by the SPA on purpose: it copies it into X-CSRF-Token (double submit).
    response.set_cookie(
        sessions.CSRF_COOKIE, csrf, max_age=max_age, path="/", secure=secure, samesite="lax"
    )
    return SessionCreated(csrf_token=csrf, expires_in=max_age, user=UserOut.model_validate(user))


@router.post(
    "/session",
    response_model=SessionCreated,
    responses=responses(Unauthorized, Forbidden, TooManyRequests),
    summary="Sign a browser in: sets the HttpOnly session cookie and the CSRF cookie",
)
async def create_session(
    request: Request,
    response: Response,
    state: StateDep,
    session: SessionDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    code: TotpCode = None,
) -> SessionCreated:
    settings = state.settings
    same_site(request, settings.cors_origins)
    proxies = await state.trusted_proxies.networks()
    address = client_address(request, proxies)
    user = await login_limits.check_credentials(
        session,
        settings,
        state.login_limiter,
        state.box,
        address,
        form.username,
        form.password,
        code,
    )
    return await sign_browser_in(request, response, state, session, user)


@router.delete(
    "/session",
    status_code=204,
    responses=responses(Unauthorized, Forbidden),
    summary="Sign this browser out: ends the session server-side and clears its cookies",
)
async def end_session(
    request: Request, response: Response, user: CurrentUser, session: SessionDep
) -> None:
    token = request.cookies.get(sessions.SESSION_COOKIE)
    if token:  # CurrentUser checked its CSRF token already
        await sessions.end_session(session, token)
    response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    response.delete_cookie(sessions.CSRF_COOKIE, path="/")


@router.get(
    "/sessions",
    response_model=list[SessionOut],
    responses=responses(*AUTH),
    summary="Your signed-in browsers",
)
async def list_sessions(
    request: Request, user: CurrentUser, session: SessionDep
) -> list[SessionOut]:
    mine = request.cookies.get(sessions.SESSION_COOKIE)
    return [
        SessionOut(
            id=row.id,
            device=sessions.describe_agent(row.user_agent),
            address=row.address,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
            current=sessions.is_current(row, mine),
        )
        for row in await sessions.list_sessions(session, user)
    ]


@router.delete(
    "/sessions/{session_id}",
    status_code=204,
    responses=responses(Unauthorized, Forbidden, NotFound),
    summary="Sign one of your browsers out",
)
async def revoke_session(session_id: int, user: CurrentUser, session: SessionDep) -> None:
    await sessions.revoke(session, user, session_id)
