"""/api/v1/scheduler: jobs, their next run, and this replica's role."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import CurrentUser, StateDep
from app.core.errors import AUTH, responses
from app.schemas.plugins import SchedulerOut

router = APIRouter(prefix="/scheduler", tags=["scheduler"])


@router.get(
    "",
    response_model=SchedulerOut,
    responses=responses(*AUTH),
    summary="Scheduler state, jobs and start lateness",
)
async def get_scheduler(state: StateDep, user: CurrentUser) -> SchedulerOut:
    return SchedulerOut.model_validate(state.scheduler.summary())
