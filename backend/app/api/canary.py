"""/api/v1/alerts/canary: is Unity's own network up (the connectivity canary)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from app.api.deps import CurrentUser, SessionDep, StateDep
from app.core.errors import AUTH, responses
from app.models import CanaryOutage
from app.models.enums import CanaryState
from app.schemas.canary import CanaryOut, CanaryOutageOut, CanaryTargetOut

router = APIRouter(prefix="/alerts/canary", tags=["alerts"])

RECENT = 10


@router.get(
    "",
    response_model=CanaryOut,
    responses=responses(*AUTH),
    summary="The connectivity canary: state, targets and recent outages of Unity's network",
)
async def get_canary(user: CurrentUser, state: StateDep, session: SessionDep) -> CanaryOut:
    canary = state.canary
    status = canary.status
    outages = list(
        await session.scalars(
            select(CanaryOutage).order_by(CanaryOutage.started_at.desc()).limit(RECENT)
        )
    )
    current = next((o for o in outages if o.ended_at is None), None)
    # The database says what every replica sees; this replica's memory adds the probe detail.
    if current is not None:
        now_state, since = CanaryState.DOWN, current.started_at
    elif status.state == CanaryState.DOWN:
        now_state, since = CanaryState.UNKNOWN, None
    else:
        now_state, since = status.state, status.since
    return CanaryOut(
        enabled=canary.enabled,
        state=now_state,
        since=since,
        checked_at=status.checked_at,
        failures=status.failures,
        hold_notifications=state.settings.canary_hold_notifications,
        targets=[CanaryTargetOut(**vars(t)) for t in status.targets],
        outages=[CanaryOutageOut.model_validate(o) for o in outages],
    )
