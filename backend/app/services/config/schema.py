"""The configuration file's shape: one Pydantic model per kind of object, named by names, not ids.

The same models validate a file, generate its JSON Schema (`GET /api/v1/config/schema`) and
document the format; the document model is assembled from the registered sections.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model

from app.models.enums import Comparison, RuleKind, Severity
from app.schemas.alerts import HHMM, WEEK
from app.schemas.maintenance import MaintenanceFields

FORMAT_VERSION = 1


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PluginEntry(Entry):
    """A plugin instance; `name` is its identity across files and databases."""

    name: str = Field(min_length=1, max_length=100)
    type: str = Field(min_length=1, max_length=64, description="A plugin type, e.g. http.")
    enabled: bool = True
    interval_seconds: int | None = Field(None, ge=1, le=86400, description="Default: the type's.")
    timeout_seconds: int | None = Field(None, ge=1, le=3600, description="Default: the type's.")
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="The type's settings (GET /api/v1/plugin-types); secrets as ${ENV_NAME}.",
    )
    depends_on: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Names of the plugins this one depends on (its parents).",
    )
    locations: list[str] | None = Field(
        None,
        min_length=1,
        max_length=32,
        description='Where it runs: "hub" (default) and/or remote probe locations.',
    )
    down_quorum: int | None = Field(
        None, ge=1, description="Down when at least this many of its locations see it down."
    )


class ChannelEntry(Entry):
    """A notification channel; its Apprise URL holds credentials, so it is exported as ${ENV}."""

    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=3, max_length=4000, description="An Apprise URL, e.g. ${NTFY}.")
    enabled: bool = True
    send_resolved: bool = True
    group_seconds: int | None = Field(
        None, ge=0, le=3600, description="Group window; null: NOTIFY_GROUP_SECONDS."
    )
    quiet_start: str | None = Field(None, pattern=HHMM, description='Quiet hours, e.g. "23:00".')
    quiet_end: str | None = Field(None, pattern=HHMM, description='e.g. "07:00".')
    quiet_timezone: str = Field("UTC", min_length=1, max_length=64)
    quiet_except_critical: bool = True


class RuleEntry(Entry):
    """An alert rule; `plugin` and `channels` name objects of this file or the database."""

    name: str = Field(min_length=1, max_length=100)
    kind: RuleKind = RuleKind.METRIC
    description: str = Field("", max_length=2000)
    plugin: str | None = Field(None, description="A plugin's name; null: every plugin.")
    metric: str | None = Field(None, min_length=1, max_length=200)
    labels: dict[str, str] = Field(default_factory=dict)
    op: Comparison = Comparison.GT
    threshold: float = 0.0
    for_seconds: int = Field(60, ge=0, le=WEEK)
    keep_firing_seconds: int = Field(60, ge=0, le=WEEK)
    severity: Severity = Severity.WARNING
    repeat_seconds: int = Field(0, ge=0, le=WEEK, description="0: no repeat.")
    enabled: bool = True
    channels: list[str] = Field(default_factory=list, description="Channel names.")


class SilenceEntry(Entry):
    """A silence; it is identified by its plugin, rule and start time."""

    plugin: str | None = Field(None, description="A plugin's name; null: every plugin.")
    rule: str | None = Field(None, description="An alert rule's name; null: every rule.")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    comment: str = Field("", max_length=2000)


class MaintenanceEntry(Entry, MaintenanceFields):
    """A maintenance window, identified by its name; `plugins` name plugins of this file or the
    database. Without `starts_at` a recurring window keeps the start it has (new ones: now)."""

    plugins: list[str] = Field(default_factory=list, max_length=10_000, description="Plugin names.")


def document_model(sections: list[tuple[str, type[Entry]]]) -> type[BaseModel]:
    """The whole file: `version`, `env` (secrets when exported with them), then one list each."""
    fields: dict[str, Any] = {
        "version": (Literal[1], Field(FORMAT_VERSION, description="The file format's version.")),
        "env": (
            dict[str, str],
            Field(
                default_factory=dict,
                description="Values for ${NAME} references; the process environment wins. "
                "Written only by `config export --include-secrets-as-env`.",
            ),
        ),
        "prune": (
            bool,
            Field(
                False,
                description="Also remove the objects of each listed kind that the file leaves "
                "out, as `--prune` does. A UNITY_CONFIG file prunes only when it says this.",
            ),
        ),
    }
    for key, entry in sections:
        fields[key] = (list[entry], Field(default_factory=list))  # type: ignore[valid-type]
    model: type[BaseModel] = create_model(
        "UnityConfig",
        __config__=ConfigDict(extra="forbid", title="Unity configuration"),
        **fields,
    )
    return model
