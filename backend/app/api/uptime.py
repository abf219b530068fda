"""/api/v1/uptime and /api/v1/plugins/{id}/uptime: availability from the uptime roll-ups."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.api.deps import CurrentUser, SessionDep
from app.core.errors import AUTH, InvalidInput, NotFound, responses
from app.models.enums import UptimeWindow
from app.schemas.uptime import PluginUptime, UptimeList
from app.services.metrics import uptime_query as svc
from app.services.plugins import instances

router = APIRouter(tags=["uptime"])


@router.get(
    "/plugins/{plugin_id}/uptime",
    response_model=PluginUptime,
    responses=responses(*AUTH, NotFound),
    summary="Uptime over 24 h, 7, 30, 90 and 365 days, and a 90-day bar",
)
async def get_plugin_uptime(
    plugin_id: int, user: CurrentUser, session: SessionDep
) -> dict[str, Any]:
    await instances.get_plugin(session, plugin_id)
    return await svc.plugin_uptime(session, plugin_id, datetime.now(UTC))


@router.get(
    "/uptime",
    response_model=UptimeList,
    responses=responses(*AUTH, InvalidInput),
    summary="Uptime of every plugin over one window, optionally with a per-day series",
)
async def list_uptime(
    user: CurrentUser,
    session: SessionDep,
    window: UptimeWindow = UptimeWindow.D30,
    days: Annotated[int, Query(ge=0, le=365, description="Per-day entries to include.")] = 0,
) -> dict[str, Any]:
    return {"items": await svc.all_uptime(session, window, days, datetime.now(UTC))}
