"""App factory and lifespan: builds the engine, writer, hub and scheduler, and tears them down."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import fastapi_offline
import psutil
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.routing import APIRoute
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app.api import (
    alerts,
    audit,
    auth,
    channels,
    config,
    health,
    maintenance,
    metrics,
    oidc,
    plugin_types,
    plugins,
    probes,
    prometheus,
    public,
    push,
    scheduler,
    status_pages,
    tokens,
    totp,
    uptime,
    users,
    ws,
)
from app.api import canary as canary_api
from app.api.client_address import TrustedProxies
from app.api.deadline import DeadlineMiddleware
from app.api.spa import mount_spa
from app.core import egress
from app.core.config import VERSION, Settings, get_settings
from app.core.errors import install_error_handlers
from app.core.headers import SecurityHeaders
from app.core.limits import BodyLimit
from app.core.logging import setup_logging
from app.core.security import SecretBox
from app.core.worker import ShutdownClock, bounded, http_drain_seconds
from app.db.migrate import migrate
from app.db.session import Database
from app.models import ApiToken, BrowserSession, User
from app.plugins.registry import PluginRegistry
from app.services.alerts.canary import Canary
from app.services.alerts.engine import AlertService
from app.services.audit.entries import AuditMaintenance
from app.services.audit.recorder import AuditRecorder
from app.services.auth.login_limits import RateLimiter
from app.services.auth.oidc import OidcClient
from app.services.auth.principals import Principals
from app.services.config.watch import ConfigWatcher
from app.services.live.hub import Hub
from app.services.metrics.maintenance import StorageMaintenance
from app.services.metrics.reader import MetricsReader
from app.services.metrics.uptime import UptimeRollup
from app.services.metrics.writer import MetricsWriter
from app.services.notify.notifier import Notifier
from app.services.plugins import bootstrap
from app.services.plugins.push import PushGate
from app.services.plugins.recorder import RunRecorder
from app.services.plugins.scheduler import PluginScheduler
from app.services.plugins.workqueue import RunQueue
from app.services.probes.watch import ProbeWatch
from app.services.replica.probe import DatabaseProbe
from app.state import AppState

log = logging.getLogger("app")
TEARDOWN_SECONDS = 1.0  # of SHUTDOWN_TIMEOUT_SECONDS, kept for what comes after the drains


ROBOTS = "User-agent: *\nAllow: /status/\nDisallow: /\n"
DOCS_STATIC = "/docs/static"


def _offline_docs(app: FastAPI) -> None:
    """Swagger UI at /docs and ReDoc at /redoc from fastapi-offline's packaged files, no CDN, so
    they work on a box without internet access. Plain routes, like FastAPI's own docs pages."""
    static = Path(fastapi_offline.__file__).parent / "static"
    app.mount(DOCS_STATIC, StaticFiles(directory=static), name="docs-static")

    async def swagger(_request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Unity API - Swagger UI",
            swagger_js_url=f"{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_STATIC}/favicon.png",
        )

    async def redoc(_request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="Unity API - ReDoc",
            redoc_js_url=f"{DOCS_STATIC}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_STATIC}/favicon.png",
            with_google_fonts=False,
        )

    app.add_route("/docs", swagger, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)


def _operation_id(route: APIRoute) -> str:
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


def _database_down(scope: Scope, began: float) -> bool:
    """At a request's deadline: the probe says the database is down, or nothing from it has
    answered since the request began (its statement went out just before the database went
    silent, sooner than the probe can tell)."""
    state: AppState | None = getattr(scope["app"].state, "unity", None)
    return state is not None and (state.probe.down() or state.probe.silent_since(began))


def create_app(settings: Settings | None = None, *, migrate_on_start: bool = True) -> FastAPI:
    settings = (settings or get_settings()).prepare()
    setup_logging(settings.log_level, settings.log_format)
    egress.configure(settings.check_deny_networks, settings.check_allow_networks)
    # psutil reads one procfs for the whole process, so it is set once here: in a container
    # with HOST_PROC set, every psutil figure Unity reports is the measured host's.
    psutil.PROCFS_PATH = str(settings.host_proc)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.db_url, echo=False, timeouts=settings.db_timeouts)
        if migrate_on_start:
            await migrate(db.engine)
        executor = ThreadPoolExecutor(settings.plugin_threads, thread_name_prefix="plugin")
        registry = PluginRegistry().load()
        box = SecretBox(settings.encryption_keys)
        hub = Hub(settings)
        writer = MetricsWriter(db, settings, publish=hub.publish_metrics)
        hub.views.append(writer.latest.on_event)
        recorder = RunRecorder(db, settings, hub)
        sched = PluginScheduler(db, settings, registry, box, writer, recorder, executor)
        if settings.run_workers:  # the leader enqueues due runs; `python -m app worker` runs them
            sched.queue = RunQueue(settings, on_fallback=recorder.forget_health)
        reader = MetricsReader(db, settings)
        maintenance = StorageMaintenance(db, settings, writer, reader)
        sched.add_maintenance("storage", maintenance.run, settings.maintenance_interval_seconds)
        alert_service = AlertService(db, settings, Notifier(db, settings, box))
        hub.listeners.append(alert_service.on_event)
        sched.add_maintenance("alerts", alert_service.tick, settings.alert_eval_seconds)
        canary = Canary(db, settings, lambda: datetime.now(UTC))
        if canary.enabled:
            sched.add_maintenance("canary", canary.run, settings.canary_interval_seconds)
        # Probes gone silent turn their locations down (3 missed heartbeats); checked often.
        sched.add_maintenance("probes", ProbeWatch(db, hub).tick, settings.probe_watch_seconds)
        rollup = UptimeRollup(db, lambda: datetime.now(UTC))
        AuditRecorder(box).install(db)
        audit_upkeep = AuditMaintenance(db, settings)
        sched.add_maintenance("audit", audit_upkeep.run, settings.maintenance_interval_seconds)
        sched.add_maintenance("uptime", rollup.run, settings.uptime_rollup_seconds)
        state = AppState(
            settings=settings,
            db=db,
            box=box,
            registry=registry,
            executor=executor,
            writer=writer,
            hub=hub,
            scheduler=sched,
            login_limiter=RateLimiter(),
            trusted_proxies=TrustedProxies(settings.trusted_proxies),
            maintenance=maintenance,
            recorder=recorder,
            alerts=alert_service,
            principals=Principals(),
            reader=reader,
            probe=DatabaseProbe(db, settings.db_probe_seconds),
            push=PushGate(db, settings, writer, sched),
            uptime=rollup,
            oidc=OidcClient(settings),
            canary=canary,
        )
        # Any commit that changes a user or revokes an API token ends cached sign-ins.
        db.after_commit_changing(
            state.principals.clear, changed=(User,), deleted=(ApiToken, BrowserSession)
        )
        app.state.unity = state
        await bootstrap.first_start(state)
        await state.probe.start()
        await writer.latest.load(db)
        await writer.start()
        await recorder.start()
        await hub.start()
        await alert_service.start()
        await sched.start()
        if settings.unity_config is not None:
            state.config_watch = ConfigWatcher(
                state, settings.unity_config, settings.unity_config_poll_seconds
            )
            await state.config_watch.start()
        log.info(
            "Unity %s started",
            VERSION,
            extra={"database": db.url.get_backend_name(), "role": sched.role},
        )
        try:
            yield
        finally:
            log.info("Unity stopping")
            # One deadline for it all, whatever the database does; the last second is for
            # the teardown steps, each of which is cut off rather than waited for.
            timeout = settings.shutdown_timeout_seconds
            clock = ShutdownClock(timeout - http_drain_seconds(timeout))
            if state.config_watch is not None:
                await bounded(
                    state.config_watch.stop(), clock.left(TEARDOWN_SECONDS), "UNITY_CONFIG"
                )
            await bounded(state.push.stop(), clock.left(TEARDOWN_SECONDS), "push monitors")
            await bounded(sched.stop(), clock.left(TEARDOWN_SECONDS), "the scheduler")
            if sched.queue is not None:
                await bounded(sched.queue.close(), clock.left(TEARDOWN_SECONDS), "the run queue")
            # Runs cut short are now recorded `interrupted`: both stores flush side by side.
            drains = (recorder.stop, writer.stop)
            await asyncio.gather(*(stop(clock.left(TEARDOWN_SECONDS)) for stop in drains))
            for what, step in (("alerts", alert_service.stop), ("the hub", hub.stop)):
                await bounded(step(), clock.left(), what)
            await bounded(state.probe.stop(), clock.left(), "the database probe")
            executor.shutdown(wait=False, cancel_futures=True)
            await bounded(db.dispose(), clock.left(), "closing database connections")
            log.info("Unity stopped")

    app = FastAPI(
        title="Unity",
        version=VERSION,
        description="Self-hosted homelab monitoring hub: plugins, metrics, health, live updates.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        docs_url=None,
        redoc_url=None,
    )
    _offline_docs(app)
    install_error_handlers(app, postgres=not settings.is_sqlite)
    # Innermost of the middlewares: CORS headers go on its answers too.
    app.add_middleware(
        DeadlineMiddleware,
        seconds=settings.request_timeout_seconds,
        database_down=_database_down,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-CSRF-Token"],
        )
    if settings.trusted_hosts != ["*"]:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.include_router(health.router)
    app.include_router(prometheus.router)
    routers = (auth, users, tokens, plugin_types, plugins, metrics, scheduler, alerts, channels)
    for module in (*routers, config):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(maintenance.router, prefix="/api/v1")
    app.include_router(audit.router, prefix="/api/v1")
    app.include_router(totp.router, prefix="/api/v1")
    app.include_router(oidc.router, prefix="/api/v1")
    app.include_router(oidc.forward_router, prefix="/api/v1")
    app.include_router(totp.admin_router, prefix="/api/v1")
    app.include_router(uptime.router, prefix="/api/v1")
    app.include_router(canary_api.router, prefix="/api/v1")
    app.include_router(push.admin_router, prefix="/api/v1")
    app.include_router(status_pages.router, prefix="/api/v1")
    app.include_router(probes.router, prefix="/api/v1")  # probe endpoints take a probe token
    app.include_router(push.router, prefix="/api/v1")  # no login: the token is the credential
    app.include_router(public.router, prefix="/api/v1")  # no login: published pages only
    app.include_router(ws.router)
    # A monitoring hub has nothing for search engines; nginx answers the same on port 80.
    app.add_route("/robots.txt", lambda _r: PlainTextResponse(ROBOTS), include_in_schema=False)
    mount_spa(app, settings.frontend_dist)
    return app
