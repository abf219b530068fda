"""ORM tables; importing this package registers every table on `Base.metadata`."""

from app.models.alert import (
    AlertIncident,
    AlertRule,
    AlertSilence,
    AlertState,
    CanaryOutage,
    IncidentEvent,
    NotificationChannel,
    NotificationDelivery,
)
from app.models.audit import AuditEntry, Event
from app.models.base import Base
from app.models.imports import ImportCheckpoint, ImportLink
from app.models.metrics import (
    Rollup1h,
    Rollup1m,
    RollupDirty,
    RollupState,
    Sample,
    SampleChunk,
    Series,
)
from app.models.plugin import PluginHealth, PluginInstance, PluginRun, plugin_dependencies
from app.models.probe import PluginLocation, Probe
from app.models.status import StatusPage
from app.models.uptime import (
    MaintenanceWindow,
    PushMonitor,
    UptimeCursor,
    UptimeDaily,
    UptimeHourly,
)
from app.models.user import ApiToken, BrowserSession, RecoveryCode, User

__all__ = [
    "AlertIncident",
    "AlertRule",
    "AlertSilence",
    "AlertState",
    "ApiToken",
    "AuditEntry",
    "Base",
    "BrowserSession",
    "CanaryOutage",
    "Event",
    "ImportCheckpoint",
    "ImportLink",
    "IncidentEvent",
    "MaintenanceWindow",
    "NotificationChannel",
    "NotificationDelivery",
    "PluginHealth",
    "PluginInstance",
    "PluginLocation",
    "PluginRun",
    "Probe",
    "PushMonitor",
    "RecoveryCode",
    "Rollup1h",
    "Rollup1m",
    "RollupDirty",
    "RollupState",
    "Sample",
    "SampleChunk",
    "Series",
    "StatusPage",
    "UptimeCursor",
    "UptimeDaily",
    "UptimeHourly",
    "User",
    "plugin_dependencies",
]
