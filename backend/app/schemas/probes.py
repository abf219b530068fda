"""Remote probes: what a probe fetches and sends, and how the hub shows probes and locations."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.models.enums import HealthStatus, RunStatus
from app.schemas.common import UTCTime


class Assignment(BaseModel):
    id: int
    name: str
    type: str
    config: dict[str, Any] = Field(description="Secrets included: this location's plugins only.")
    interval_seconds: int
    timeout_seconds: int
    updated_at: str


class Assignments(BaseModel):
    location: str
    etag: str = Field(description="Changes whenever the set or any assigned plugin changes.")
    plugins: list[Assignment]


class HeartbeatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    heartbeat_seconds: int = Field(10, ge=1, le=3600, description="How often it heartbeats.")
    version: str = Field("", max_length=64)
    spooled: int = Field(0, ge=0, description="Results waiting in its spool.")
    dropped_total: int = Field(
        0, ge=0, description="Results it ever had to drop (spool full or too old)."
    )


class HeartbeatOut(BaseModel):
    location: str
    etag: str = Field(description="The assignments' etag: fetch them again when it changed.")


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


class ProbeSample(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    value: Annotated[float, AfterValidator(_finite)]
    unit: str = Field("", max_length=32)
    labels: dict[str, str] = Field(default_factory=dict, max_length=32)


class ProbeResult(BaseModel):
    plugin_id: int
    started_at: UTCTime
    finished_at: UTCTime
    status: RunStatus
    error: str | None = Field(None, max_length=4000)
    duration_ms: float | None = None
    samples: list[ProbeSample] = Field(default_factory=list)


class ResultBatch(BaseModel):
    """The body of POST /probes/results, sent gzip-compressed (`Content-Encoding: gzip`)."""

    model_config = ConfigDict(extra="forbid")

    results: list[ProbeResult] = Field(max_length=5000)


class ResultsAccepted(BaseModel):
    accepted: int
    ignored: int = Field(description="Results for plugins gone or no longer assigned here.")
    duplicate: bool = Field(
        False,
        description="The batch's Idempotency-Key is the last one taken from this probe: it was "
        "stored already (its answer was lost) and is not stored again.",
    )


class ProbeOut(BaseModel):
    location: str
    status: str = Field(description='"up", "down" (silent for 3 heartbeats) or "never".')
    last_seen_at: UTCTime | None
    heartbeat_seconds: int | None
    version: str
    spooled: int
    dropped_total: int
    results_total: int
    plugins: int = Field(description="Enabled plugins assigned to this location.")


class LatestValue(BaseModel):
    name: str
    unit: str
    labels: dict[str, str]
    value: float | None
    ts: UTCTime | None


class LocationOut(BaseModel):
    location: str
    status: HealthStatus
    probe_status: str = Field(description='"hub" for the hub; else as in GET /probes.')
    consecutive_failures: int
    last_run_at: UTCTime | None
    last_success_at: UTCTime | None
    last_error: str | None
    duration_ms: float | None
    latest: list[LatestValue]


class PluginLocations(BaseModel):
    plugin_id: int
    down_quorum: int
    status: HealthStatus = Field(description="The plugin's health, derived from the locations.")
    locations: list[LocationOut]
