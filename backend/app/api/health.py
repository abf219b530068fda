"""GET /health: public liveness and readiness, in the seed's shape plus the details that help."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import StateDep
from app.schemas.health import HealthBody
from app.services.replica import health as svc

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=HealthBody,
    responses={503: {"model": HealthBody, "description": "The database is down"}},
    summary="Health of this backend replica",
)
async def health(state: StateDep, response: Response) -> HealthBody:
    body = await svc.check(state)
    if body.database != "ok":
        response.status_code = 503
    return body
