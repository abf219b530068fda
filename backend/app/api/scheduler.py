"""/api/v1/scheduler: jobs, their next run, and this replica's role."""

from __future__ import annotations

import statistics
from typing import Any

from fastapi import APIRouter

from app.api.deps import CurrentUser, StateDep
from app.core.errors import AUTH, responses
from app.schemas.plugins import SchedulerOut

router = APIRouter(prefix="/scheduler", tags=["scheduler"])


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


@router.get(
    "",
    response_model=SchedulerOut,
    responses=responses(*AUTH),
    summary="Scheduler state, jobs and start lateness",
)
async def get_scheduler(state: StateDep, user: CurrentUser) -> dict[str, Any]:
    s = state.scheduler
    late = list(s.lateness_ms)
    return {
        "state": s.state,
        "role": s.role,
        "jobs": s.jobs(),
        "lateness_ms_p50": percentile(late, 50),
        "lateness_ms_p99": percentile(late, 99),
        "runs": dict(s.run_counts),
    }
