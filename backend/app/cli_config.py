"""`python -m app config export|apply`: configuration as code from the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.config import Settings, environment
from app.core.errors import DomainError
from app.core.security import SecretBox
from app.db.migrate import migrate
from app.db.session import Database
from app.plugins.registry import PluginRegistry
from app.services.config.apply import apply_config
from app.services.config.export import export_config
from app.services.config.yamlfile import ConfigFileError


def add_parser(sub: Any) -> None:
    config = sub.add_parser("config", help="export or apply the configuration as YAML")
    verbs = config.add_subparsers(dest="config_cmd", required=True)
    export = verbs.add_parser(
        "export",
        help="write plugins, channels, alert rules, silences and maintenance windows as YAML",
    )
    export.add_argument(
        "--include-secrets-as-env",
        action="store_true",
        help="also write the secrets' values under env: (plain text: keep the file private)",
    )
    apply = verbs.add_parser("apply", help="show the differences from FILE, then apply them")
    apply.add_argument("file", help="a YAML file, e.g. one written by `config export`; - is stdin")
    apply.add_argument("--dry-run", action="store_true", help="show the differences only")
    apply.add_argument(
        "--prune", action="store_true", help="remove objects of the listed kinds not in FILE"
    )


def run(settings: Settings, args: argparse.Namespace, fail: Callable[[str], None]) -> None:
    if args.config_cmd == "export":
        text = asyncio.run(_export(settings, args.include_secrets_as_env))
        sys.stdout.write(text)
        return
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {args.file}: {exc}")
    try:
        lines = asyncio.run(_apply(settings, text, args.dry_run, args.prune))
    except ConfigFileError as exc:
        for line in exc.lines()[:-1]:
            sys.stderr.write(f"unity: {args.file}: {line}\n")
        fail(f"{args.file}: {exc.lines()[-1]}; nothing was changed")
    except DomainError as exc:
        fail(f"{exc.detail}; nothing was changed")
    sys.stdout.write("".join(f"{line}\n" for line in lines))


async def _export(settings: Settings, include_secrets: bool) -> str:
    db = Database(settings.db_url)
    try:
        await migrate(db.engine)  # a new install exports an empty configuration, not an error
        async with db.session() as session:
            return await export_config(
                session,
                SecretBox(settings.encryption_keys),
                PluginRegistry().load(),
                include_secrets=include_secrets,
            )
    finally:
        await db.dispose()


async def _apply(settings: Settings, text: str, dry_run: bool, prune: bool) -> list[str]:
    db = Database(settings.db_url)
    try:
        await migrate(db.engine)  # an empty database can take a whole configuration
        async with db.session() as session:
            result = await apply_config(
                session,
                SecretBox(settings.encryption_keys),
                PluginRegistry().load(),
                text,
                environment(),
                dry_run=dry_run,
                prune=prune,
                user="config apply",
            )
        return result.lines()
    finally:
        await db.dispose()
