"""GET /health: public liveness and readiness, in the seed's shape plus the details that help."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.schemas.health import HealthBody
from app.services.replica import health as svc
from app.state import AppState

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=HealthBody,
    responses={503: {"model": HealthBody, "description": "The database is down"}},
    summary="Health of this backend replica",
)
async def health(request: Request) -> Response:
    # The state straight from the app, not through StateDep: FastAPI's solving of one
    # sub-dependency is a tenth of this most polled route's CPU.
    state: AppState = request.app.state.unity
    body = await svc.check(state)
    # Encoded here, once: the model is built by the service already, so FastAPI's second
    # validation of the returned value would only add to the most polled route's cost.
    return Response(
        body.model_dump_json(),
        status_code=200 if body.database == "ok" else 503,
        media_type="application/json",
    )
