"""Import an Uptime Kuma database: monitors become plugins, heartbeats become history.

Each heartbeat becomes a run record (plugin_runs: success for up or maintenance, error with
Kuma's message for down or pending) and samples (`up`, and the response time under the
series name Unity's own check of that type writes). The uptime roll-ups of the imported
plugins are then recomputed, so 24 h to 365 d figures include the imported time.

Idempotent: `import_links` remembers which plugin a monitor became and its last imported
heartbeat id; a second run creates nothing twice and adds only newer heartbeats (useful while
both tools run side by side). Samples are written first, then the run records and the new
position in one transaction, so an interruption repeats at most samples (which replace
themselves) and never run records.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from app.core.config import Settings
from app.core.errors import DomainError, InvalidInput
from app.core.security import SecretBox
from app.db.session import Database
from app.models import ImportLink, PluginHealth, PluginInstance, PluginRun
from app.models.enums import HealthStatus
from app.plugins.registry import PluginRegistry
from app.services.imports.history import (
    Progress,
    WriteFailed,
    history_writer,
    refold_uptime,
    write_chunk,
)
from app.services.imports.kuma import (
    RUN_STATUS,
    UP,
    KumaError,
    Spec,
    columns,
    open_kuma,
    parse_time,
    samples_of,
    spec_for,
)
from app.services.metrics.writer import MetricsWriter
from app.services.plugins.instances import create_plugin

KIND = "kuma"
_BEATS = (
    "SELECT id, status, msg, time, ping FROM heartbeat "
    "WHERE monitor_id = ? AND id > ? ORDER BY id LIMIT ?"
)
_BEATS_NO_PING = _BEATS.replace(" ping FROM", " NULL AS ping FROM")
CHUNK = 5000  # heartbeats per transaction
ERROR_MAX = 2000


class KumaImportError(DomainError):
    kind = "InvalidInput"
    status_code = 422


@dataclass
class KumaReport:
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # imported by an earlier run
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    heartbeats: int = 0

    def lines(self) -> list[str]:
        out = [f"+ plugin {c}" for c in self.created]
        out += [f"= plugin {k} (imported before)" for k in self.kept]
        out += [f"- skipped {s}" for s in self.skipped]
        out += [f"  note: {n}" for n in self.notes]
        out.append(
            f"imported {self.heartbeats:,} heartbeats; {len(self.created)} plugin(s) created, "
            f"{len(self.skipped)} monitor(s) skipped"
        )
        return out


def _key(m: dict[str, Any]) -> str:
    """A monitor across runs: its id and creation time (two kuma.db files rarely share both)."""
    return f"{m['id']}:{m.get('created_date') or ''}"[:200]


async def import_kuma(
    db: Database, settings: Settings, path: Path, progress: Progress, disabled: bool = False
) -> KumaReport:
    try:
        conn = open_kuma(path)
    except KumaError as exc:
        raise KumaImportError(str(exc)) from None
    report = KumaReport()
    try:
        monitors = [dict(r) for r in conn.execute("SELECT * FROM monitor ORDER BY id")]
        hosts: dict[int, sqlite3.Row] = {}
        if "docker_host" in {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }:
            hosts = {int(r["id"]): r for r in conn.execute("SELECT * FROM docker_host")}
        has_ping = "ping" in columns(conn, "heartbeat")
        progress.total = float(conn.execute("SELECT count(*) FROM heartbeat").fetchone()[0])
        progress.begin()
        touched: list[int] = []
        async with history_writer(db, settings) as writer:
            for m in monitors:
                spec, why = spec_for(m, hosts)
                label = f"{m.get('name')!r} ({m.get('type')})"
                if spec is None:
                    report.skipped.append(f"{label}: {why}")
                    continue
                try:
                    pid, position = await _plugin(db, settings, conn, m, spec, disabled, report)
                except InvalidInput as exc:  # e.g. an empty host name: this monitor only
                    report.skipped.append(f"{label}: Unity refuses its settings: {exc.detail}")
                    continue
                report.notes += [f"{spec.name}: {n}" for n in spec.notes]
                added = await _heartbeats(
                    db, writer, conn, m, spec, pid, position, has_ping, progress
                )
                report.heartbeats += added
                touched.append(pid)
                if added:
                    await _health(db, conn, m, pid)
        # Every imported plugin, new heartbeats or not: running the import again also
        # repairs figures an uptime pass of a running server folded in at the same moment.
        await refold_uptime(db, touched)
        progress.show(final=True)
    finally:
        conn.close()
    return report


async def _plugin(
    db: Database,
    settings: Settings,
    conn: sqlite3.Connection,
    m: dict[str, Any],
    spec: Spec,
    disabled: bool,
    report: KumaReport,
) -> tuple[int, int]:
    """The monitor's plugin and how far its heartbeats are imported; created the first time."""
    async with db.session() as session:
        link = await session.get(ImportLink, (KIND, _key(m)))
        if link is not None and await session.get(PluginInstance, link.plugin_id) is not None:
            report.kept.append(f"{spec.name} ({spec.type})")
            return link.plugin_id, link.position
        name = spec.name
        taken = await session.scalar(select(PluginInstance.id).where(PluginInstance.name == name))
        if taken is not None:
            name = f"{name[:80]} (kuma {m['id']})"
        plugin = await create_plugin(
            session,
            PluginRegistry().load(),
            SecretBox(settings.encryption_keys),
            name=name,
            type_=spec.type,
            config=spec.config,
            interval_seconds=spec.interval,
            timeout_seconds=spec.timeout,
            enabled=spec.enabled and not disabled,
        )
        # Uptime counts a plugin's time from its creation: Kuma's, or its first heartbeat.
        first = _created(conn, m)
        if first is not None and first < plugin.created_at:
            plugin.created_at = first
        session.add(ImportLink(kind=KIND, key=_key(m), plugin_id=plugin.id, position=0))
        await session.commit()
        state = "enabled" if plugin.enabled else "disabled"
        report.created.append(f"{name} ({spec.type}, every {spec.interval} s, {state})")
        return plugin.id, 0


def _created(conn: sqlite3.Connection, m: dict[str, Any]) -> datetime | None:
    """When the monitor began: Kuma's created_date, or else its first heartbeat."""
    raw = m.get("created_date")
    if not raw:
        row = conn.execute(
            "SELECT min(time) FROM heartbeat WHERE monitor_id = ?", (m["id"],)
        ).fetchone()
        raw = row[0] if row else None
    return parse_time(raw) if raw else None


async def _heartbeats(
    db: Database,
    writer: MetricsWriter,
    conn: sqlite3.Connection,
    m: dict[str, Any],
    spec: Spec,
    pid: int,
    position: int,
    has_ping: bool,
    progress: Progress,
) -> int:
    query = _BEATS if has_ping else _BEATS_NO_PING
    total = 0
    while True:
        rows = await asyncio.to_thread(_fetch, conn, query, (m["id"], position, CHUNK))
        if not rows:
            return total
        runs: list[dict[str, Any]] = []
        batches = []
        written = 0
        for r in rows:
            ts = parse_time(r["time"])
            status = int(r["status"])
            samples = samples_of(spec, status, r["ping"])
            batches.append((pid, ts, samples))
            written += len(samples)
            ms = float(r["ping"]) if r["ping"] is not None else None
            failed = RUN_STATUS.get(status, "error") != "success"
            runs.append(
                {
                    "plugin_id": pid,
                    "status": RUN_STATUS.get(status, "error"),
                    "trigger": "import",
                    "started_at": ts,
                    "finished_at": ts + timedelta(milliseconds=ms or 0),
                    "duration_ms": ms,
                    "error": str(r["msg"] or "down")[:ERROR_MAX] if failed else None,
                    "sample_count": len(samples),
                }
            )
        try:
            await write_chunk(db, writer, batches)
        except WriteFailed as exc:
            raise KumaImportError(
                f"{spec.name}: {exc}; what was imported before is kept, run the import again"
            ) from None
        position = int(rows[-1]["id"])
        async with db.session() as session:
            for i in range(0, len(runs), 1000):
                await session.execute(insert(PluginRun), runs[i : i + 1000])
            link = await session.get(ImportLink, (KIND, _key(m)))
            assert link is not None
            link.position = position
            await session.commit()
        total += len(rows)
        progress.add(written, [pid], progress.done + len(rows))


def _fetch(conn: sqlite3.Connection, query: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
    return conn.execute(query, params).fetchall()


async def _health(db: Database, conn: sqlite3.Connection, m: dict[str, Any], pid: int) -> None:
    """The plugin's health as Kuma last saw it, unless Unity has run the plugin since."""
    last = conn.execute(
        "SELECT status, msg, time FROM heartbeat WHERE monitor_id = ? ORDER BY id DESC LIMIT 1",
        (m["id"],),
    ).fetchone()
    if last is None:
        return
    last_at = parse_time(last["time"])
    up = conn.execute(
        "SELECT id, time FROM heartbeat WHERE monitor_id = ? AND status = ? "
        "ORDER BY id DESC LIMIT 1",
        (m["id"], UP),
    ).fetchone()
    failures = conn.execute(
        "SELECT count(*) FROM heartbeat WHERE monitor_id = ? AND id > ?",
        (m["id"], up["id"] if up is not None else 0),
    ).fetchone()[0]
    async with db.session() as session:
        health = await session.get(PluginHealth, pid)
        if health is None or (health.last_run_at is not None and health.last_run_at >= last_at):
            return
        ok = RUN_STATUS.get(int(last["status"])) == "success"
        health.status = HealthStatus.HEALTHY if ok else HealthStatus.DOWN
        health.consecutive_failures = 0 if ok else int(failures)
        health.last_run_at = last_at
        health.last_success_at = parse_time(up["time"]) if up is not None else None
        health.last_error = None if ok else str(last["msg"] or "down")[:ERROR_MAX]
        health.changed_at = last_at
        await session.commit()
