"""The long-lived objects the lifespan creates; routes reach them via `request.app.state`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.api.client_address import TrustedProxies
from app.core.config import Settings
from app.core.security import SecretBox
from app.db.session import Database
from app.plugins.registry import PluginRegistry
from app.services.alerts.canary import Canary
from app.services.alerts.engine import AlertService
from app.services.auth.login_limits import RateLimiter
from app.services.auth.oidc import OidcClient
from app.services.auth.principals import Principals
from app.services.config.watch import ConfigWatcher
from app.services.live.hub import Hub
from app.services.metrics.maintenance import StorageMaintenance
from app.services.metrics.reader import MetricsReader
from app.services.metrics.uptime import UptimeRollup
from app.services.metrics.writer import MetricsWriter
from app.services.plugins.push import PushGate
from app.services.plugins.recorder import RunRecorder
from app.services.plugins.scheduler import PluginScheduler
from app.services.replica.probe import DatabaseProbe


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
    probe: DatabaseProbe
    push: PushGate
    uptime: UptimeRollup
    oidc: OidcClient
    canary: Canary
    config_watch: ConfigWatcher | None = None  # UNITY_CONFIG
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
