"""Uptime Kuma's monitors as Unity plugins: which type, which config, which samples.

Read from its SQLite database (`kuma.db`, tables `monitor`, `heartbeat`, `docker_host`), by
the column names of its published schema; columns a version lacks read as their default.
Heartbeat status: 0 down, 1 up, 2 pending (failing, retries left), 3 maintenance.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.plugins.base import Sample

UP, DOWN, PENDING, MAINTENANCE = 1, 0, 2, 3
# Uptime Kuma counts maintenance as up, pending as down (its flat status): so does this.
RUN_STATUS = {UP: "success", MAINTENANCE: "success", DOWN: "error", PENDING: "error"}
# Unity's response-time series of each type, so imported and new values make one chart.
RESPONSE_SERIES = {
    "http": "http_response_time",
    "tcp": "tcp_connect_time",
    "ping": "ping_rtt_avg",
    "dns": "dns_response_time",
    "push": "push_ping_ms",
}
UNSUPPORTED = {
    "group": "a group is a folder of monitors in Uptime Kuma, not a check",
}
DNS_TYPES = {"A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT", "CAA"}
INTERVAL_MAX = 86400
NAME_MAX = 100


class KumaError(ValueError):
    """The file is not a readable Uptime Kuma database."""


@dataclass
class Spec:
    """The Unity plugin a monitor becomes."""

    name: str
    type: str
    config: dict[str, Any]
    interval: int
    timeout: int
    enabled: bool
    notes: list[str] = field(default_factory=list)

    @property
    def response_series(self) -> str | None:
        return RESPONSE_SERIES.get(self.type)


def open_kuma(path: Path) -> sqlite3.Connection:
    """Read-only; refuses a file without Uptime Kuma's tables, with a sentence saying so."""
    try:
        # Read in worker threads (one at a time), never written.
        conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise KumaError(f"{path} is not an SQLite database ({exc})") from None
    missing = {"monitor", "heartbeat"} - tables
    if missing:
        conn.close()
        raise KumaError(
            f"{path} is not an Uptime Kuma database: it has no table {', '.join(sorted(missing))}"
            " (Uptime Kuma 2 on MariaDB: export the monitors to SQLite first)"
        )
    return conn


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def parse_time(value: Any) -> datetime:
    """A heartbeat's `time`: UTC text like 2024-05-01 10:00:00.123 (or an ISO form)."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
    ts = datetime.fromisoformat(str(value).strip().replace(" ", "T"))
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _status_codes(raw: Any) -> tuple[list[int], str | None]:
    """accepted_statuscodes_json (["200-299"]) as Unity's list; [] means any 2xx/3xx."""
    try:
        items = json.loads(raw or "[]")
    except ValueError:
        return [], "its accepted status codes could not be read: Unity accepts any 2xx or 3xx"
    if items in (["200-299"], []):
        return [], None
    codes: list[int] = []
    for item in items:
        lo, _, hi = str(item).partition("-")
        try:
            a, b = int(lo), int(hi or lo)
        except ValueError:
            continue
        codes.extend(range(a, b + 1))
    if not codes or len(codes) > 50:
        return [], f"accepted status codes {items} became Unity's default (any 2xx or 3xx)"
    return sorted(set(codes)), None


def _docker_url(host: sqlite3.Row | None) -> str:
    if host is None:
        return "unix:///var/run/docker.sock"
    daemon = str(host["docker_daemon"] or "")
    if host["docker_type"] == "socket":
        return f"unix://{daemon}" if not daemon.startswith("unix://") else daemon
    return daemon


def spec_for(
    m: dict[str, Any], docker_hosts: dict[int, sqlite3.Row]
) -> tuple[Spec | None, str | None]:
    """(the plugin spec, None), or (None, why the monitor is skipped)."""
    kind = str(m.get("type") or "")
    if kind in UNSUPPORTED:
        return None, UNSUPPORTED[kind]
    interval = max(1, min(int(m.get("interval") or 60), INTERVAL_MAX))
    kuma_timeout = float(m.get("timeout") or 0) or interval * 0.8  # Kuma's default: 80 %
    notes: list[str] = []
    config: dict[str, Any]
    timeout_cap = 60.0
    if kind in ("http", "keyword"):
        method = str(m.get("method") or "GET").upper()
        if method not in ("GET", "HEAD"):
            notes.append(f"method {method} became GET (Unity checks with GET or HEAD)")
            method = "GET"
        codes, note = _status_codes(m.get("accepted_statuscodes_json"))
        if note:
            notes.append(note)
        timeout_cap = 120.0
        config = {
            "url": str(m.get("url") or ""),
            "method": method,
            "expected_status_codes": codes,
            "follow_redirects": int(m.get("maxredirects") or 0) > 0,
            "verify_tls": not bool(m.get("ignore_tls")),
        }
        if kind == "keyword":
            config["keyword"] = str(m.get("keyword") or "")
            if m.get("invert_keyword"):
                notes.append("an inverted keyword is not supported: Unity checks it is present")
        kind = "http"
    elif kind == "port":
        kind, config = "tcp", {"host": m.get("hostname"), "port": int(m.get("port") or 0)}
    elif kind == "ping":
        config, timeout_cap = {"host": m.get("hostname")}, 10.0
    elif kind == "dns":
        record = str(m.get("dns_resolve_type") or "A").upper()
        if record not in DNS_TYPES:
            return None, f"DNS record type {record} is not supported by Unity's dns check"
        config = {"name": m.get("hostname"), "record_type": record}
        if m.get("dns_resolve_server"):
            config["server"] = m["dns_resolve_server"]
            config["port"] = int(m.get("port") or 53)
    elif kind == "push":
        beat = max(10, interval)
        config = {"heartbeat_interval_seconds": beat, "grace_seconds": 60}
        notes.append("push monitor: Unity gives it a new push URL; point the job at it")
        return Spec(_name(m), "push", config, 60, 10, bool(m.get("active")), notes), None
    elif kind == "docker":
        host = docker_hosts.get(int(m.get("docker_host") or 0))
        config = {"url": _docker_url(host), "containers": [m.get("docker_container") or ""]}
    else:
        return None, f"Unity has no check of Kuma's type {kind!r}; add it by hand if needed"
    timeout = min(kuma_timeout, timeout_cap, float(interval))
    if kind != "docker":
        config["timeout_seconds"] = round(timeout, 3)
    if int(m.get("maxretries") or 0):
        notes.append(
            f"{m['maxretries']} retries: Unity calls a plugin down after HEALTH_DOWN_AFTER "
            "failed runs in a row (one setting for all)"
        )
    run_timeout = max(1, min(int(timeout) + 1, interval))
    return Spec(_name(m), kind, config, interval, run_timeout, bool(m.get("active")), notes), None


def _name(m: dict[str, Any]) -> str:
    name = str(m.get("name") or "").strip() or f"kuma monitor {m['id']}"
    return name[:NAME_MAX]


def samples_of(spec: Spec, status: int, ping: Any) -> list[Sample]:
    """`up` and, for an up beat with a ping, the type's response-time series."""
    up = RUN_STATUS.get(status) == "success"
    out = [Sample("up", 1.0 if up else 0.0, "bool")]
    series = spec.response_series
    if series and up and ping is not None and status == UP:
        out.append(Sample(series, float(ping), "ms"))
    return out
