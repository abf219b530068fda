"""Settings: the one place that reads the environment (and `.env`)."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from app.core.egress import DEFAULT_DENY, parse_networks
from app.core.keys import check_fernet_key, new_fernet_key

log = logging.getLogger(__name__)

BACKEND_DIR = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = BACKEND_DIR / "data"
VERSION = "1.0.0"

# Values shipped in examples and docs: PostgreSQL in production refuses to start with one.
PLACEHOLDER_SECRETS = frozenset(
    {"", "change-me", "changeme", "change_me", "secret", "your-secret-key", "replace-me"}
)
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


@dataclass(frozen=True)
class DbTimeouts:
    """How long the engine waits to connect, for a pooled connection, for a statement, and for
    SQLite's write lock; the defaults are the settings' defaults."""

    connect: float = 2.0
    pool: float = 2.0
    statement: float = 60.0
    sqlite_busy: float = 5.0


class ConfigError(Exception):
    """A setting is missing or wrong; the message says what to set."""


def _csv(value: object) -> object:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    # --- the seed's variables
    database_url: str | None = None
    encryption_key: str | None = None
    jwt_secret_key: str | None = None
    # A remote probe's token (`python -m app probe`), when not given with --token/--token-file.
    probe_token: str | None = None
    debug: bool = False
    log_level: str = "info"
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # --- paths and serving
    data_dir: Path = DEFAULT_DATA_DIR
    frontend_dist: Path = BACKEND_DIR.parent / "frontend" / "dist"
    log_format: Literal["text", "json"] = "text"
    trusted_hosts: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["*"])
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"]
    )

    # --- auth
    access_token_expire_minutes: int = Field(720, ge=1, le=60 * 24 * 30)
    admin_username: str | None = None
    admin_password: str | None = None
    login_rate_per_minute_ip: int = Field(20, ge=1)
    login_rate_per_minute_user: int = Field(5, ge=1)
    totp_required_for_admins: bool = False

    # --- single sign-on with OpenID Connect (docs/SECURITY.md#single-sign-on-oidc)
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_name: str = Field("SSO", max_length=40, description="Shown as 'Sign in with <name>'.")
    oidc_scopes: str = "openid profile email"
    oidc_redirect_url: str | None = None
    oidc_groups_claim: str = "groups"
    oidc_allowed_groups: Annotated[list[str], NoDecode] = Field(default_factory=list)
    oidc_allowed_emails: Annotated[list[str], NoDecode] = Field(default_factory=list)
    oidc_admin_groups: Annotated[list[str], NoDecode] = Field(default_factory=list)
    oidc_auto_create: bool = True
    oidc_default_role: Literal["admin", "viewer"] = "viewer"
    oidc_hide_password_form: bool = False
    # --- forward auth: a header set by Authelia/Authentik/Traefik in front (off when empty)
    forward_auth_header: str | None = None
    forward_auth_auto_create: bool = False

    # --- scheduler and plugins
    scheduler_enabled: bool = True
    plugin_threads: int = Field(8, ge=1, le=128)
    plugin_max_samples: int = Field(200_000, ge=1)
    health_degraded_after: int = Field(1, ge=1)
    health_down_after: int = Field(3, ge=1)
    create_default_plugin: bool = True
    leader_retry_seconds: float = Field(2.0, gt=0)

    # --- the measured host, seen from a container (issue 21): where its /proc and / are mounted
    host_proc: Path = Path("/proc")
    host_root: Path = Path("/")

    # --- metrics writer and storage
    writer_batch_size: int = Field(5000, ge=1)
    writer_flush_seconds: float = Field(0.5, gt=0)
    writer_buffer_max: int = Field(1_000_000, ge=1)
    raw_retention_days: int = Field(7, ge=1)
    rollup_1m_retention_days: int = Field(90, ge=1)
    rollup_1h_retention_days: int = Field(730, ge=1)
    runs_retention_days: int = Field(30, ge=1)
    maintenance_interval_seconds: int = Field(300, ge=10)
    query_max_points: int = Field(5000, ge=10)

    # --- real time and scale-out
    redis_url: str | None = None
    redis_channel: str = "unity:events"
    ws_queue_size: int = Field(1000, ge=1)
    ws_ping_seconds: float = Field(20.0, gt=0)
    metrics_public: bool = False
    # Runs spread over `python -m app worker` processes through a Redis Stream (docs/DEPLOYMENT.md)
    run_workers: bool = False
    run_queue_key: str = Field("unity:runs", min_length=1)
    run_claim_timeout_seconds: float = Field(60.0, gt=0, le=3600)
    run_worker_concurrency: int = Field(1000, ge=1, le=100_000)
    run_queue_max_length: int = Field(200_000, ge=100)

    # --- bounded waits: what a slow or silent database may cost (docs/DEPLOYMENT.md)
    db_connect_timeout_seconds: float = Field(2.0, gt=0, le=300)
    db_pool_timeout_seconds: float = Field(2.0, gt=0, le=300)
    db_statement_timeout_seconds: float = Field(60.0, gt=0, le=3600)
    sqlite_busy_timeout_seconds: float = Field(5.0, ge=0, le=300)
    request_timeout_seconds: float = Field(5.0, gt=0, le=600)
    db_probe_seconds: float = Field(2.0, gt=0, le=300)
    shutdown_timeout_seconds: float = Field(8.0, gt=0)

    # --- alerts and notifications
    alert_eval_seconds: int = Field(15, ge=1, le=3600)
    # How often the leader looks for remote probes gone silent (3 missed heartbeats: down).
    probe_watch_seconds: int = Field(5, ge=1, le=3600)
    alert_history_days: int = Field(180, ge=1)
    notify_max_attempts: int = Field(6, ge=1, le=50)
    notify_retry_base_seconds: float = Field(30.0, gt=0)
    notify_retry_max_seconds: float = Field(3600.0, gt=0)
    notify_timeout_seconds: float = Field(30.0, gt=0)
    notify_threads: int = Field(4, ge=1, le=64)
    notify_group_seconds: int = Field(
        30, ge=0, le=3600, description="Group window of channels that set none (0: no wait)."
    )

    # --- the connectivity canary (docs/ALERTS.md): is it me, or is it the network?
    canary_targets: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["gateway"],
        description='"gateway" (the default route\'s router), host or host:port; empty: off.',
    )
    canary_interval_seconds: int = Field(30, ge=5, le=3600)
    canary_timeout_seconds: float = Field(3.0, gt=0, le=60)
    canary_failures: int = Field(2, ge=1, le=100, description="Failed rounds before it is down.")
    canary_hold_notifications: bool = True
    canary_settle_seconds: int = Field(
        60, ge=0, le=3600, description="After the network is back, wait this long for checks."
    )

    # --- request limits, outbound checks, first run and browser sessions (issue 23)
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="Largest request body.")
    check_deny_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_DENY)
    )
    check_allow_networks: Annotated[list[str], NoDecode] = Field(default_factory=list)
    setup_code: str | None = None
    setup_allow_loopback: bool = True
    cookie_secure: bool | None = Field(
        None, description="Session cookie's Secure flag; unset: on when the request is https."
    )

    @field_validator("cookie_secure", "unity_config", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        # docker-compose passes `COOKIE_SECURE=` through as an empty string: that means unset.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("check_deny_networks", "check_allow_networks", mode="before")
    @classmethod
    def _network_list(cls, value: object, info: ValidationInfo) -> object:
        value = _csv(value)
        if isinstance(value, list):
            parse_networks([str(v) for v in value], str(info.field_name).upper())
        return value

    # --- uptime, push (heartbeat) monitors and maintenance windows
    push_rate_per_minute: int = Field(60, ge=1)  # calls per push token
    push_rate_per_minute_ip: int = Field(300, ge=1)  # calls per client address, any token
    uptime_rollup_seconds: int = Field(60, ge=10, le=3600)

    # --- configuration as code (docs/CONFIG.md)
    unity_config: Path | None = Field(
        None, description="A configuration file applied at start and again whenever it changes."
    )
    unity_config_poll_seconds: float = Field(5.0, gt=0, le=3600)

    @field_validator(
        "cors_origins",
        "trusted_hosts",
        "trusted_proxies",
        "oidc_allowed_groups",
        "oidc_allowed_emails",
        "oidc_admin_groups",
        "canary_targets",
        mode="before",
    )
    @classmethod
    def _split_csv(cls, value: object) -> object:
        return _csv(value)

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        if value.lower() not in LOG_LEVELS:
            raise ValueError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
        return value.lower()

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard(cls, value: list[str]) -> list[str]:
        if "*" in value:
            raise ValueError("CORS_ORIGINS may not be '*': list the exact origins the UI uses")
        return value

    @cached_property
    def db_url(self) -> URL:
        """DATABASE_URL in the seed's plain form, turned into the matching async driver's URL."""
        raw = self.database_url or f"sqlite:///{self.data_dir / 'homelab.db'}"
        try:
            url = make_url(raw)
        except ArgumentError:
            raise ConfigError(
                f"DATABASE_URL {redact(raw)!r} is not a database URL; use e.g. "
                "postgresql://user:password@host:5432/homelab_db or sqlite:///./data/homelab.db"
            ) from None
        backend = url.get_backend_name()
        if backend in ("postgresql", "postgres"):
            return url.set(drivername="postgresql+asyncpg")
        if backend == "sqlite":
            if not url.database or url.database == ":memory:":
                raise ConfigError(
                    "DATABASE_URL for SQLite needs a file path, e.g. sqlite:///./data/homelab.db"
                )
            return url.set(drivername="sqlite+aiosqlite")
        raise ConfigError(
            f"DATABASE_URL uses {backend!r}; Unity supports postgresql:// and sqlite:// URLs"
        )

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.get_backend_name() == "sqlite"

    @property
    def db_timeouts(self) -> DbTimeouts:
        return DbTimeouts(
            connect=self.db_connect_timeout_seconds,
            pool=self.db_pool_timeout_seconds,
            statement=self.db_statement_timeout_seconds,
            sqlite_busy=self.sqlite_busy_timeout_seconds,
        )

    def prepare(self) -> Settings:
        """Check the data dir and resolve secrets; raise ConfigError with a sentence on failure."""
        self._check_data_dir()
        self.encryption_key = self._secret(
            "ENCRYPTION_KEY", self.encryption_key, "encryption_key", _new_fernet_key
        )
        self.jwt_secret_key = self._secret(
            "JWT_SECRET_KEY", self.jwt_secret_key, "jwt_secret_key", _new_jwt_secret
        )
        for key in self.encryption_keys:
            try:
                check_fernet_key(key)
            except ValueError:
                raise ConfigError(
                    "ENCRYPTION_KEY must be one or more comma-separated Fernet keys "
                    "(32 url-safe base64 bytes); `make env` writes a .env with a fresh one"
                ) from None
        if len(self.jwt_secret_key) < 32:
            raise ConfigError("JWT_SECRET_KEY must be at least 32 characters long")
        if self.run_workers and not self.redis_url:
            raise ConfigError(
                "RUN_WORKERS=true needs REDIS_URL (the workers take their runs from Redis); "
                "set REDIS_URL, or RUN_WORKERS=false to run plugins in this process"
            )
        return self

    @property
    def encryption_keys(self) -> list[str]:
        return [k.strip() for k in (self.encryption_key or "").split(",") if k.strip()]

    def _check_data_dir(self) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            probe = self.data_dir / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(
                f"data directory {self.data_dir} is not writable ({exc.strerror}); "
                "fix its permissions or point DATA_DIR elsewhere"
            ) from None

    def _secret(self, env: str, value: str | None, filename: str, make: type | object) -> str:
        if value and value.strip().lower() not in PLACEHOLDER_SECRETS:
            return value.strip()
        if not self.is_sqlite and not self.debug:
            state = "is a placeholder" if value else "is not set"
            raise ConfigError(
                f"{env} {state}; with PostgreSQL and DEBUG=false set a real secret "
                "(run `make env` to write a .env with fresh secrets)"
            )
        path = self.data_dir / f".{filename}"
        if path.exists():
            return path.read_text().strip()
        generated: str = make()  # type: ignore[operator]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(generated)
        log.warning("%s not set: generated one into %s (mode 0600); keep this file", env, path)
        return generated


def _new_fernet_key() -> str:
    return new_fernet_key()


def _new_jwt_secret() -> str:
    return secrets.token_urlsafe(48)


def redact(url: str) -> str:
    """A database URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@")[-1] if "@" in url else url


def get_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]


SERVER_ENV_PREFIX = "UNITY_"


def environment(*, server: bool = False) -> dict[str, str]:
    """The variables the ${NAME} references of a configuration file may read.

    The command line reads its own environment. Through the API (server=True) only UNITY_*
    variables that are not Unity's settings: an admin must not read the keys or DATABASE_URL.
    """
    if not server:
        return dict(os.environ)
    own = {name.upper() for name in Settings.model_fields}
    return {k: v for k, v in os.environ.items() if k.startswith(SERVER_ENV_PREFIX) and k not in own}
