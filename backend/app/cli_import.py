"""`python -m app import openmetrics|kuma`: bring history over from Prometheus or Uptime Kuma."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.config import Settings
from app.core.errors import DomainError
from app.db.migrate import migrate
from app.db.session import Database
from app.services.imports.history import Progress
from app.services.imports.kuma_import import KumaReport, import_kuma
from app.services.imports.om_import import CHUNK_SAMPLES, ImportFailed, Report, import_openmetrics


def add_parser(sub: Any) -> None:
    imp = sub.add_parser("import", help="import history from Prometheus or Uptime Kuma")
    kinds = imp.add_subparsers(dest="import_cmd", required=True)
    om = kinds.add_parser(
        "openmetrics",
        help="samples from an OpenMetrics file (promtool tsdb dump-openmetrics); resumable",
    )
    om.add_argument("file", help="the OpenMetrics text file")
    om.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="[JOB[/INSTANCE]=]NAME",
        help="put samples of that job (and instance) into plugin NAME; a bare NAME takes every "
        "other sample. Default: the plugin named JOB/INSTANCE, created (disabled) if missing",
    )
    om.add_argument(
        "--chunk",
        type=int,
        default=CHUNK_SAMPLES,
        help=f"samples written per transaction and checkpoint (default {CHUNK_SAMPLES})",
    )
    kuma = kinds.add_parser(
        "kuma", help="monitors and heartbeats from an Uptime Kuma database (kuma.db)"
    )
    kuma.add_argument("file", help="the kuma.db file (copy it while Uptime Kuma is stopped)")
    kuma.add_argument(
        "--disabled", action="store_true", help="create every plugin disabled (default: as active)"
    )


def run(settings: Settings, args: argparse.Namespace, fail: Callable[[str], None]) -> None:
    path = Path(args.file)
    if not path.is_file():
        fail(f"{path}: no such file")
    try:
        if args.import_cmd == "openmetrics":
            if args.chunk < 1:
                fail("--chunk must be at least 1")
            report = asyncio.run(_openmetrics(settings, path, args.plugin, args.chunk))
            _print_om(path, report)
        else:
            _print_kuma(asyncio.run(_kuma(settings, path, args.disabled)))
    except KeyboardInterrupt:
        fail(
            f"interrupted; what was committed is kept: run the same command again to resume {path}"
        )
    except ImportFailed as exc:
        fail(str(exc))
    except DomainError as exc:
        fail(exc.detail)


async def _openmetrics(settings: Settings, path: Path, rules: list[str], chunk: int) -> Report:
    db = Database(settings.db_url)
    try:
        await migrate(db.engine)
        progress = Progress(sys.stderr)
        return await import_openmetrics(db, settings, path, rules, progress, chunk)
    finally:
        await db.dispose()


async def _kuma(settings: Settings, path: Path, disabled: bool) -> KumaReport:
    db = Database(settings.db_url)
    try:
        await migrate(db.engine)
        return await import_kuma(db, settings, path, Progress(sys.stderr), disabled=disabled)
    finally:
        await db.dispose()


def _print_om(path: Path, report: Report) -> None:
    out = sys.stdout
    if report.already_done:
        out.write(f"{path} was imported already ({report.samples:,} samples); nothing to do\n")
        return
    for created in report.created:
        out.write(f"+ plugin {created}, disabled: it holds the imported history\n")
    if report.resumed_at:
        out.write(f"resumed after line {report.resumed_at:,}\n")
    out.write(f"imported {report.samples:,} samples from {report.lines:,} lines of {path}")
    if report.skipped:
        out.write(f"; skipped {report.skipped:,} NaN or infinite values")
    out.write("\n")


def _print_kuma(report: KumaReport) -> None:
    out = sys.stdout
    for line in report.lines():
        out.write(f"{line}\n")
