"""/api/v1/metrics: series, latest values and bucketed range queries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import CurrentUser, SessionDep, StateDep
from app.core.errors import AUTH, InvalidInput, NotFound, responses
from app.schemas.common import Page
from app.schemas.metrics import LatestList, QueryResult, SeriesOut
from app.services.metrics import reader as svc

router = APIRouter(prefix="/metrics", tags=["metrics"])


@router.get(
    "/series",
    response_model=Page[SeriesOut],
    responses=responses(*AUTH, InvalidInput),
    summary="Find series by plugin, name and labels",
)
async def list_series(
    user: CurrentUser,
    session: SessionDep,
    plugin_id: int | None = None,
    name: str | None = None,
    label: Annotated[list[str], Query(description="key=value; repeat to match several")] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[SeriesOut]:
    items, total = await svc.list_series(
        session, plugin_id, name, svc.parse_labels(label), limit, offset
    )
    return Page[SeriesOut].of(items, total, limit, offset)


@router.get(
    "/latest",
    response_model=LatestList,
    responses=responses(*AUTH),
    summary="The newest value of every series",
)
async def latest(user: CurrentUser, state: StateDep, plugin_id: int | None = None) -> Response:
    # From the writer's in-memory view, encoded once per change: no query, no validation.
    return Response(state.writer.latest.encoded(plugin_id), media_type="application/json")


@router.get(
    "/query",
    response_model=QueryResult,
    responses=responses(*AUTH, InvalidInput, NotFound),
    summary="Values of one or more series over a time range, in at most `points` buckets",
)
async def query(
    user: CurrentUser,
    state: StateDep,
    series_id: Annotated[list[int], Query(description="Repeat for several series")],
    start: Annotated[
        datetime | None, Query(description="ISO 8601 with timezone; default end - 1 h")
    ] = None,
    end: Annotated[
        datetime | None, Query(description="ISO 8601 with timezone; default now")
    ] = None,
    points: Annotated[
        int,
        Query(
            ge=1,
            description=(
                "Maximum buckets per series. bucket_seconds is the smallest whole number of "
                "seconds (minutes from the 1m roll-up, hours from 1h) >= (end - start) / points "
                "whose buckets, counted from the Unix epoch, overlap the range at most `points` "
                "times; points=1 is one bucket from start."
            ),
        ),
    ] = 500,
    agg: svc.Agg = "avg",
) -> Response:
    # Built as QueryResult by the reader and encoded once: returning a Response skips FastAPI's
    # second validation of every point.
    body = await state.reader.query(series_id, start, end, points, agg)
    return Response(body, media_type="application/json")
