"""/api/v1/probes: remote probes fetch their assignments, heartbeat and push results.

The probe endpoints take only a probe token (an API token with scope "probe"); the listing
and a plugin's per-location view are for signed-in users.
"""

from __future__ import annotations

import zlib
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from pydantic import ValidationError

from app.api.deps import CurrentUser, SessionDep, StateDep, oauth2
from app.core.errors import AUTH, Forbidden, InvalidInput, NotFound, Unauthorized, responses
from app.plugins.base import Sample
from app.schemas.probes import (
    Assignments,
    HeartbeatIn,
    HeartbeatOut,
    PluginLocations,
    ProbeOut,
    ResultBatch,
    ResultsAccepted,
)
from app.services.plugins import instances
from app.services.probes import hub as probes
from app.services.probes import views

router = APIRouter(tags=["probes"])

# A gzip batch may not unpack to more than this (a small body can hide a huge one).
MAX_BATCH_BYTES = 16 * 1024 * 1024
PROBE = (Unauthorized, Forbidden)


async def probe_caller(
    state: StateDep, token: Annotated[str | None, Depends(oauth2)]
) -> probes.ProbeCaller:
    async with state.db.session(read_only=True) as session:
        return await probes.identify_probe(session, state.settings, token)


ProbeDep = Annotated[probes.ProbeCaller, Depends(probe_caller)]


@router.get(
    "/probes",
    response_model=list[ProbeOut],
    responses=responses(*AUTH),
    summary="List probe locations: last check-in, up or down, spool and drop counts",
)
async def list_probes(user: CurrentUser, session: SessionDep) -> list[ProbeOut]:
    return await views.list_probes(session)


@router.get(
    "/probes/assignments",
    response_model=Assignments,
    responses=responses(*PROBE),
    summary="(probe token) The plugins assigned to this probe's location, with their secrets",
)
async def get_assignments(caller: ProbeDep, state: StateDep, session: SessionDep) -> Assignments:
    plugins, etag = await probes.assignments(session, state.box, caller.location)
    return Assignments.model_validate(
        {"location": caller.location, "etag": etag, "plugins": plugins}
    )


@router.post(
    "/probes/heartbeat",
    response_model=HeartbeatOut,
    responses=responses(*PROBE),
    summary="(probe token) Say the probe is alive, with its spool and drop counts",
)
async def post_heartbeat(
    body: HeartbeatIn, caller: ProbeDep, state: StateDep, session: SessionDep
) -> HeartbeatOut:
    await probes.heartbeat(
        session,
        caller.location,
        body.heartbeat_seconds,
        body.version,
        body.spooled,
        body.dropped_total,
    )
    etag = await probes.assignments_tag(session, caller.location)
    return HeartbeatOut(location=caller.location, etag=etag)


@router.post(
    "/probes/results",
    response_model=ResultsAccepted,
    responses=responses(*PROBE, InvalidInput),
    summary="(probe token) Push a batch of results (JSON, gzip-compressed or not)",
)
async def post_results(
    request: Request,
    caller: ProbeDep,
    state: StateDep,
    session: SessionDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=128,
            description="A name for this batch, the same each time it is sent (a probe uses its "
            "spool file's name). The same key as the last batch taken from this probe is "
            "answered with `duplicate: true` and not stored again.",
        ),
    ] = None,
) -> ResultsAccepted:
    if await probes.seen_batch(session, caller.location, idempotency_key):
        return ResultsAccepted(accepted=0, ignored=0, duplicate=True)
    raw = await request.body()
    if request.headers.get("content-encoding", "").lower() == "gzip":
        inflater = zlib.decompressobj(wbits=31)
        try:
            raw = inflater.decompress(raw, MAX_BATCH_BYTES)
        except zlib.error as exc:
            raise InvalidInput(f"The body is not valid gzip: {exc}.") from None
        if inflater.unconsumed_tail:
            raise InvalidInput(
                f"The batch unpacks to more than {MAX_BATCH_BYTES // 1024 // 1024} MiB; "
                "send fewer results per batch."
            )
    try:
        batch = ResultBatch.model_validate_json(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        raise InvalidInput(f"The results batch is not valid at {where}: {err['msg']}.") from None
    outcomes = [
        probes.Outcome(
            r.plugin_id,
            r.started_at,
            r.finished_at,
            r.status,
            r.error,
            r.duration_ms,
            [Sample(s.name, s.value, s.unit, s.labels) for s in r.samples],
        )
        for r in batch.results
    ]
    accepted, ignored, touched = await probes.record(
        session,
        state.settings,
        state.registry,
        state.writer,
        caller.location,
        outcomes,
        idempotency_key,
    )
    events = await probes.refresh_health(session, touched)
    await session.commit()
    for event in events:
        await state.hub.publish(event)
    return ResultsAccepted(accepted=accepted, ignored=ignored)


@router.get(
    "/plugins/{plugin_id}/locations",
    response_model=PluginLocations,
    responses=responses(*AUTH, NotFound),
    summary="A plugin's latest result at each of its locations, side by side",
)
async def get_plugin_locations(
    plugin_id: int, user: CurrentUser, session: SessionDep
) -> PluginLocations:
    plugin = await instances.get_plugin(session, plugin_id)
    return await views.plugin_locations(session, plugin)
