"""/api/v1/alerts: alert rules, their current states, incident history and silences."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from app.api.deps import AdminUser, CurrentUser, SessionDep, StateDep
from app.core.errors import ADMIN, AUTH, Conflict, InvalidInput, NotFound, responses
from app.models import AlertRule, AlertSilence
from app.schemas.alerts import (
    IncidentDetail,
    IncidentOut,
    IncidentStatus,
    RuleCreate,
    RuleOut,
    RuleUpdate,
    Severity,
    SilenceCreate,
    SilenceOut,
    SilenceUpdate,
    StateName,
    StateOut,
)
from app.schemas.common import Page
from app.services.alerts import engine as svc
from app.state import AppState

router = APIRouter(prefix="/alerts", tags=["alerts"])


def _rule_out(rule: AlertRule, counts: dict[int, dict[str, int]]) -> dict[str, Any]:
    mine = counts.get(rule.id, {})
    return {
        **{f: getattr(rule, f) for f in svc.RULE_FIELDS},
        "id": rule.id,
        "labels": dict(rule.labels or {}),
        "channel_ids": [c.id for c in rule.channels],
        "pending": mine.get("pending", 0),
        "firing": mine.get("firing", 0),
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
    }


def _silence_out(state: AppState, silence: AlertSilence) -> SilenceOut:
    now = state.alerts.clock()
    out = SilenceOut.model_validate(silence)
    out.active = silence.starts_at <= now < silence.ends_at
    return out


# ------------------------------------------------------------------------- rules
@router.get(
    "/rules",
    response_model=list[RuleOut],
    responses=responses(*AUTH),
    summary="List alert rules with how many series are pending and firing",
)
async def list_rules(user: CurrentUser, session: SessionDep) -> list[dict[str, Any]]:
    counts = await svc.state_counts(session)
    return [_rule_out(r, counts) for r in await svc.list_rules(session)]


@router.post(
    "/rules",
    response_model=RuleOut,
    status_code=201,
    responses=responses(*ADMIN, InvalidInput, Conflict),
    summary="Create an alert rule",
)
async def create_rule(
    body: RuleCreate, admin: AdminUser, session: SessionDep, state: StateDep
) -> dict[str, Any]:
    rule = await svc.create_rule(session, body.model_dump())
    state.alerts.rules_changed()
    return _rule_out(rule, {})


@router.get(
    "/rules/{rule_id}",
    response_model=RuleOut,
    responses=responses(*AUTH, NotFound),
    summary="Get one alert rule",
)
async def get_rule(rule_id: int, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    rule = await svc.get_rule(session, rule_id)
    return _rule_out(rule, await svc.state_counts(session))


@router.patch(
    "/rules/{rule_id}",
    response_model=RuleOut,
    responses=responses(*ADMIN, NotFound, InvalidInput, Conflict),
    summary="Change any field of an alert rule",
)
async def update_rule(
    rule_id: int, body: RuleUpdate, admin: AdminUser, session: SessionDep, state: StateDep
) -> dict[str, Any]:
    rule = await svc.get_rule(session, rule_id)
    rule = await svc.update_rule(session, rule, body.model_dump(exclude_unset=True))
    state.alerts.rules_changed()
    return _rule_out(rule, await svc.state_counts(session))


@router.delete(
    "/rules/{rule_id}",
    status_code=204,
    responses=responses(*ADMIN, NotFound),
    summary="Delete an alert rule (its incidents stay in the history)",
)
async def delete_rule(rule_id: int, admin: AdminUser, session: SessionDep) -> None:
    await svc.delete_rule(session, await svc.get_rule(session, rule_id))


# ------------------------------------------------------------------------- states
@router.get(
    "/states",
    response_model=list[StateOut],
    responses=responses(*AUTH),
    summary="Current alert states (pending and firing unless `state` says otherwise)",
)
async def list_states(
    user: CurrentUser,
    session: SessionDep,
    rule_id: int | None = None,
    state: StateName | None = None,
) -> Any:
    return await svc.list_states(session, rule_id, state)


# ------------------------------------------------------------------------- incidents
@router.get(
    "/incidents",
    response_model=Page[IncidentOut],
    responses=responses(*AUTH),
    summary="Incident history, newest first",
)
async def list_incidents(
    user: CurrentUser,
    session: SessionDep,
    status: IncidentStatus | None = None,
    rule_id: int | None = None,
    plugin_id: int | None = None,
    severity: Severity | None = None,
    silenced: bool | None = None,
    since: Annotated[
        AwareDatetime | None, Query(description="Fired at or after (ISO 8601)")
    ] = None,
    until: Annotated[AwareDatetime | None, Query(description="Fired before (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    items, total = await svc.list_incidents(
        session,
        status=status,
        rule_id=rule_id,
        plugin_id=plugin_id,
        severity=severity,
        silenced=silenced,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentDetail,
    responses=responses(*AUTH, NotFound),
    summary="One incident with its notifications",
)
async def get_incident(incident_id: int, user: CurrentUser, session: SessionDep) -> IncidentDetail:
    incident = await svc.get_incident(session, incident_id)
    deliveries = await svc.incident_deliveries(session, incident_id)
    base = IncidentOut.model_validate(incident).model_dump()
    return IncidentDetail.model_validate({**base, "deliveries": deliveries}, from_attributes=True)


# ------------------------------------------------------------------------- silences
@router.get(
    "/silences",
    response_model=list[SilenceOut],
    responses=responses(*AUTH),
    summary="Silences (maintenance windows), newest first",
)
async def list_silences(
    state: StateDep,
    user: CurrentUser,
    session: SessionDep,
    active: Annotated[bool, Query(description="Only the ones in force now")] = False,
) -> list[SilenceOut]:
    at = state.alerts.clock() if active else None
    return [_silence_out(state, s) for s in await svc.list_silences(session, at)]


@router.post(
    "/silences",
    response_model=SilenceOut,
    status_code=201,
    responses=responses(*ADMIN, InvalidInput, NotFound),
    summary="Silence one plugin, one rule, or everything for a time window",
)
async def create_silence(
    body: SilenceCreate, state: StateDep, admin: AdminUser, session: SessionDep
) -> SilenceOut:
    silence = await svc.create_silence(session, body.model_dump(), admin.username)
    return _silence_out(state, silence)


@router.get(
    "/silences/{silence_id}",
    response_model=SilenceOut,
    responses=responses(*AUTH, NotFound),
    summary="Get one silence",
)
async def get_silence(
    silence_id: int, state: StateDep, user: CurrentUser, session: SessionDep
) -> SilenceOut:
    return _silence_out(state, await svc.get_silence(session, silence_id))


@router.patch(
    "/silences/{silence_id}",
    response_model=SilenceOut,
    responses=responses(*ADMIN, NotFound, InvalidInput),
    summary="Change a silence (set ends_at to now to end it early)",
)
async def update_silence(
    silence_id: int, body: SilenceUpdate, state: StateDep, admin: AdminUser, session: SessionDep
) -> SilenceOut:
    silence = await svc.get_silence(session, silence_id)
    silence = await svc.update_silence(session, silence, body.model_dump(exclude_unset=True))
    return _silence_out(state, silence)


@router.delete(
    "/silences/{silence_id}",
    status_code=204,
    responses=responses(*ADMIN, NotFound),
    summary="Delete a silence",
)
async def delete_silence(silence_id: int, admin: AdminUser, session: SessionDep) -> None:
    await svc.delete_silence(session, await svc.get_silence(session, silence_id))
