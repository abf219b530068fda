"""The plugin contract: what a plugin type declares and what a run returns."""

from __future__ import annotations

import asyncio
import builtins
import importlib.util
import math
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Generic

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypeVar

T = TypeVar("T")

SECRET_MASK = "********"  # noqa: S105 - the display mask, not a credential  # nosec B105


@dataclass(frozen=True, slots=True)
class Sample:
    """One measurement: a metric name, a float value, its unit and identifying labels."""

    name: str
    value: float
    unit: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PluginEvent:
    """Something a plugin saw happen (a container restart, a reboot, a renewed certificate).

    `kind` is an EventKind value (or a plugin's own slug); `at` defaults to the run's time.
    """

    kind: str
    summary: str
    labels: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    at: datetime | None = None


# Events one instance may hold between runs; more are dropped (a flapping container is one line).
MAX_PENDING_EVENTS = 100


class PluginError(Exception):
    """A collection failure with a sentence meant for the user (shown as the run's error).

    `samples` may carry what was still measured (e.g. `up` = 0 and a status code for a site
    that answered 503): they are stored and charted, while the run counts as failed for health.
    """

    def __init__(self, message: str, samples: list[Sample] | None = None) -> None:
        super().__init__(message)
        self.samples = samples or []


class PluginConfig(BaseModel):
    """Base for every plugin's config model; unknown keys are refused so typos surface."""

    model_config = ConfigDict(extra="forbid")


def SecretField(default: Any = None, **kwargs: Any) -> Any:
    """A config field holding a credential: encrypted at rest, never returned by the API."""
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra.update({"writeOnly": True, "format": "password", "x-secret": True})
    return Field(default, json_schema_extra=extra, **kwargs)


@dataclass(frozen=True, slots=True)
class HostPaths:
    """Where the measured host's /proc and root filesystem are (HOST_PROC, HOST_ROOT).

    In a container they are the host's, bind-mounted read-only (e.g. /host/proc and
    /host/root); on bare metal they are simply /proc and /.
    """

    proc: Path = Path("/proc")
    root: Path = Path("/")

    def on_host(self, path: str) -> Path:
        """Where a path of the host (e.g. the mount point /srv) is visible to Unity."""
        return self.root / path.lstrip("/")


class PluginContext:
    """What the engine lends a plugin instance: identity, data dir, thread pool, host paths.

    `heartbeat` reads the last call a push (heartbeat) monitor received; only `push` uses it.
    """

    def __init__(
        self,
        plugin_id: int | None = None,
        data_dir: Path | None = None,
        executor: ThreadPoolExecutor | None = None,
        heartbeat: Callable[[], Awaitable[Any]] | None = None,
        host: HostPaths | None = None,
    ) -> None:
        self.plugin_id = plugin_id
        self.data_dir = data_dir or Path("data")
        self._executor = executor
        self.heartbeat = heartbeat
        self.host = host or HostPaths()

    async def run_blocking(self, func: Callable[..., T], *args: Any) -> T:
        """Run blocking code (psutil, sockets, subprocess) off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, func, *args)


_SECRET_FIELDS: dict[builtins.type[PluginConfig], tuple[str, ...]] = {}

# With a default, a plain `Plugin` (no brackets) means Plugin[PluginConfig], also for mypy.
C = TypeVar("C", bound="PluginConfig", default="PluginConfig", covariant=True)


class Plugin(ABC, Generic[C]):
    """A plugin type. One object per configured instance lives across runs (to keep rates).

    `class X(Plugin[XConfig])` with `Config = XConfig` gives `self.config` the type XConfig;
    a plain `class X(Plugin)` keeps working, its `self.config` typed as its Config's base.
    """

    type: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str]
    category: ClassVar[str] = "other"  # system | network | service | container | other
    Config: ClassVar[builtins.type[PluginConfig]] = PluginConfig
    default_interval_seconds: ClassVar[int] = 60
    default_timeout_seconds: ClassVar[int] = 30
    # Failed runs before health says down; None: HEALTH_DOWN_AFTER. A push monitor's run
    # fails only after interval + grace have passed, so one failure is already the outage.
    failures_until_down: ClassVar[int | None] = None
    # Client libraries the type imports when an instance first runs (house style 15), as
    # {module: pip requirement}: the catalog checks they are installed without importing them.
    requires: ClassVar[Mapping[str, str]] = {}

    config: C

    def __init__(self, config: C, context: PluginContext | None = None) -> None:
        self.config = config
        self.ctx = context or PluginContext()

    def emit_event(
        self,
        kind: str,
        summary: str,
        *,
        labels: Mapping[str, str] | None = None,
        details: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> None:
        """Record an event on the timeline; the engine stores it after this run."""
        pending: list[PluginEvent] = self.__dict__.setdefault("_pending_events", [])
        if len(pending) < MAX_PENDING_EVENTS:
            pending.append(PluginEvent(kind, summary, dict(labels or {}), dict(details or {}), at))

    def take_events(self) -> list[PluginEvent]:
        """The events emitted since the last call (the engine calls it after each run)."""
        pending: list[PluginEvent] = self.__dict__.pop("_pending_events", [])
        return pending

    @classmethod
    def secret_fields(cls) -> list[str]:
        # Built from the JSON Schema once per config model (building it takes ~0.5 ms, and a
        # configuration file with 10,000 plugins asks 20,000 times).
        found = _SECRET_FIELDS.get(cls.Config)
        if found is None:
            schema = cls.Config.model_json_schema()
            found = tuple(k for k, v in schema.get("properties", {}).items() if v.get("x-secret"))
            _SECRET_FIELDS[cls.Config] = found
        return list(found)

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        return cls.Config.model_json_schema()

    @classmethod
    def available(cls) -> tuple[bool, str | None]:
        """Whether this type can run on this host; the reason when it cannot."""
        for module, requirement in cls.requires.items():
            # find_spec looks for the package without importing it (idle memory stays low).
            if importlib.util.find_spec(module) is None:
                return False, f"the {module} package is not installed (pip install '{requirement}')"
        return True, None

    @abstractmethod
    async def collect_data(self) -> list[Sample]:
        """Collect one round of samples. Raise PluginError with a helpful sentence on failure."""

    async def close(self) -> None:
        """Release connections; called when the instance is unscheduled or reconfigured."""
        return None


def validate_samples(result: object, limit: int) -> list[Sample]:
    """Check a plugin's output; raise ValueError describing the first problem found."""
    if not isinstance(result, list):
        raise ValueError(
            f"collect_data returned {type(result).__name__}, expected a list of Sample"
        )
    if len(result) > limit:
        raise ValueError(f"collect_data returned {len(result)} samples, the limit is {limit}")
    for i, s in enumerate(result):
        if not isinstance(s, Sample):
            raise ValueError(f"item {i} is {type(s).__name__}, expected Sample")
        if not s.name or not isinstance(s.name, str) or len(s.name) > 200:
            raise ValueError(f"item {i} has an invalid metric name {s.name!r}")
        if isinstance(s.value, bool) or not isinstance(s.value, int | float):
            raise ValueError(f"sample {s.name!r} has a non-numeric value {s.value!r}")
        if not math.isfinite(s.value):
            raise ValueError(f"sample {s.name!r} has a non-finite value {s.value!r}")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in s.labels.items()):
            raise ValueError(f"sample {s.name!r} has labels that are not strings")
    return result
