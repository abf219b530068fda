"""/api/v1/alerts: alert rules, their current states, incident history and silences."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from app.api.deps import AdminUser, CurrentUser, SessionDep, StateDep
from app.core.errors import ADMIN, AUTH, Conflict, InvalidInput, NotFound, responses
from app.models import AlertIncident, AlertSilence, AlertState
from app.models.enums import AlertStateName, IncidentStatus, Severity
from app.schemas.alerts import (
    AckIn,
    IncidentDetail,
    IncidentOut,
    RuleCreate,
    RuleOut,
    RuleUpdate,
    SilenceCreate,
    SilenceOut,
    SilenceUpdate,
    StateOut,
)
from app.schemas.common import Page
from app.services.alerts import dependencies, incidents, rules, silences
from app.services.config.watch import refuse_if_managed
from app.state import AppState

router = APIRouter(prefix="/alerts", tags=["alerts"])


def _silence_out(unity: AppState, silence: AlertSilence) -> SilenceOut:
    now = unity.alerts.clock()
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
async def list_rules(user: CurrentUser, session: SessionDep) -> list[RuleOut]:
    counts = await rules.state_counts(session)
    return [rules.rule_view(r, counts) for r in await rules.list_rules(session)]


@router.post(
    "/rules",
    response_model=RuleOut,
    status_code=201,
    responses=responses(*ADMIN, InvalidInput, Conflict),
    summary="Create an alert rule",
)
async def create_rule(
    body: RuleCreate, admin: AdminUser, session: SessionDep, unity: StateDep
) -> RuleOut:
    rule = await rules.create_rule(session, body.model_dump(), unity.alerts)
    return rules.rule_view(rule, {})


@router.get(
    "/rules/{rule_id}",
    response_model=RuleOut,
    responses=responses(*AUTH, NotFound),
    summary="Get one alert rule",
)
async def get_rule(rule_id: int, user: CurrentUser, session: SessionDep) -> RuleOut:
    rule = await rules.get_rule(session, rule_id)
    return rules.rule_view(rule, await rules.state_counts(session))


@router.patch(
    "/rules/{rule_id}",
    response_model=RuleOut,
    responses=responses(*ADMIN, NotFound, InvalidInput, Conflict),
    summary="Change any field of an alert rule",
)
async def update_rule(
    rule_id: int, body: RuleUpdate, admin: AdminUser, session: SessionDep, unity: StateDep
) -> RuleOut:
    rule = await rules.get_rule(session, rule_id)
    refuse_if_managed(unity, "alert_rules", rule.name, "alert rule")
    changes = body.model_dump(exclude_unset=True)
    rule = await rules.update_rule(session, rule, changes, unity.alerts)
    return rules.rule_view(rule, await rules.state_counts(session))


@router.delete(
    "/rules/{rule_id}",
    status_code=204,
    responses=responses(*ADMIN, NotFound, Conflict),
    summary="Delete an alert rule (its incidents stay in the history)",
)
async def delete_rule(rule_id: int, admin: AdminUser, session: SessionDep, unity: StateDep) -> None:
    rule = await rules.get_rule(session, rule_id)
    refuse_if_managed(unity, "alert_rules", rule.name, "alert rule")
    await rules.delete_rule(session, rule, unity.alerts)


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
    state_name: Annotated[AlertStateName | None, Query(alias="state")] = None,
) -> list[AlertState]:
    return await rules.list_states(session, rule_id, state_name)


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
) -> Page[IncidentOut]:
    items, total = await incidents.list_incidents(
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
    return Page[IncidentOut].of(items, total, limit, offset)


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentDetail,
    responses=responses(*AUTH, NotFound),
    summary="One incident with its notifications, affected dependents and timeline",
)
async def get_incident(incident_id: int, user: CurrentUser, session: SessionDep) -> IncidentDetail:
    incident = await incidents.get_incident(session, incident_id)
    extra = {
        "deliveries": await incidents.incident_deliveries(session, incident_id),
        "affected": await dependencies.affected_incidents(session, incident),
        "timeline": await incidents.timeline(session, incident_id),
    }
    base = IncidentOut.model_validate(incident).model_dump()
    return IncidentDetail.model_validate({**base, **extra}, from_attributes=True)


@router.post(
    "/incidents/{incident_id}/ack",
    response_model=IncidentOut,
    responses=responses(*ADMIN, NotFound, Conflict),
    summary="Acknowledge a firing incident: records who and when, stops repeated notices",
)
async def acknowledge_incident(
    incident_id: int, body: AckIn, unity: StateDep, admin: AdminUser, session: SessionDep
) -> AlertIncident:
    incident = await incidents.get_incident(session, incident_id)
    now = unity.alerts.clock()
    return await incidents.acknowledge(session, incident, admin.username, body.comment, now)


# ------------------------------------------------------------------------- silences
@router.get(
    "/silences",
    response_model=list[SilenceOut],
    responses=responses(*AUTH),
    summary="Silences, newest first",
)
async def list_silences(
    unity: StateDep,
    user: CurrentUser,
    session: SessionDep,
    active: Annotated[bool, Query(description="Only the ones in force now")] = False,
) -> list[SilenceOut]:
    at = unity.alerts.clock() if active else None
    return [_silence_out(unity, s) for s in await silences.list_silences(session, at)]


@router.post(
    "/silences",
    response_model=SilenceOut,
    status_code=201,
    responses=responses(*ADMIN, InvalidInput, NotFound),
    summary="Silence one plugin, one rule, or everything for a time window",
)
async def create_silence(
    body: SilenceCreate, unity: StateDep, admin: AdminUser, session: SessionDep
) -> SilenceOut:
    silence = await silences.create_silence(session, body.model_dump(), admin.username)
    return _silence_out(unity, silence)


@router.get(
    "/silences/{silence_id}",
    response_model=SilenceOut,
    responses=responses(*AUTH, NotFound),
    summary="Get one silence",
)
async def get_silence(
    silence_id: int, unity: StateDep, user: CurrentUser, session: SessionDep
) -> SilenceOut:
    return _silence_out(unity, await silences.get_silence(session, silence_id))


@router.patch(
    "/silences/{silence_id}",
    response_model=SilenceOut,
    responses=responses(*ADMIN, NotFound, InvalidInput),
    summary="Change a silence (set ends_at to now to end it early)",
)
async def update_silence(
    silence_id: int, body: SilenceUpdate, unity: StateDep, admin: AdminUser, session: SessionDep
) -> SilenceOut:
    silence = await silences.get_silence(session, silence_id)
    silence = await silences.update_silence(session, silence, body.model_dump(exclude_unset=True))
    return _silence_out(unity, silence)


@router.delete(
    "/silences/{silence_id}",
    status_code=204,
    responses=responses(*ADMIN, NotFound),
    summary="Delete a silence",
)
async def delete_silence(silence_id: int, admin: AdminUser, session: SessionDep) -> None:
    await silences.delete_silence(session, await silences.get_silence(session, silence_id))
