"""The fixed vocabularies, one StrEnum each, shared by the tables, the API schemas and the logic.

Columns stay plain strings (a new member needs no migration); a StrEnum member is a str, so it
compares equal to what the database returns.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # reads and writes
    VIEWER = "viewer"  # reads only


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCESS = "success"
    ERROR = "error"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"  # the backend stopped during the run


class HealthStatus(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    DOWN = "down"
    UNKNOWN = "unknown"  # not run yet


class SchedulerRole(StrEnum):
    LEADER = "leader"
    STANDBY = "standby"
    DISABLED = "disabled"
    STARTING = "starting"


class RuleKind(StrEnum):
    METRIC = "metric"
    HEALTH = "health"


class Comparison(StrEnum):
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    EQ = "=="
    NE = "!="


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertStateName(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


class IncidentStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class IncidentEventKind(StrEnum):
    """The lines of an incident's timeline."""

    OPENED = "opened"  # it fired
    SUPPRESSED = "suppressed"  # it fired while a parent was down: recorded, not sent
    AFFECTED = "affected"  # (on a parent's incident) a dependent went down meanwhile
    NOTIFIED = "notified"  # a firing, repeat or resolved notice was queued
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    UNKNOWN = "unknown"  # it fired while Unity's own network was down (the canary)
    NETWORK = "network"  # the network came back: its notice was released or it had recovered


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class DeliveryKind(StrEnum):
    FIRING = "firing"
    REPEAT = "repeat"  # still firing, not acknowledged: the rule's repeat_seconds passed
    RESOLVED = "resolved"
    TEST = "test"
    NETWORK = "network"  # "Unity lost its network": the canary is back (with what it held)


class NotifyType(StrEnum):
    """Apprise's notice types (they pick the colour or icon a service shows)."""

    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"


class PushStatus(StrEnum):
    """What a push monitor's caller reports (Uptime Kuma's `status=` values)."""

    UP = "up"
    DOWN = "down"


class MaintenanceKind(StrEnum):
    ONCE = "once"  # starts_at .. ends_at
    WEEKLY = "weekly"  # chosen weekdays at a local time, for a duration
    CRON = "cron"  # a crontab expression in the window's time zone, for a duration


class UptimeWindow(StrEnum):
    H24 = "24h"
    D7 = "7d"
    D30 = "30d"
    D90 = "90d"
    D365 = "365d"


class ConfigChangeAction(StrEnum):
    """What applying a configuration file does to one object."""

    ADD = "add"
    CHANGE = "change"
    REMOVE = "remove"


class AuditAction(StrEnum):
    """What a configuration change did to its object (issue 20: the audit log)."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class AuditVia(StrEnum):
    """Where a configuration change came from."""

    UI = "ui"  # a browser session (the SPA)
    API = "api"  # a bearer token: an API token or a JWT from /auth/login
    CONFIG = "config"  # the configuration file (UNITY_CONFIG) or POST /config/apply
    SYSTEM = "system"  # Unity itself: first start, discovery, maintenance


class EventKind(StrEnum):
    """Things that happened, as recorded on the events timeline."""

    CONTAINER_RESTARTED = "container_restarted"
    CONTAINER_OOM_KILLED = "container_oom_killed"
    CONTAINER_IMAGE_CHANGED = "container_image_changed"
    HOST_REBOOTED = "host_rebooted"
    CERTIFICATE_RENEWED = "certificate_renewed"
    CONFIG_CHANGED = "config_changed"


class CanaryState(StrEnum):
    """The connectivity canary: can Unity reach its own network?"""

    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"  # not checked yet (or checked on another replica)
    OFF = "off"  # CANARY_TARGETS is empty
