"""/api/v1/maintenance: planned-work windows that mute notifications and are left out of uptime."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import AdminUser, CurrentUser, SessionDep, StateDep
from app.core.errors import ADMIN, AUTH, Conflict, InvalidInput, NotFound, responses
from app.models import MaintenanceWindow
from app.schemas.maintenance import MaintenanceCreate, MaintenanceOut, MaintenanceUpdate
from app.services.alerts import maintenance as svc
from app.services.config.watch import refuse_if_managed
from app.state import AppState

router = APIRouter(prefix="/maintenance", tags=["maintenance"])


def _out(unity: AppState, window: MaintenanceWindow, now: datetime | None = None) -> MaintenanceOut:
    now = now or unity.alerts.clock()
    out = MaintenanceOut.model_validate(window)
    out.active = svc.is_active(window, now)
    out.next_start = svc.next_start(window, now)
    return out


@router.get(
    "",
    response_model=list[MaintenanceOut],
    responses=responses(*AUTH),
    summary="Maintenance windows, newest first",
)
async def list_maintenance(
    unity: StateDep,
    user: CurrentUser,
    session: SessionDep,
    active: Annotated[bool, Query(description="Only the ones in progress now")] = False,
) -> list[MaintenanceOut]:
    now = unity.alerts.clock()
    windows = await svc.list_windows(session)
    if active:  # filter first: next_start is only worked out for the windows returned
        windows = [w for w in windows if svc.is_active(w, now)]
    return [_out(unity, w, now) for w in windows]


@router.post(
    "",
    response_model=MaintenanceOut,
    status_code=201,
    responses=responses(*ADMIN, InvalidInput),
    summary="Plan a one-off, weekly or cron maintenance window",
)
async def create_maintenance(
    body: MaintenanceCreate, unity: StateDep, admin: AdminUser, session: SessionDep
) -> MaintenanceOut:
    window = await svc.create_window(
        session, body.model_dump(), admin.username, unity.alerts.clock()
    )
    return _out(unity, window)


@router.get(
    "/{window_id}",
    response_model=MaintenanceOut,
    responses=responses(*AUTH, NotFound),
    summary="One maintenance window",
)
async def get_maintenance(
    window_id: int, unity: StateDep, user: CurrentUser, session: SessionDep
) -> MaintenanceOut:
    return _out(unity, await svc.get_window(session, window_id))


@router.patch(
    "/{window_id}",
    response_model=MaintenanceOut,
    responses=responses(*ADMIN, NotFound, InvalidInput, Conflict),
    summary="Change a maintenance window",
)
async def update_maintenance(
    window_id: int,
    body: MaintenanceUpdate,
    unity: StateDep,
    admin: AdminUser,
    session: SessionDep,
) -> MaintenanceOut:
    window = await svc.get_window(session, window_id)
    refuse_if_managed(unity, "maintenance_windows", window.name, "maintenance window")
    changes = body.model_dump(exclude_unset=True)
    return _out(unity, await svc.update_window(session, window, changes))


@router.post(
    "/{window_id}/end",
    response_model=MaintenanceOut,
    responses=responses(*ADMIN, NotFound, Conflict),
    summary="End a window now (a recurring one stops recurring)",
)
async def end_maintenance(
    window_id: int, unity: StateDep, admin: AdminUser, session: SessionDep
) -> MaintenanceOut:
    window = await svc.get_window(session, window_id)
    refuse_if_managed(unity, "maintenance_windows", window.name, "maintenance window")
    return _out(unity, await svc.end_window(session, window, unity.alerts.clock()))


@router.delete(
    "/{window_id}",
    status_code=204,
    responses=responses(*ADMIN, NotFound, Conflict),
    summary="Delete a maintenance window (its past minutes stay maintenance in uptime)",
)
async def delete_maintenance(
    window_id: int, unity: StateDep, admin: AdminUser, session: SessionDep
) -> None:
    window = await svc.get_window(session, window_id)
    refuse_if_managed(unity, "maintenance_windows", window.name, "maintenance window")
    await svc.delete_window(session, window)
