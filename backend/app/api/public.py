"""/api/v1/public/…: what anyone may read without login — published status pages, their
badges and a widget summary. Every answer is one of the leak-proof `schemas.public` models (or
an SVG drawn from them) and carries an ETag and a Cache-Control that lets proxies keep it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from app.api.deps import SessionDep
from app.core.errors import NotFound, responses
from app.models.enums import UptimeWindow
from app.schemas.public import PublicStatusPage, PublicSummary
from app.services.metrics.uptime import Durations
from app.services.metrics.uptime_query import window_totals
from app.services.status import badges, public
from app.services.status import pages as svc

router = APIRouter(prefix="/public", tags=["public"])

PAGE_MAX_AGE = 30
BADGE_MAX_AGE = 60
SVG = "image/svg+xml; charset=utf-8"
BADGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/svg+xml": {}}, "description": "A shields-style SVG badge."},
    **responses(NotFound),
}


def _cached(request: Request, body: bytes, media_type: str, max_age: int, tag: bytes) -> Response:
    """`body`, or 304 when the caller already holds the same `tag`."""
    etag = f'"{hashlib.sha256(tag).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _json(request: Request, model: BaseModel) -> Response:
    data = model.model_dump(mode="json")
    # generated_at changes every call; the tag follows the content only.
    tag = json.dumps({k: v for k, v in data.items() if k != "generated_at"}, sort_keys=True)
    return _cached(
        request, json.dumps(data).encode(), "application/json", PAGE_MAX_AGE, tag.encode()
    )


@router.get(
    "/status/{slug}",
    response_model=PublicStatusPage,
    responses=responses(NotFound),
    summary="A published status page: states, uptime, 90-day bars, maintenance, announcements",
)
async def public_status_page(slug: str, request: Request, session: SessionDep) -> Response:
    page = await svc.published_page(session, slug)
    view = await public.status_view(session, page, datetime.now(UTC))
    return _json(request, PublicStatusPage.model_validate(view))


@router.get(
    "/status/{slug}/summary",
    response_model=PublicSummary,
    responses=responses(NotFound),
    summary="A published page in flat numbers, for Homepage's customapi and Homarr widgets",
)
async def public_status_summary(slug: str, request: Request, session: SessionDep) -> Response:
    page = await svc.published_page(session, slug)
    view = await public.status_view(session, page, datetime.now(UTC))
    return _json(request, PublicSummary.model_validate(public.summary(view)))


async def _badge_item(session: SessionDep, slug: str, key: str) -> public.Item:
    page = await svc.published_page(session, slug)
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
    slug: str, key: str, request: Request, session: SessionDep, label: Label = None
) -> Response:
    item = await _badge_item(session, slug, key)
    states = await public.monitor_states(session, [item], datetime.now(UTC))
    state = states.get(item.plugin_id, public.State("unknown")).name
    return _svg(request, badges.status_badge(label or item.name, state))


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
    session: SessionDep,
    window: UptimeWindow = UptimeWindow.D30,
    label: Label = None,
) -> Response:
    item = await _badge_item(session, slug, key)
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
    slug: str, key: str, request: Request, session: SessionDep, label: Label = None
) -> Response:
    item = await _badge_item(session, slug, key)
    if not item.show_response_time:
        raise NotFound(f"There is no badge at {slug!r}/{key!r}.")
    times = await public.response_times(session, {item.plugin_id})
    return _svg(request, badges.response_badge(label or "response", times.get(item.plugin_id)))
