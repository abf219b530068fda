"""The long-lived objects the lifespan creates; routes reach them via `request.app.state`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.core.config import Settings
from app.core.security import SecretBox
from app.db.session import Database
from app.plugins.registry import PluginRegistry
from app.services.alerts import AlertService
from app.services.auth import Principals
from app.services.maintenance import StorageMaintenance
from app.services.metrics_query import MetricsReader
from app.services.metrics_store import MetricsWriter
from app.services.plugin_scheduler import PluginScheduler
from app.services.rate_limit import RateLimiter, TrustedProxies
from app.services.run_recorder import RunRecorder
from app.services.ws_hub import Hub


@dataclass
class AppState:
    settings: Settings
    db: Database
    box: SecretBox
    registry: PluginRegistry
    executor: ThreadPoolExecutor
    writer: MetricsWriter
    hub: Hub
    scheduler: PluginScheduler
    login_limiter: RateLimiter
    trusted_proxies: TrustedProxies
    maintenance: StorageMaintenance
    recorder: RunRecorder
    alerts: AlertService
    principals: Principals
    reader: MetricsReader
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
