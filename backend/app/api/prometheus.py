"""GET /metrics: Prometheus text exposition, behind a bearer token unless METRICS_PUBLIC=true."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse

from app.api.deps import SessionDep, StateDep, oauth2
from app.core.errors import AUTH, responses
from app.services.auth import principals
from app.services.metrics import prometheus as svc

router = APIRouter(tags=["prometheus"])


async def _allowed(
    state: StateDep, session: SessionDep, token: Annotated[str | None, Depends(oauth2)]
) -> None:
    if not state.settings.metrics_public:
        await principals.authenticate(session, state.settings, token)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    dependencies=[Depends(_allowed)],
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "Prometheus text format 0.0.4",
        },
        **responses(*AUTH),
    },
    summary="Latest value of every series and Unity's own health, for Prometheus to scrape",
)
async def metrics(state: StateDep, session: SessionDep) -> PlainTextResponse:
    body = await svc.render(state, session)
    return PlainTextResponse(body, media_type=svc.CONTENT_TYPE)
