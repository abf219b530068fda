"""/api/v1/channels: notification channels (Apprise URLs), a test send, and the delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deadline import no_deadline
from app.api.deps import AdminUser, CurrentUser, SessionDep, StateDep
from app.core.errors import ADMIN, AUTH, Conflict, InvalidInput, NotFound, responses
from app.models.enums import DeliveryStatus
from app.schemas.alerts import (
    ChannelCreate,
    ChannelOut,
    ChannelTestOut,
    ChannelUpdate,
    DeliveryOut,
)
from app.schemas.common import Page
from app.services.config.watch import refuse_if_managed
from app.services.notify import channels as svc

router = APIRouter(prefix="/channels", tags=["channels"])


@router.get(
    "",
    response_model=list[ChannelOut],
    responses=responses(*AUTH),
    summary="List notification channels (URLs masked)",
)
async def list_channels(user: CurrentUser, session: SessionDep) -> list[ChannelOut]:
    return [svc.view(c) for c in await svc.list_channels(session)]


@router.post(
    "",
    response_model=ChannelOut,
    status_code=201,
    responses=responses(*ADMIN, InvalidInput, Conflict),
    summary="Add a channel from an Apprise URL (stored encrypted)",
)
async def create_channel(
    body: ChannelCreate, state: StateDep, admin: AdminUser, session: SessionDep
) -> ChannelOut:
    channel = await svc.create_channel(
        session,
        state.box,
        name=body.name,
        url=body.url,
        enabled=body.enabled,
        send_resolved=body.send_resolved,
        group_seconds=body.group_seconds,
        quiet_start=body.quiet_start,
        quiet_end=body.quiet_end,
        quiet_timezone=body.quiet_timezone,
        quiet_except_critical=body.quiet_except_critical,
    )
    return svc.view(channel)


@router.get(
    "/{channel_id}",
    response_model=ChannelOut,
    responses=responses(*AUTH, NotFound),
    summary="Get one channel (URL masked)",
)
async def get_channel(channel_id: int, user: CurrentUser, session: SessionDep) -> ChannelOut:
    return svc.view(await svc.get_channel(session, channel_id))


@router.patch(
    "/{channel_id}",
    response_model=ChannelOut,
    responses=responses(*ADMIN, NotFound, InvalidInput, Conflict),
    summary='Change a channel; a url of "********" keeps the stored one',
)
async def update_channel(
    channel_id: int, body: ChannelUpdate, state: StateDep, admin: AdminUser, session: SessionDep
) -> ChannelOut:
    channel = await svc.get_channel(session, channel_id)
    refuse_if_managed(state, "channels", channel.name, "channel")
    channel = await svc.update_channel(
        session, state.box, channel, body.model_dump(exclude_unset=True)
    )
    return svc.view(channel)


@router.delete(
    "/{channel_id}",
    status_code=204,
    responses=responses(*ADMIN, NotFound, Conflict),
    summary="Delete a channel and its delivery log",
)
async def delete_channel(
    channel_id: int, state: StateDep, admin: AdminUser, session: SessionDep
) -> None:
    channel = await svc.get_channel(session, channel_id)
    refuse_if_managed(state, "channels", channel.name, "channel")
    await svc.delete_channel(session, channel)


@router.post(
    "/{channel_id}/test",
    response_model=ChannelTestOut,
    responses=responses(*ADMIN, NotFound),
    summary="Send a test notification now",
)
@no_deadline  # waits for the delivery, bounded by NOTIFY_TIMEOUT_SECONDS
async def test_channel(
    channel_id: int, state: StateDep, admin: AdminUser, session: SessionDep
) -> ChannelTestOut:
    channel = await svc.get_channel(session, channel_id)
    delivery = await state.alerts.notifier.send_test(session, channel)
    return ChannelTestOut.model_validate(
        {"ok": delivery.status == "sent", "error": delivery.last_error, "delivery": delivery},
        from_attributes=True,
    )


@router.get(
    "/{channel_id}/deliveries",
    response_model=Page[DeliveryOut],
    responses=responses(*AUTH, NotFound),
    summary="The channel's delivery log, newest first",
)
async def list_deliveries(
    channel_id: int,
    user: CurrentUser,
    session: SessionDep,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[DeliveryOut]:
    await svc.get_channel(session, channel_id)
    items, total = await svc.list_deliveries(session, channel_id, limit, offset, status)
    return Page[DeliveryOut].of(items, total, limit, offset)
