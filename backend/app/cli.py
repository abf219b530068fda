"""Command line: `python -m app serve|migrate|rotate-key|setup-code|config|import|probe|worker`."""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import subprocess  # nosec B404
import sys
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TextIO

from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app import cli_config, cli_import, cli_probe, cli_worker
from app.core.config import ConfigError, Settings, get_settings, redact
from app.core.logging import setup_logging
from app.core.security import SecretBox
from app.db.migrate import migrate_database
from app.db.session import Database
from app.services.auth.totp import rotate_totp_secrets
from app.services.notify.channels import rotate_channel_urls
from app.services.plugins.push import rotate_push_tokens

log = logging.getLogger("app.cli")


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"unity: {message}\n")
    raise SystemExit(1)


def _settings(log_stream: TextIO | None = None) -> Settings:
    try:
        settings = get_settings()
        setup_logging(settings.log_level, settings.log_format, log_stream)
        settings.db_url  # noqa: B018 - parse DATABASE_URL now, so a bad one fails here
        return settings.prepare()
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]).upper()
        _fail(f"{field}: {err['msg'].removeprefix('Value error, ')}")
    except ConfigError as exc:
        _fail(str(exc))
    raise AssertionError("unreachable")


async def _check_database(settings: Settings) -> None:
    db = Database(settings.db_url, timeouts=settings.db_timeouts)
    try:
        async with db.engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), 10)
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        _fail(
            f"cannot reach the database at {redact(settings.db_url.render_as_string(False))}: "
            f"{reason}. Is it running, and is DATABASE_URL right?"
        )
    finally:
        await db.dispose()


async def _rotate(settings: Settings) -> int:
    """Re-encrypt every stored credential under the newest key (the first in ENCRYPTION_KEY).

    All or nothing: one transaction, and a credential no key opens aborts it with a sentence.
    """
    from app.models import PluginInstance

    box = SecretBox(settings.encryption_keys)
    newest = SecretBox(settings.encryption_keys[:1])
    db = Database(settings.db_url, timeouts=settings.db_timeouts)
    count = 0
    try:
        async with db.session() as session:
            for plugin in await session.scalars(
                select(PluginInstance).where(PluginInstance.secrets.is_not(None))
            ):
                assert plugin.secrets is not None
                try:
                    plugin.secrets = box.rotate(plugin.secrets)
                except ValueError as exc:
                    _fail(f"plugin {plugin.id} ({plugin.name!r}): {exc}; nothing was changed")
                newest.decrypt(plugin.secrets)  # prove the newest key alone now opens it
                count += 1
            for rotate_more in _EXTRA_ROTATIONS:
                try:
                    count += await rotate_more(session, box)
                except ValueError as exc:  # a credential no key opens: say which, change nothing
                    _fail(str(exc))
            await session.commit()
    finally:
        await db.dispose()
    return count


# Other tables holding Fernet ciphertext register a coroutine here (e.g. notification channels):
# it re-encrypts its rows with `box.rotate` in the given session, returns how many it changed,
# and raises ValueError naming the row when one cannot be decrypted.
_EXTRA_ROTATIONS: list[Callable[[AsyncSession, SecretBox], Awaitable[int]]] = [
    rotate_channel_urls,
    rotate_push_tokens,
    rotate_totp_secrets,
]


def _probe_settings() -> Settings:
    try:
        settings = get_settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        _fail(f"{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}")
    setup_logging(settings.log_level, settings.log_format)
    return settings


def _print_setup_code(settings: Settings) -> None:
    from app.services.auth import setup_code

    code = setup_code.current(settings)
    if code is None:
        _fail(
            "there is no setup code: either an admin exists already (sign in instead), or the "
            f"server has not started yet with DATA_DIR={settings.data_dir}"
        )
    sys.stdout.write(f"{code}\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="unity", description="Unity homelab monitoring hub")
    sub = parser.add_subparsers(dest="cmd")
    serve = sub.add_parser("serve", help="migrate, then serve the API (and the built UI)")
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a server meant to be reached  # nosec B104
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--reload", action="store_true", help="restart on code changes (dev)")
    sub.add_parser("migrate", help="upgrade the database schema to the newest version")
    down = sub.add_parser("downgrade", help="downgrade the database schema")
    down.add_argument("revision", help="target revision, e.g. -1 or base")
    sub.add_parser("rotate-key", help="re-encrypt stored credentials under the newest key")
    sub.add_parser("setup-code", help="print the one-time code first-run setup asks for")
    cli_config.add_parser(sub)
    cli_import.add_parser(sub)
    cli_probe.add_parser(sub)
    cli_worker.add_parser(sub)
    args = parser.parse_args(argv)
    cmd = args.cmd or "serve"
    if cmd == "probe":  # a probe has no database and needs none of the hub's secrets
        cli_probe.run(args, _probe_settings(), _fail)
        return

    # `config export` writes YAML to stdout, so its log lines go to stderr
    settings = _settings(sys.stderr if cmd in ("config", "import") else None)
    if cmd == "setup-code":
        _print_setup_code(settings)
        return
    asyncio.run(_check_database(settings))
    if cmd == "config":
        cli_config.run(settings, args, _fail)
    elif cmd == "import":
        cli_import.run(settings, args, _fail)
    elif cmd == "worker":
        cli_worker.run(args, settings, _fail)
    elif cmd == "migrate":
        asyncio.run(migrate_database(settings))
    elif cmd == "downgrade":
        asyncio.run(migrate_database(settings, "downgrade", args.revision))
    elif cmd == "rotate-key":
        count = asyncio.run(_rotate(settings))
        log.info(
            "re-encrypted %d stored credentials under the newest key; once every replica runs "
            "with it first, the older keys can be removed from ENCRYPTION_KEY",
            count,
        )
    else:
        _serve(args, settings)


def _migrate_in_child() -> None:
    """Migrate in a short child process, so the long-lived server never imports Alembic
    (with Mako and Pygments, ~10 MB it would keep for nothing)."""
    done = subprocess.run([sys.executable, "-m", "app.db.migrate"], check=False)  # nosec B603
    if done.returncode != 0:
        _fail("the database schema could not be upgraded (see above); the server was not started")


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    from app.core.worker import http_drain_seconds
    from app.server import Server

    options: dict[str, Any] = {
        "host": getattr(args, "host", "0.0.0.0"),  # noqa: S104  # nosec B104
        "port": getattr(args, "port", 8000),
        "log_config": None,
        "proxy_headers": False,
        # Requests in flight get a little of the shutdown deadline; the lifespan the rest.
        "timeout_graceful_shutdown": http_drain_seconds(settings.shutdown_timeout_seconds),
        "ws_ping_interval": settings.ws_ping_seconds,
    }
    if getattr(args, "reload", False):  # dev: uvicorn's reloader runs its own server
        uvicorn.run("app.main:create_app", factory=True, reload=True, **options)
    else:
        from app.main import create_app

        _migrate_in_child()
        factory = functools.partial(create_app, migrate_on_start=False)
        Server(uvicorn.Config(factory, factory=True, **options)).run()
