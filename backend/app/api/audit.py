"""/api/v1/audit and /api/v1/events: who changed what, what plugins saw, and both around an
incident's start."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from app.api.deps import AdminUser, CurrentUser, SessionDep
from app.core.errors import ADMIN, AUTH, NotFound, responses
from app.models.enums import AuditVia, Role
from app.schemas.audit import AuditEntryOut, EventOut, IncidentChangesOut
from app.schemas.common import Page
from app.services.audit import entries, events

router = APIRouter(tags=["audit"])

Since = Annotated[AwareDatetime | None, Query(description="At or after (ISO 8601)")]
Until = Annotated[AwareDatetime | None, Query(description="At or before (ISO 8601)")]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


@router.get(
    "/audit",
    response_model=Page[AuditEntryOut],
    responses=responses(*ADMIN),
    summary="The audit log of configuration changes, newest first (admins only)",
)
async def list_audit(
    admin: AdminUser,
    session: SessionDep,
    object_type: Annotated[
        str | None, Query(description="plugin, alert_rule, channel, silence, …")
    ] = None,
    object_id: str | None = None,
    actor: Annotated[str | None, Query(description="A user name or an API token's name")] = None,
    via: AuditVia | None = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AuditEntryOut]:
    items, total = await entries.list_entries(
        session,
        object_type=object_type,
        object_id=object_id,
        actor=actor,
        via=via,
        start=since,
        end=until,
        limit=limit,
        offset=offset,
    )
    return Page[AuditEntryOut].of(items, total, limit, offset)


@router.get(
    "/events",
    response_model=Page[EventOut],
    responses=responses(*AUTH),
    summary="Events plugins saw (restarts, reboots, renewed certificates, config changes)",
)
async def list_events(
    user: CurrentUser,
    session: SessionDep,
    plugin_id: int | None = None,
    kind: str | None = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[EventOut]:
    items, total = await events.list_events(
        session,
        plugin_id=plugin_id,
        kind=kind,
        start=since,
        end=until,
        limit=limit,
        offset=offset,
    )
    return Page[EventOut].of(items, total, limit, offset)


@router.get(
    "/alerts/incidents/{incident_id}/changes",
    response_model=IncidentChangesOut,
    responses=responses(*AUTH, NotFound),
    summary="What changed around an incident: events and audit entries within ±15 minutes "
    "of its start",
)
async def incident_changes(
    incident_id: int, user: CurrentUser, session: SessionDep
) -> IncidentChangesOut:
    t = await entries.incident_timeline(session, incident_id)
    return IncidentChangesOut.model_validate(
        {
            "incident_id": t.incident.id,
            "plugin_id": t.incident.plugin_id,
            "started_at": t.incident.started_at,
            "start": t.start,
            "end": t.end,
            "events": t.events,
            # Viewers see that something changed and who did it, but not the field values.
            "audit": t.audit if user.role == Role.ADMIN else [_redacted(a) for a in t.audit],
        },
        from_attributes=True,
    )


def _redacted(entry: object) -> AuditEntryOut:
    out = AuditEntryOut.model_validate(entry)
    out.changes = dict.fromkeys(out.changes, "changed")
    return out
