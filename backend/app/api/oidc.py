"""/api/v1/auth/oidc: single sign-on; the provider's answer ends in the same cookie session."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from app.api.auth import sign_browser_in
from app.api.client_address import client_scheme
from app.api.deps import SessionDep, StateDep
from app.core.errors import Conflict, Forbidden, NotFound, Unauthorized, responses
from app.services.auth import oidc

router = APIRouter(prefix="/auth/oidc", tags=["auth"])
CALLBACK = "/api/v1/auth/oidc/callback"


class OidcInfo(BaseModel):
    enabled: bool = Field(description="A 'Sign in with <name>' button belongs on the sign-in page.")
    name: str
    hide_password_form: bool


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
