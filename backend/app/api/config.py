"""/api/v1/config: configuration as code (export, apply with a dry run first, the JSON Schema)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.deadline import Timeout, no_deadline
from app.api.deps import AdminUser, CurrentUser, SessionDep, StateDep
from app.core.config import SERVER_ENV_PREFIX, environment
from app.core.errors import ADMIN, AUTH, Conflict, InvalidInput, responses
from app.models.enums import AuditVia
from app.schemas.config import ConfigApplyOut, ConfigChangeOut, FieldChangeOut, ManagedOut
from app.services.audit import actor as audit_actor
from app.services.config.apply import apply_config
from app.services.config.export import export_config, json_schema

router = APIRouter(prefix="/config", tags=["config"])

MAX_FILE_BYTES = 1 << 20
# A big file's apply outlasts the request deadline; this bounds it instead (nothing is
# changed when it runs out: the one transaction is rolled back).
APPLY_SECONDS = 120.0
YAML = "application/yaml"
# The file, as parsed YAML: its full schema is GET /api/v1/config/schema (plugin types vary).
_YAML_BODY = {"schema": {"type": "object", "description": "A Unity configuration file."}}


@router.get(
    "/export",
    response_class=Response,
    responses={
        200: {"content": {YAML: _YAML_BODY}, "description": "The configuration as YAML"},
        **responses(*ADMIN),
    },
    summary="Export plugins, channels, rules, silences and maintenance as YAML (secrets: ${NAME})",
)
async def export(state: StateDep, admin: AdminUser, session: SessionDep) -> Response:
    text = await export_config(session, state.box, state.registry)
    return Response(
        text,
        media_type=YAML,
        headers={"Content-Disposition": 'attachment; filename="unity.yaml"'},
    )


@router.post(
    "/apply",
    response_model=ConfigApplyOut,
    responses=responses(*ADMIN, InvalidInput, Conflict, Timeout),
    summary="Show what a YAML file changes; with dry_run=false apply it in one transaction",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A configuration file (YAML or JSON), as `config export` writes it.",
            "content": {YAML: _YAML_BODY, "text/plain": {"schema": {"type": "string"}}},
        }
    },
)
@no_deadline  # a big file takes longer than the deadline: bounded by APPLY_SECONDS instead
async def apply(
    request: Request,
    state: StateDep,
    admin: AdminUser,
    session: SessionDep,
    dry_run: bool = True,
    prune: bool = False,
) -> ConfigApplyOut:
    body = await request.body()
    if len(body) > MAX_FILE_BYTES:
        raise InvalidInput(f"The file is larger than {MAX_FILE_BYTES >> 20} MiB; split it.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("Send the file as UTF-8 text.") from None
    audit_actor.set_current(replace(audit_actor.current(), via=AuditVia.CONFIG))
    try:
        async with asyncio.timeout(APPLY_SECONDS):
            result = await apply_config(
                session,
                state.box,
                state.registry,
                text,
                environment(server=True),
                dry_run=dry_run,
                prune=prune,
                user=admin.username,
                scheduler=state.scheduler,
                alerts=state.alerts,
                env_note=f"; through the API only {SERVER_ENV_PREFIX}* variables that are not "
                "Unity's own settings are read",
            )
    except TimeoutError:
        raise Timeout(
            f"Applying the file took longer than {APPLY_SECONDS:g} s and was stopped; nothing "
            "was changed. Split it into smaller files and apply them one after another."
        ) from None
    return ConfigApplyOut(
        dry_run=result.dry_run,
        applied=result.applied,
        changes=[
            ConfigChangeOut(
                section=c.section,
                action=c.action,
                name=c.key,
                fields=[FieldChangeOut(**vars(f)) for f in c.fields],
                reason=c.reason,
            )
            for c in result.changes
        ],
        unchanged=result.unchanged,
        kept=result.kept,
        notes=result.notes,
        summary=result.lines(),
    )


@router.get(
    "/schema",
    response_model=dict[str, Any],
    responses=responses(*AUTH),
    summary="The JSON Schema of the configuration file, for editors to check and complete it",
)
async def schema(state: StateDep, user: CurrentUser) -> dict[str, Any]:
    return json_schema(state.registry)


@router.get(
    "/managed",
    response_model=ManagedOut,
    responses=responses(*AUTH),
    summary="The objects the UNITY_CONFIG file manages (edited in the file, not here)",
)
async def managed(state: StateDep, user: CurrentUser) -> ManagedOut:
    watch = state.config_watch
    if watch is None:
        return ManagedOut(file=None, objects={})
    objects = {key: sorted(names) for key, names in watch.managed.items() if names}
    return ManagedOut(file=watch.path.name, objects=objects)
