"""Prometheus text exposition (format 0.0.4): every series' latest value plus Unity's own health."""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import VERSION
from app.models import PluginHealth, PluginInstance, Series
from app.models.enums import HealthStatus, Severity
from app.services.alerts import incidents

if TYPE_CHECKING:  # the container imports the scheduler, which uses percentile() from here
    from app.state import AppState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "unity_"
# Labels Unity sets on every plugin series; a series label of the same name becomes exported_<name>.
RESERVED_LABELS = frozenset({"plugin", "plugin_id", "instance", "job"})
# Labels only histograms and summaries may carry (promtool refuses them on a gauge).
HISTOGRAM_LABELS = frozenset({"le", "quantile"})
QUANTILES = (0.5, 0.9, 0.99)

_BAD_NAME = re.compile(r"[^a-zA-Z0-9_:]")
_BAD_LABEL = re.compile(r"[^a-zA-Z0-9_]")


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (0 < q < 1) of `values`, inclusive method; None for no values."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def metric_name(name: str) -> str:
    """`unity_` + the name with every character Prometheus refuses turned into `_`."""
    return PREFIX + _BAD_NAME.sub("_", name)


# A plugin unit -> (the base unit Prometheus names end in, the factor to it). Units not listed
# (count, bool, anything custom) add nothing to the name.
BASE_UNITS: dict[str, tuple[str, float]] = {
    "ms": ("seconds", 0.001),
    "milliseconds": ("seconds", 0.001),
    "s": ("seconds", 1.0),
    "seconds": ("seconds", 1.0),
    "minutes": ("seconds", 60.0),
    "hours": ("seconds", 3600.0),
    "days": ("seconds", 86400.0),
    "bytes": ("bytes", 1.0),
    "bytes/s": ("bytes_per_second", 1.0),
    "ops/s": ("per_second", 1.0),
    "percent": ("percent", 1.0),
    "%": ("percent", 1.0),
    "celsius": ("celsius", 1.0),
    "°c": ("celsius", 1.0),
    "volts": ("volts", 1.0),
    "watts": ("watts", 1.0),
    "hertz": ("hertz", 1.0),
    "rpm": ("rpm", 1.0),
}
# Words for time in a name, dropped when the value is converted to seconds.
_TIME_WORDS = frozenset(
    {"ms", "milliseconds", "s", "sec", "secs", "seconds", "minutes", "hours", "days"}
)
# Suffixes Prometheus keeps for counters, histograms and summaries.
_RESERVED_SUFFIXES = {
    "_total": "_total_value",
    "_count": "_number",
    "_sum": "_sum_value",
    "_bucket": "_bucket_value",
}


def exported_name(name: str, unit: str | None) -> tuple[str, float]:
    """The gauge name a plugin series gets in /metrics, and the factor its value is scaled by.

    The rule (docs/ALERTS.md): `unity_` + the name with characters Prometheus refuses as `_`; the
    unit's base unit is appended unless the name already ends in it (`ms`, `days` and other time
    units become seconds, the value scaled, with time words dropped from the name); then a name
    still ending in a suffix Prometheus keeps for other types is changed: `_count` -> `_number`,
    `_total`, `_sum`, `_bucket` -> `..._value`. So `http_response_time` (ms) is
    `unity_http_response_time_seconds`, `process_count` is `unity_process_number`.
    """
    base, factor = BASE_UNITS.get((unit or "").strip().lower(), ("", 1.0))
    words = _BAD_NAME.sub("_", name).split("_")
    if base == "seconds":
        words = [w for w in words if w.lower() not in _TIME_WORDS] or ["duration"]
    out = PREFIX + "_".join(words)
    if base and not out.endswith(f"_{base}"):
        out += f"_{base}"
    for suffix, replacement in _RESERVED_SUFFIXES.items():
        if out.endswith(suffix):
            out = out.removesuffix(suffix) + replacement
    return out, factor


def label_name(name: str) -> str:
    clean = _BAD_LABEL.sub("_", name) or "_"
    if clean[0].isdigit():
        clean = "_" + clean
    if clean.startswith("__"):  # reserved for Prometheus' own use
        clean = "x" + clean
    return clean


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def fmt_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


Labels = tuple[tuple[str, str], ...]


@dataclass
class Family:
    name: str
    type: str
    help: str
    samples: dict[tuple[str, Labels], float] = field(default_factory=dict)

    def add(
        self, labels: dict[str, str] | None = None, value: float = 0.0, suffix: str = ""
    ) -> None:
        key = (suffix, tuple(labels.items()) if labels else ())
        self.samples.setdefault(key, float(value))  # the first of two colliding series wins

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {escape_help(self.help)}"
        yield f"# TYPE {self.name} {self.type}"
        for (suffix, labels), value in self.samples.items():
            inner = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels)
            yield (
                f"{self.name}{suffix}{{{inner}}} {fmt_value(value)}"
                if inner
                else (f"{self.name}{suffix} {fmt_value(value)}")
            )


class Exposition:
    def __init__(self) -> None:
        self.families: dict[str, Family] = {}

    def family(self, name: str, type_: str, help_: str) -> Family:
        fam = self.families.get(name)
        if fam is None:
            fam = self.families[name] = Family(name, type_, help_)
        return fam

    def render(self) -> str:
        lines: list[str] = []
        for fam in self.families.values():
            lines.extend(fam.render())
        return "\n".join(lines) + "\n"


def _series_labels(plugin: PluginInstance, labels: dict[str, str]) -> dict[str, str]:
    out = {"plugin": plugin.type, "plugin_id": str(plugin.id), "instance": plugin.name}
    for key in sorted(labels):
        name = label_name(str(key))
        if name in RESERVED_LABELS or name in HISTOGRAM_LABELS:
            name = f"exported_{name}"
        while name in out:
            name += "_"
        out[name] = str(labels[key])
    return out


def _own_metrics(exp: Exposition, state: AppState) -> None:
    exp.family("unity_build_info", "gauge", "Unity's version; always 1").add(
        {"version": VERSION}, 1
    )
    sched = state.scheduler
    exp.family(
        "unity_scheduler_leader",
        "gauge",
        "1 when this replica runs the plugin scheduler (the counters below are its own)",
    ).add(None, 1 if sched.role == "leader" else 0)
    runs = exp.family(
        "unity_scheduler_runs_total", "counter", "Plugin runs finished by this replica, by status"
    )
    counts = {"success": 0, "error": 0, "timeout": 0, **sched.run_counts}
    for status in sorted(counts):
        runs.add({"status": status}, counts[status])
    late = [v / 1000 for v in sched.lateness_ms]
    lateness = exp.family(
        "unity_scheduler_lateness_seconds",
        "summary",
        f"How late scheduled runs started, over the last {sched.lateness_ms.maxlen} runs",
    )
    for q in QUANTILES if late else ():
        lateness.add({"quantile": str(q)}, percentile(late, q) or 0.0)
    lateness.add(None, sum(late), "_sum")
    lateness.add(None, len(late), "_count")

    w = state.writer.stats
    exp.family(
        "unity_writer_buffered_samples", "gauge", "Samples waiting to be written to the database"
    ).add(None, w.buffered)
    exp.family(
        "unity_writer_written_samples_total", "counter", "Samples written to the database"
    ).add(None, w.written)
    exp.family(
        "unity_writer_dropped_samples_total",
        "counter",
        "Samples dropped because the write buffer overflowed",
    ).add(None, w.dropped)
    exp.family("unity_writer_failures_total", "counter", "Failed batch writes (retried)").add(
        None, w.failures
    )
    exp.family(
        "unity_websocket_clients", "gauge", "WebSocket clients connected to this replica"
    ).add(None, len(state.hub.clients))
    exp.family(
        "unity_websocket_events_published_total", "counter", "Events published by this replica"
    ).add(None, state.hub.events_published)
    notifier = state.alerts.notifier
    exp.family(
        "unity_notifications_sent_total", "counter", "Alert notifications delivered by this replica"
    ).add(None, notifier.sent_total)
    exp.family(
        "unity_notification_failures_total",
        "counter",
        "Failed notification attempts (each retry counts)",
    ).add(None, notifier.failed_attempts_total)
    canary = state.canary.status.state
    if canary in ("up", "down"):  # known on the replica that runs the canary (the leader)
        exp.family(
            "unity_network_up",
            "gauge",
            "The connectivity canary: 1 while Unity's own network answers, 0 while it is down",
        ).add(None, 1 if canary == "up" else 0)


async def render(state: AppState, session: AsyncSession) -> str:
    exp = Exposition()
    _own_metrics(exp, state)

    health = exp.family(
        "unity_plugin_health",
        "gauge",
        "1 for each plugin instance's current health status, 0 for the others",
    )
    for plugin, status in (
        await session.execute(
            select(PluginInstance, PluginHealth.status)
            .outerjoin(PluginHealth, PluginHealth.plugin_id == PluginInstance.id)
            .order_by(PluginInstance.id)
        )
    ).all():
        for s in HealthStatus:
            base = {"plugin": plugin.type, "plugin_id": str(plugin.id), "instance": plugin.name}
            health.add({**base, "status": s}, 1 if (status or "unknown") == s else 0)

    firing = await incidents.firing_incidents(session)
    by_severity = exp.family("unity_alerts_firing", "gauge", "Firing alerts by severity")
    for severity in Severity:
        by_severity.add({"severity": severity}, sum(1 for i in firing if i.severity == severity))
    active = exp.family(
        "unity_alert_active", "gauge", "1 for every firing alert (rule, plugin and series)"
    )
    for i in firing:
        labels = {"rule": i.rule_name, "severity": i.severity}
        if i.plugin_id is not None:
            labels.update({"plugin_id": str(i.plugin_id), "instance": i.plugin_name or ""})
        if i.series_id is not None:
            labels["series_id"] = str(i.series_id)
        active.add(labels, 1)

    rows = await session.execute(
        select(Series, PluginInstance)
        .join(PluginInstance, PluginInstance.id == Series.plugin_id)
        .where(Series.last_value.is_not(None))
        .order_by(Series.name, Series.id)
    )
    add_plugin_series(exp, ((series, plugin) for series, plugin in rows.all()))
    return exp.render()


def add_plugin_series(exp: Exposition, rows: Iterable[tuple[Series, PluginInstance]]) -> None:
    """Each plugin series' latest value, as a gauge named by `exported_name`."""
    own = set(exp.families)
    units: dict[str, set[str]] = {}
    for series, plugin in rows:
        if series.last_value is None:
            continue
        name, factor = exported_name(series.name, series.unit)
        if name in own:  # e.g. a plugin's own `scheduler_lateness_seconds`
            name = PREFIX + "plugin_" + name.removeprefix(PREFIX)
        fam = exp.family(name, "gauge", f"Latest value of the plugin metric {series.name!r}")
        units.setdefault(name, set()).update([series.unit] if series.unit else [])
        fam.add(_series_labels(plugin, dict(series.labels or {})), series.last_value * factor)
    for name, found in units.items():
        if found:
            exp.families[name].help += f" (plugin unit: {', '.join(sorted(found))})"
