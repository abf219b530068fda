"""/api/v1/plugins: plugin instances, run-now, run history and health."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deadline import no_deadline
from app.api.deps import AdminUser, CurrentUser, SessionDep, StateDep
from app.core.errors import ADMIN, AUTH, Conflict, InvalidInput, NotFound, responses
from app.models.enums import RunStatus
from app.schemas.common import Page
from app.schemas.plugins import (
    DependencyProposal,
    HealthOut,
    PluginCreate,
    PluginOut,
    PluginUpdate,
    RunOut,
)
from app.services.config.watch import refuse_if_managed
from app.services.plugins import dependencies
from app.services.plugins import instances as svc
from app.services.plugins.runner import RunResult

router = APIRouter(prefix="/plugins", tags=["plugins"])


@router.get(
    "",
    response_model=list[PluginOut],
    responses=responses(*AUTH),
    summary="List plugin instances with their health",
)
async def list_plugins(state: StateDep, user: CurrentUser, session: SessionDep) -> list[PluginOut]:
    edges = await dependencies.graph(session)
    return [
        svc.view(state.registry, state.box, p, edges.get(p.id, ()))
        for p in await svc.list_plugins(session)
    ]


@router.get(
    "/dependency-proposals",
    response_model=list[DependencyProposal],
    responses=responses(*AUTH),
    summary="Parents Unity suggests: a host's ping for checks of that host, docker for its "
    "containers' checks",
)
async def list_dependency_proposals(
    user: CurrentUser, session: SessionDep
) -> list[DependencyProposal]:
    return [
        DependencyProposal.model_validate(p, from_attributes=True)
        for p in await dependencies.proposals(session)
    ]


async def _view(state: StateDep, session: SessionDep, plugin_id: int) -> PluginOut:
    plugin = await svc.get_plugin(session, plugin_id)
    parents = await dependencies.parents_of(session, plugin_id)
    return svc.view(state.registry, state.box, plugin, parents)


@router.post(
    "",
    response_model=PluginOut,
    status_code=201,
    responses=responses(*ADMIN, InvalidInput, Conflict),
    summary="Create a plugin instance",
)
async def create_plugin(
    body: PluginCreate, state: StateDep, admin: AdminUser, session: SessionDep
) -> PluginOut:
    plugin = await svc.create_plugin(
        session,
        state.registry,
        state.box,
        name=body.name,
        type_=body.type,
        config=body.config,
        interval_seconds=body.interval_seconds,
        timeout_seconds=body.timeout_seconds,
        enabled=body.enabled,
        depends_on=body.depends_on,
        scheduler=state.scheduler,
        locations=body.locations,
        down_quorum=body.down_quorum,
    )
    return await _view(state, session, plugin.id)


@router.get(
    "/{plugin_id}",
    response_model=PluginOut,
    responses=responses(*AUTH, NotFound),
    summary="Get one plugin instance",
)
async def get_plugin(
    plugin_id: int, state: StateDep, user: CurrentUser, session: SessionDep
) -> PluginOut:
    return await _view(state, session, plugin_id)


@router.patch(
    "/{plugin_id}",
    response_model=PluginOut,
    responses=responses(*ADMIN, NotFound, InvalidInput, Conflict),
    summary="Change any of name, config, interval, timeout, enabled, depends_on",
)
async def update_plugin(
    plugin_id: int, body: PluginUpdate, state: StateDep, admin: AdminUser, session: SessionDep
) -> PluginOut:
    plugin = await svc.get_plugin(session, plugin_id)
    refuse_if_managed(state, "plugins", plugin.name, "plugin")
    changes = body.model_dump(exclude_unset=True)
    await svc.update_plugin(session, state.registry, state.box, plugin, changes, state.scheduler)
    return await _view(state, session, plugin_id)


@router.delete(
    "/{plugin_id}",
    status_code=204,
    responses=responses(*ADMIN, NotFound, Conflict),
    summary="Delete a plugin instance with its runs and series",
)
@no_deadline  # stops the plugin's runs first, each within its timeout
async def delete_plugin(
    plugin_id: int, state: StateDep, admin: AdminUser, session: SessionDep
) -> None:
    plugin = await svc.get_plugin(session, plugin_id)
    refuse_if_managed(state, "plugins", plugin.name, "plugin")
    await svc.delete_plugin(session, plugin, state.scheduler)


@router.post(
    "/{plugin_id}/run",
    response_model=RunOut,
    responses=responses(*ADMIN, NotFound),
    summary="Run now and wait for the result",
)
@no_deadline  # waits for the run, bounded by the plugin's own timeout
async def run_plugin(
    plugin_id: int, state: StateDep, admin: AdminUser, session: SessionDep
) -> RunResult:
    await svc.get_plugin(session, plugin_id)
    await session.close()  # a run may take its whole timeout: hold no connection meanwhile
    result = await state.scheduler.run(plugin_id, "manual")
    if result is None:
        raise NotFound(f"Plugin {plugin_id} was deleted while it ran.")
    return result


@router.get(
    "/{plugin_id}/runs",
    response_model=Page[RunOut],
    responses=responses(*AUTH, NotFound),
    summary="Run history, newest first",
)
async def list_runs(
    plugin_id: int,
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    status: RunStatus | None = None,
) -> Page[RunOut]:
    await svc.get_plugin(session, plugin_id)
    items, total = await svc.list_runs(session, plugin_id, limit, offset, status)
    return Page[RunOut].of(items, total, limit, offset)


@router.get(
    "/{plugin_id}/health",
    response_model=HealthOut,
    responses=responses(*AUTH, NotFound),
    summary="Current health",
)
async def get_health(plugin_id: int, user: CurrentUser, session: SessionDep) -> HealthOut:
    await svc.get_plugin(session, plugin_id)
    return HealthOut.model_validate(await svc.get_health(session, plugin_id))
