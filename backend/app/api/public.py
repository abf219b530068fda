"""/api/v1/public/…: what anyone may read without login — published status pages, their
badges, logo and a widget summary. Every answer is one of the leak-proof `schemas.public` models
(or an SVG drawn from them) and carries an ETag and a Cache-Control that lets proxies keep it;
a password-protected page's answers are private to the visitor who unlocked it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from app.api.client_address import client_address, client_scheme
from app.api.deps import SessionDep, StateDep
from app.core.errors import NotFound, TooManyRequests, Unauthorized, responses
from app.models import StatusPage
from app.models.enums import UptimeWindow
from app.schemas.public import (
    FramePolicy,
    PublicStatusPage,
    PublicSummary,
    StatusUnlock,
    StatusUnlocked,
)
from app.services.metrics.uptime import Durations
from app.services.metrics.uptime_query import window_totals
from app.services.status import access, badges, public
from app.services.status import pages as svc

router = APIRouter(prefix="/public", tags=["public"])

PAGE_MAX_AGE = 30
BADGE_MAX_AGE = 60
LOGO_MAX_AGE = 86400  # its URL carries its hash: a new logo is a new URL
SVG = "image/svg+xml; charset=utf-8"
# An SVG logo opened on its own still runs nothing, whatever slipped past the sanitiser.
LOGO_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
BADGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/svg+xml": {}}, "description": "A shields-style SVG badge."},
    **responses(NotFound, Unauthorized),
}
PAGE_ERRORS = (NotFound, Unauthorized)


def _cached(
    request: Request,
    body: bytes,
    media_type: str,
    max_age: int,
    tag: bytes,
    private: bool = False,
    extra: dict[str, str] | None = None,
) -> Response:
    """`body`, or 304 when the caller already holds the same `tag`."""
    etag = f'"{hashlib.sha256(tag).hexdigest()[:32]}"'
    # A protected page's answers are the unlocking visitor's: no shared cache may keep them.
    cache = f"private, max-age={max_age}" if private else f"public, max-age={max_age}"
    headers = {"ETag": etag, "Cache-Control": cache, **(extra or {})}
    if private:
        headers["Vary"] = "Cookie"
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _json(request: Request, model: BaseModel, private: bool = False) -> Response:
    data = model.model_dump(mode="json")
    # generated_at changes every call; the tag follows the content only.
    tag = json.dumps({k: v for k, v in data.items() if k != "generated_at"}, sort_keys=True)
    return _cached(
        request, json.dumps(data).encode(), "application/json", PAGE_MAX_AGE, tag.encode(), private
    )


async def _visible(state: StateDep, session: SessionDep, request: Request, slug: str) -> StatusPage:
    """The published page at `slug`, once its password (if it has one) was entered here."""
    page = await svc.published_page(session, slug)
    access.check_visitor(state.settings, page, request.cookies.get(access.cookie_name(slug)))
    return page


@router.get(
    "/status/{slug}",
    response_model=PublicStatusPage,
    responses=responses(*PAGE_ERRORS),
    summary="A published status page: states, uptime, 90-day bars, maintenance, announcements",
)
async def public_status_page(
    slug: str, request: Request, state: StateDep, session: SessionDep
) -> Response:
    page = await _visible(state, session, request, slug)
    view = await public.status_view(session, page, datetime.now(UTC))
    return _json(request, PublicStatusPage.model_validate(view), page.has_password)


@router.get(
    "/status/{slug}/summary",
    response_model=PublicSummary,
    responses=responses(*PAGE_ERRORS),
    summary="A published page in flat numbers, for Homepage's customapi and Homarr widgets",
)
async def public_status_summary(
    slug: str, request: Request, state: StateDep, session: SessionDep
) -> Response:
    page = await _visible(state, session, request, slug)
    view = await public.status_view(session, page, datetime.now(UTC))
    return _json(request, PublicSummary.model_validate(public.summary(view)), page.has_password)


@router.post(
    "/status/{slug}/unlock",
    response_model=StatusUnlocked,
    responses=responses(Unauthorized, TooManyRequests),
    summary="Enter a protected page's password; answers a cookie that opens this page only",
)
async def unlock_status_page(
    slug: str,
    body: StatusUnlock,
    request: Request,
    response: Response,
    state: StateDep,
    session: SessionDep,
) -> StatusUnlocked:
    try:
        page: StatusPage | None = await svc.published_page(session, slug)
    except NotFound:
        page = None
    proxies = await state.trusted_proxies.networks()
    token = access.unlock(
        state.settings,
        state.login_limiter,
        page if page is not None and page.has_password else None,
        client_address(request, proxies),
        body.password,
    )
    secure = state.settings.cookie_secure
    if secure is None:
        secure = client_scheme(request, proxies) == "https"
    response.set_cookie(
        access.cookie_name(slug),
        token,
        max_age=access.TOKEN_DAYS * 86400,
        path=access.COOKIE_PATH,
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    return StatusUnlocked(expires_in=access.TOKEN_DAYS * 86400)


@router.get(
    "/status/{slug}/logo",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}, "image/webp": {}, "image/svg+xml": {}}},
        **responses(*PAGE_ERRORS),
    },
    summary="A published page's logo (PNG, WebP or sanitised SVG); cacheable for a day",
)
async def status_page_logo(
    slug: str, request: Request, state: StateDep, session: SessionDep
) -> Response:
    page = await _visible(state, session, request, slug)
    logo = await svc.logo_of(session, page)
    if logo is None:
        raise NotFound(f"The status page {slug!r} has no logo.")
    data, media_type, digest = logo
    return _cached(
        request,
        data,
        media_type,
        LOGO_MAX_AGE,
        digest.encode(),
        page.has_password,
        {"Content-Security-Policy": LOGO_CSP},
    )


@router.get(
    "/frame-policy",
    response_model=FramePolicy,
    responses=responses(),
    summary="How the SPA's HTML for a path on this host is framed and which page it shows",
)
async def frame_policy(
    request: Request, session: SessionDep, path: Annotated[str, Query(max_length=2048)] = "/"
) -> Response:
    """Read by nginx (auth_request) before it sends index.html for `/` and `/status/…`, so a
    page's custom domain and embed origins hold in compose; the answer is also in headers."""
    policy = await access.html_policy(session, request.headers.get("host", ""), path)
    headers = {
        "X-Unity-Frame-Ancestors": policy.frame_ancestors,
        "X-Unity-Status-Page": policy.status_page or "",
        "Cache-Control": "no-store",
    }
    body = FramePolicy(status_page=policy.status_page, frame_ancestors=policy.frame_ancestors)
    return Response(body.model_dump_json(), media_type="application/json", headers=headers)


async def _badge_item(state: StateDep, session: SessionDep, slug: str, key: str) -> public.Item:
    page = await svc.published_page(session, slug)
    if page.has_password:  # a badge is an image on someone else's page: it carries no cookie
        raise Unauthorized(access.NEEDS_PASSWORD)
    item = public.find_item(page, key)
    if item is None or not item.badge:
        raise NotFound(f"There is no badge at {slug!r}/{key!r}.")
    return item


def _svg(request: Request, svg: str) -> Response:
    return _cached(request, svg.encode(), SVG, BADGE_MAX_AGE, svg.encode())


Label = Annotated[str | None, Query(max_length=40, description="Left-hand text.")]


@router.get(
    "/badge/{slug}/{key}/status",
    response_class=Response,
    responses=BADGE_RESPONSES,
    summary="An SVG badge of a monitor's current state (up, degraded, down, maintenance)",
)
async def status_badge(
    slug: str,
    key: str,
    request: Request,
    state: StateDep,
    session: SessionDep,
    label: Label = None,
) -> Response:
    item = await _badge_item(state, session, slug, key)
    states = await public.monitor_states(session, [item], datetime.now(UTC))
    shown = states.get(item.plugin_id, public.State("unknown")).name
    return _svg(request, badges.status_badge(label or item.name, shown))


@router.get(
    "/badge/{slug}/{key}/uptime",
    response_class=Response,
    responses=BADGE_RESPONSES,
    summary="An SVG badge of a monitor's uptime over a window (default 30 days)",
)
async def uptime_badge(
    slug: str,
    key: str,
    request: Request,
    state: StateDep,
    session: SessionDep,
    window: UptimeWindow = UptimeWindow.D30,
    label: Label = None,
) -> Response:
    item = await _badge_item(state, session, slug, key)
    totals = await window_totals(session, window, datetime.now(UTC), (item.plugin_id,))
    percent = totals.get(item.plugin_id, Durations()).percent
    return _svg(request, badges.uptime_badge(label or f"uptime {window}", percent))


@router.get(
    "/badge/{slug}/{key}/response",
    response_class=Response,
    responses=BADGE_RESPONSES,
    summary="An SVG badge of a monitor's last response time (where the page shows it)",
)
async def response_badge(
    slug: str,
    key: str,
    request: Request,
    state: StateDep,
    session: SessionDep,
    label: Label = None,
) -> Response:
    item = await _badge_item(state, session, slug, key)
    if not item.show_response_time:
        raise NotFound(f"There is no badge at {slug!r}/{key!r}.")
    times = await public.response_times(session, {item.plugin_id})
    return _svg(request, badges.response_badge(label or "response", times.get(item.plugin_id)))
