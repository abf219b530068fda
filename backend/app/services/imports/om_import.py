"""Import an OpenMetrics file (e.g. a Prometheus TSDB dump) as history, resumably.

Which plugin a sample goes to (the first that applies):
  1. `JOB/INSTANCE=NAME` or `JOB=NAME` rules given with --plugin, for samples with those labels;
  2. a bare `NAME` given with --plugin: every other sample;
  3. the plugin named `JOB/INSTANCE` (or `JOB`, or `INSTANCE`, from the sample's labels),
     created if missing, disabled, of a type guessed from the labels (see `guess_type`).
The metric name is the series name; the labels the plugin choice used up (job and instance
for 1 with an instance, and 3; job for 1 without one) are dropped, every other label stays.

The file is read a line at a time and written a chunk at a time; after each chunk commits,
its end (byte offset, line) is committed as the file's checkpoint, so a second run after an
interruption starts there. A chunk written but not yet checkpointed is written again, which
replaces the same samples (the writer overwrites a stored (series, time)).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import InvalidInput
from app.core.security import SecretBox
from app.db.session import Database
from app.models import ImportCheckpoint, PluginInstance
from app.plugins.base import Sample
from app.plugins.registry import PluginRegistry
from app.services.imports.history import Progress, WriteFailed, history_writer, write_chunk
from app.services.imports.openmetrics import ParseError, Point, parse_line, unit_of
from app.services.metrics.series_cache import labels_key
from app.services.plugins.instances import create_plugin

CHUNK_SAMPLES = 20_000
NAME_MAX = 100  # plugins.name
SERIES_NAME_MAX = 200
LABELS_KEY_MAX = 1000
_HOST_PORT = re.compile(r"^(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})$")


class ImportFailed(Exception):
    """The import stopped; the message says where, what is kept, and how to go on."""


@dataclass
class Rule:
    job: str | None  # None: every sample (a bare NAME)
    instance: str | None
    plugin: str

    def matches(self, labels: dict[str, str]) -> bool:
        if self.job is None:
            return True
        if labels.get("job") != self.job:
            return False
        return self.instance is None or labels.get("instance") == self.instance

    @property
    def drops(self) -> tuple[str, ...]:
        if self.job is None:
            return ()
        return ("job",) if self.instance is None else ("job", "instance")


def parse_rules(values: list[str]) -> list[Rule]:
    """--plugin values: `JOB/INSTANCE=NAME`, `JOB=NAME` or `NAME` (at most one bare NAME)."""
    rules: list[Rule] = []
    bare: list[Rule] = []
    for value in values:
        selector, eq, name = value.rpartition("=")
        name = name.strip()
        if not name or len(name) > NAME_MAX:
            raise InvalidInput(
                f"--plugin {value!r}: give a plugin name of 1 to {NAME_MAX} characters, "
                "as NAME, JOB=NAME or JOB/INSTANCE=NAME."
            )
        if not eq:
            bare.append(Rule(None, None, name))
            continue
        job, slash, instance = selector.partition("/")
        if not job:
            raise InvalidInput(f"--plugin {value!r}: the part before '=' needs a job name.")
        rules.append(Rule(job, instance if slash else None, name))
    if len(bare) > 1:
        raise InvalidInput("Give at most one --plugin NAME without '=' (it takes every sample).")
    return rules + bare


def guess_type(labels: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """A Unity plugin type (and config) for a job/instance: an http check for a URL, the
    system plugin for a node exporter, a tcp check for host:port, else a push monitor (it
    collects nothing by itself; also when the guessed settings are refused). Imported plugins
    start disabled either way."""
    job = labels.get("job", "")
    instance = labels.get("instance", "")
    if instance.startswith(("http://", "https://")):
        return "http", {"url": instance}
    if "node" in job:
        return "system", {}
    m = _HOST_PORT.match(instance)
    if m and 0 < int(m["port"]) < 65536:
        return "tcp", {"host": m["host"].strip("[]"), "port": int(m["port"])}
    return "push", {}


def default_name(labels: dict[str, str]) -> str:
    job, instance = labels.get("job"), labels.get("instance")
    parts = [p for p in (job, instance) if p]
    return "/".join(parts)[:NAME_MAX] if parts else "imported"


def fingerprint(path: Path) -> tuple[str, int]:
    """The file by content (its size and the SHA-256 of its first 64 KiB), and its size."""
    size = path.stat().st_size
    with path.open("rb") as f:
        digest = hashlib.sha256(f.read(65536)).hexdigest()
    return f"openmetrics:{size}:{digest}", size


@dataclass
class Report:
    samples: int = 0  # written by this run
    skipped: int = 0  # NaN or infinite values (Prometheus stale markers among them)
    lines: int = 0
    resumed_at: int = 0  # the line this run started after (0: from the start)
    already_done: bool = False
    created: list[str] = field(default_factory=list)  # "name (type)"


class Resolver:
    """Labels -> (plugin id, labels to drop); creates missing plugins, disabled."""

    def __init__(self, db: Database, settings: Settings, rules: list[Rule], report: Report):
        self.db = db
        self.settings = settings
        self.rules = rules
        self.report = report
        self.registry = PluginRegistry().load()
        self._cache: dict[tuple[str | None, str | None], tuple[int, tuple[str, ...]]] = {}

    async def plugin_for(self, labels: dict[str, str]) -> tuple[int, tuple[str, ...]]:
        key = (labels.get("job"), labels.get("instance"))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        rule = next((r for r in self.rules if r.matches(labels)), None)
        if rule is not None:
            name, drops = rule.plugin, rule.drops
        else:
            name, drops = default_name(labels), ("job", "instance")
        # A new plugin's type comes from the labels its name stands for: none for a bare NAME.
        pid = await self._plugin(name, {k: v for k, v in labels.items() if k in drops})
        self._cache[key] = (pid, drops)
        return pid, drops

    async def _plugin(self, name: str, labels: dict[str, str]) -> int:
        async with self.db.session() as session:
            found = await session.scalar(
                select(PluginInstance.id).where(PluginInstance.name == name)
            )
            if found is not None:
                return int(found)
            type_, config = guess_type(labels)
            box = SecretBox(self.settings.encryption_keys)
            try:
                plugin = await self._create(session, box, name, type_, config)
            except InvalidInput:  # the guessed settings do not fit (e.g. an odd host name)
                await session.rollback()
                type_, config = "push", {}
                plugin = await self._create(session, box, name, type_, config)
            self.report.created.append(f"{name} ({type_})")
            return plugin.id

    async def _create(
        self, session: AsyncSession, box: SecretBox, name: str, type_: str, config: dict[str, Any]
    ) -> PluginInstance:
        return await create_plugin(
            session,
            self.registry,
            box,
            name=name,
            type_=type_,
            config=config,
            interval_seconds=None,
            timeout_seconds=None,
            enabled=False,
        )


def _units_before(f: BinaryIO, offset: int) -> dict[str, str]:
    """`# UNIT` lines before a resume point (a family may go on after it)."""
    units: dict[str, str] = {}
    while f.tell() < offset:
        raw = f.readline()
        if not raw:
            break
        if raw.startswith(b"# UNIT"):
            parse_line(raw.decode("utf-8", "replace"), 0, units)
    return units


async def import_openmetrics(
    db: Database,
    settings: Settings,
    path: Path,
    plugin_rules: list[str],
    progress: Progress,
    chunk_samples: int = CHUNK_SAMPLES,
    after_chunk: Callable[[int], None] | None = None,
) -> Report:
    """Import `path`; resumes at its checkpoint. `after_chunk(line)` runs after each commit."""
    rules = parse_rules(plugin_rules)
    report = Report()
    source, size = fingerprint(path)
    async with db.session() as session:
        cp = await session.get(ImportCheckpoint, source)
        if cp is None:
            cp = ImportCheckpoint(source=source, offset=0, line=0, samples=0, done=False)
            session.add(cp)
            await session.commit()
        offset, lineno, total, done = cp.offset, cp.line, cp.samples, cp.done
    if done:
        report.already_done, report.samples = True, total
        return report
    report.resumed_at = lineno
    resolver = Resolver(db, settings, rules, report)
    progress.total = float(size) or None
    progress.begin(total, float(offset))
    async with history_writer(db, settings) as writer:
        with path.open("rb") as f:
            units = _units_before(f, offset) if offset else {}
            f.seek(offset)
            eof = False
            while not eof:
                points: list[tuple[int, Point]] = []
                skipped = 0
                start_line = lineno
                while len(points) < chunk_samples:
                    raw = f.readline()
                    if not raw:
                        eof = True
                        break
                    lineno += 1
                    try:
                        text = raw.decode("utf-8")
                    except UnicodeDecodeError:
                        raise _failed(path, lineno, "not UTF-8 text", start_line) from None
                    try:
                        got = parse_line(text, lineno, units)
                    except ParseError as exc:
                        raise _failed(path, lineno, exc.reason, start_line) from None
                    if got is False:
                        eof = True
                        break
                    if got is None:
                        continue
                    if not math.isfinite(got.value):
                        skipped += 1
                        continue
                    points.append((lineno, got))
                batches, keys = await _batches(resolver, points, units, path, start_line)
                try:
                    await write_chunk(db, writer, batches)
                except WriteFailed as exc:
                    raise ImportFailed(
                        f"{path}: {exc}; the lines before line {start_line + 1} are imported: "
                        "run the same command again to resume"
                    ) from None
                total += len(points)
                report.samples += len(points)
                report.skipped += skipped
                offset = f.tell()
                async with db.session() as session:
                    cp = await session.get(ImportCheckpoint, source)
                    assert cp is not None
                    cp.offset, cp.line, cp.samples, cp.done = offset, lineno, total, eof
                    cp.updated_at = datetime.now(UTC)
                    await session.commit()
                progress.add(len(points), keys, float(offset))
                if after_chunk is not None and not eof:
                    after_chunk(lineno)
    report.lines = lineno
    progress.show(final=True)
    return report


def _failed(path: Path, lineno: int, message: str, kept_until: int) -> ImportFailed:
    kept = f"lines 1-{kept_until} are imported" if kept_until else "nothing was imported"
    return ImportFailed(
        f"{path}: line {lineno}: {message}; {kept}: fix the file and run the same command "
        "again (a changed file is imported from the start, which replaces, never repeats, "
        "what is stored)"
    )


async def _batches(
    resolver: Resolver,
    points: list[tuple[int, Point]],
    units: dict[str, str],
    path: Path,
    start_line: int,
) -> tuple[list[tuple[int, datetime, list[Sample]]], set[tuple[int, str, str]]]:
    """A chunk as writer batches, one per (plugin, time), and its series keys."""
    groups: dict[tuple[int, float], list[Sample]] = {}
    keys: set[tuple[int, str, str]] = set()
    for lineno, p in points:
        pid, drops = await resolver.plugin_for(p.labels)
        labels = {k: v for k, v in p.labels.items() if k not in drops} if drops else p.labels
        key = labels_key(labels)
        if len(p.name) > SERIES_NAME_MAX or len(key) > LABELS_KEY_MAX:
            raise _failed(
                path,
                lineno,
                f"the series {p.name!r} is too long for Unity (a name of at most "
                f"{SERIES_NAME_MAX} characters, labels of at most {LABELS_KEY_MAX})",
                start_line,
            )
        keys.add((pid, p.name, key))
        groups.setdefault((pid, p.ts), []).append(
            Sample(p.name, p.value, unit_of(p.name, units)[:32], labels)
        )
    batches = [(pid, datetime.fromtimestamp(ts, UTC), xs) for (pid, ts), xs in groups.items()]
    return batches, keys
