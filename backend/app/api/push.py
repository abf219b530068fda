"""/api/v1/push/{token} (no login: the token is the credential) and the push-token routes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from app.api.client_address import client_address
from app.api.deps import AdminUser, SessionDep, StateDep
from app.core.errors import ADMIN, ErrorBody, InvalidInput, NotFound, TooManyRequests, responses
from app.core.limits import human_bytes, read_body
from app.models.enums import PushStatus
from app.plugins.base import Sample
from app.schemas.push import PushOk, PushTokenOut
from app.services.plugins import instances
from app.services.plugins import push as svc

router = APIRouter(prefix="/push", tags=["push"])
admin_router = APIRouter(prefix="/plugins", tags=["push"])


TOO_LARGE = (
    f"The body is larger than the {human_bytes(svc.MAX_BODY_BYTES)} a push accepts; "
    f"send fewer samples (at most {svc.MAX_SAMPLES}) or shorter labels."
)


async def _samples(request: Request) -> list[Sample]:
    """The optional JSON body, read no further than the push limit."""
    body = await read_body(request, svc.MAX_BODY_BYTES, TOO_LARGE)
    if not body.strip():
        return []
    try:
        parsed = json.loads(body)
    except ValueError:
        raise InvalidInput("The body is not valid JSON.") from None
    return svc.parse_samples(parsed)


PUSH_ERRORS = {
    **responses(NotFound, TooManyRequests, InvalidInput),
    413: {"model": ErrorBody, "description": "PayloadTooLarge"},
}
Msg = Annotated[
    str | None, Query(max_length=svc.MAX_MSG, description="A note, e.g. an error line.")
]
Ping = Annotated[float | None, Query(ge=0, le=86_400_000, description="A duration in ms.")]


@dataclass(frozen=True)
class Report:
    """What a call reports, from the query string (Uptime Kuma's names)."""

    status: PushStatus
    msg: str | None
    ping: float | None


def _report(status: PushStatus = PushStatus.UP, msg: Msg = None, ping: Ping = None) -> Report:
    return Report(status, msg, ping)


ReportDep = Annotated[Report, Depends(_report)]


async def _receive(
    state: StateDep, request: Request, token: str, report: Report, samples: list[Sample]
) -> PushOk:
    address = client_address(request, await state.trusted_proxies.networks())
    await state.push.receive(token, address, report.status, report.msg, report.ping, samples)
    return PushOk()


@router.get(
    "/{token}",
    response_model=PushOk,
    responses=PUSH_ERRORS,
    summary="Report a heartbeat (Uptime Kuma compatible: status, msg, ping)",
)
async def push(token: str, request: Request, state: StateDep, report: ReportDep) -> PushOk:
    return await _receive(state, request, token, report, [])


@router.post(
    "/{token}",
    response_model=PushOk,
    responses=PUSH_ERRORS,
    summary="Report a heartbeat, optionally with samples in a JSON body",
)
async def push_with_samples(
    token: str, request: Request, state: StateDep, report: ReportDep
) -> PushOk:
    return await _receive(state, request, token, report, await _samples(request))


@admin_router.get(
    "/{plugin_id}/push-token",
    response_model=PushTokenOut,
    responses=responses(*ADMIN, NotFound, InvalidInput),
    summary="Show a push plugin's secret URL (made on first use)",
)
async def show_push_token(
    plugin_id: int, state: StateDep, admin: AdminUser, session: SessionDep
) -> svc.PushToken:
    plugin = await instances.get_plugin(session, plugin_id)
    return await svc.show_token(session, state.box, plugin)


@admin_router.post(
    "/{plugin_id}/push-token",
    response_model=PushTokenOut,
    responses=responses(*ADMIN, NotFound, InvalidInput),
    summary="Rotate a push plugin's token; the old URL stops working at once",
)
async def rotate_push_token(
    plugin_id: int, state: StateDep, admin: AdminUser, session: SessionDep
) -> svc.PushToken:
    plugin = await instances.get_plugin(session, plugin_id)
    return await svc.rotate_token(session, state.box, plugin)
