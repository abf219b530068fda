"""Plugin type catalog, plugin instances, runs and health."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.limits import human_bytes, json_size
from app.models.enums import HealthStatus, RunStatus, SchedulerRole
from app.schemas.common import ORM, UTCTime

# A plugin config is stored and sent to every dashboard: 64 KB is far more than any type needs.
CONFIG_MAX_BYTES = 64 * 1024


def _config_size(value: dict[str, Any]) -> dict[str, Any]:
    if json_size(value) > CONFIG_MAX_BYTES:
        raise ValueError(f"must be at most {human_bytes(CONFIG_MAX_BYTES)} as JSON")
    return value


# A plugin config as a request sends it: any JSON object, at most CONFIG_MAX_BYTES.
ConfigBody = Annotated[dict[str, Any], AfterValidator(_config_size)]


class PluginTypeOut(BaseModel):
    type: str
    name: str
    description: str
    category: str
    config_schema: dict[str, Any]
    secret_fields: list[str]
    default_interval_seconds: int
    available: bool
    unavailable_reason: str | None = None


# Fields a plugin is created and changed with alike.
DependsOn = Annotated[
    list[int] | None,
    Field(
        max_length=100,
        description="Ids of the plugins this one depends on (its parents): while one of them is "
        "down, this plugin's alerts are recorded as suppressed instead of sent.",
    ),
]
Locations = Annotated[
    list[str] | None,
    Field(
        min_length=1,
        max_length=32,
        description='Where it runs: "hub" (the default) and/or remote probe locations, e.g. '
        '["hub", "vps-1"]. Results from each carry a `location` label.',
    ),
]
DownQuorum = Annotated[
    int | None,
    Field(
        ge=1,
        description='K of "down from at least K of N locations": the plugin\'s health is down '
        "only when at least this many of its locations see it down (default 1).",
    ),
]


class PluginCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Home page",
                    "type": "http",
                    "config": {"url": "https://example.org"},
                    "interval_seconds": 60,
                    "timeout_seconds": 10,
                    "enabled": True,
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=100)
    type: str = Field(min_length=1, max_length=64)
    config: ConfigBody = Field(default_factory=dict)
    interval_seconds: int | None = Field(None, ge=1, le=86400, description="Default: the type's.")
    timeout_seconds: int | None = Field(None, ge=1, le=3600, description="Default: the type's.")
    enabled: bool = True
    depends_on: DependsOn = None
    locations: Locations = None
    down_quorum: DownQuorum = None


class PluginUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    type: str | None = Field(None, description="Cannot change; accepted only when equal.")
    config: ConfigBody | None = None
    interval_seconds: int | None = Field(None, ge=1, le=86400)
    timeout_seconds: int | None = Field(None, ge=1, le=3600)
    enabled: bool | None = None
    depends_on: DependsOn = None
    locations: Locations = None
    down_quorum: DownQuorum = None


class HealthOut(ORM):
    status: HealthStatus
    consecutive_failures: int
    last_run_at: UTCTime | None
    last_success_at: UTCTime | None
    last_error: str | None
    changed_at: UTCTime | None = None


class DiscoveredOut(BaseModel):
    """Set on instances created from container labels: who found them, and which label sets
    which field (those fields are read-only here; edit the label)."""

    by_plugin_id: int
    container: str
    labels: dict[str, str] = Field(
        description="field (a config key, or interval_seconds) -> the label that sets it"
    )


class PluginOut(BaseModel):
    id: int
    name: str
    type: str
    config: dict[str, Any]
    interval_seconds: int
    timeout_seconds: int
    enabled: bool
    created_at: UTCTime
    updated_at: UTCTime
    health: HealthOut
    discovered: DiscoveredOut | None = None
    depends_on: list[int] = Field(default_factory=list, description="Ids of the parent plugins.")
    locations: list[str] = Field(default_factory=lambda: ["hub"])
    down_quorum: int = 1


class DependencyProposal(BaseModel):
    """A parent Unity suggests for a plugin; add it with PATCH /plugins/{plugin_id}."""

    plugin_id: int
    plugin_name: str
    parent_id: int
    parent_name: str
    reason: str


class RunOut(ORM):
    id: int | None
    status: RunStatus
    trigger: str
    started_at: UTCTime
    finished_at: UTCTime | None
    duration_ms: float | None
    error: str | None
    sample_count: int


class SchedulerJob(BaseModel):
    id: str
    name: str
    next_run_at: UTCTime | None
    interval_seconds: float | None = None


class SchedulerOut(BaseModel):
    state: str
    role: SchedulerRole
    jobs: list[SchedulerJob]
    lateness_ms_p50: float | None
    lateness_ms_p99: float | None
    runs: dict[str, int]
