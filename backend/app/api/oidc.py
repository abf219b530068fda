"""Single sign-on: OIDC (/api/v1/auth/oidc) and forward auth (/api/v1/auth/forward).

Both end in the same cookie session as a password sign-in, so CSRF protection applies alike.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from app.api.auth import same_site, sign_browser_in
from app.api.client_address import client_scheme, is_trusted_peer
from app.api.deps import SessionDep, StateDep
from app.core.errors import Conflict, Forbidden, NotFound, Unauthorized, responses
from app.schemas.auth import SessionCreated
from app.services.auth import forward, oidc

router = APIRouter(prefix="/auth/oidc", tags=["auth"])
forward_router = APIRouter(prefix="/auth", tags=["auth"])
CALLBACK = "/api/v1/auth/oidc/callback"


class OidcInfo(BaseModel):
    enabled: bool = Field(description="A 'Sign in with <name>' button belongs on the sign-in page.")
    name: str
    hide_password_form: bool
    forward_auth: bool = Field(
        description="A proxy in front signs users in (FORWARD_AUTH_HEADER): try "
        "POST /api/v1/auth/forward before showing the form."
    )


def _redirect_uri(request: Request, state: StateDep, proxies: list[str]) -> str:
    if state.settings.oidc_redirect_url:
        return state.settings.oidc_redirect_url
    return f"{client_scheme(request, proxies)}://{request.url.netloc}{CALLBACK}"


@router.get("", response_model=OidcInfo, summary="Whether single sign-on is offered (public)")
async def oidc_info(state: StateDep) -> OidcInfo:
    settings = state.settings
    on = oidc.enabled(settings)
    return OidcInfo(
        enabled=on,
        name=settings.oidc_name,
        hide_password_form=on and settings.oidc_hide_password_form,
        forward_auth=bool(settings.forward_auth_header),
    )


@router.get(
    "/login",
    status_code=302,
    response_class=RedirectResponse,
    responses=responses(NotFound),
    summary="Start single sign-on: redirects the browser to the provider",
)
async def oidc_login(request: Request, state: StateDep) -> RedirectResponse:
    proxies = await state.trusted_proxies.networks()
    url, flow = await state.oidc.begin(_redirect_uri(request, state, proxies))
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        oidc.FLOW_COOKIE,
        flow,
        max_age=oidc.FLOW_SECONDS,
        path=CALLBACK,
        secure=client_scheme(request, proxies) == "https",
        httponly=True,
        samesite="lax",  # the provider's redirect back is a top-level GET: Lax sends it
    )
    return response


@router.get(
    "/callback",
    status_code=302,
    response_class=RedirectResponse,
    responses=responses(Unauthorized, Forbidden, NotFound, Conflict),
    summary="Where the provider sends the browser back; signs it in and opens the app",
)
async def oidc_callback(request: Request, state: StateDep, session: SessionDep) -> RedirectResponse:
    proxies = await state.trusted_proxies.networks()
    claims = await state.oidc.finish(
        request.cookies.get(oidc.FLOW_COOKIE),
        dict(request.query_params),
        _redirect_uri(request, state, proxies),
    )
    user = await oidc.user_for(session, state.settings, claims)
    response = RedirectResponse("/", status_code=302)
    await sign_browser_in(request, response, state, session, user)
    response.delete_cookie(oidc.FLOW_COOKIE, path=CALLBACK)
    return response


@forward_router.post(
    "/forward",
    response_model=SessionCreated,
    responses=responses(Unauthorized, Forbidden),
    summary="Sign this browser in as the user the trusted proxy in front names (forward auth)",
)
async def forward_sign_in(
    request: Request, response: Response, state: StateDep, session: SessionDep
) -> SessionCreated:
    settings = state.settings
    same_site(request, settings.cors_origins)
    proxies = await state.trusted_proxies.networks()
    name = settings.forward_auth_header
    peer = request.client.host if request.client else "unknown"
    header = request.headers.get(name) if name else None
    username = forward.vouched_username(settings, header, peer, is_trusted_peer(request, proxies))
    user = await forward.user_for(session, settings, username)
    return await sign_browser_in(request, response, state, session, user)
