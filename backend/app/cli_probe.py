"""`python -m app probe`: run a remote probe that reports to a Unity hub over HTTPS."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from app.core.config import Settings
from app.core.signals import stop_on_signals
from app.plugins.registry import PluginRegistry
from app.services.probes.hub import LOCATION_RE

if TYPE_CHECKING:  # the agent (and httpx) load only when a probe runs, not with every command
    from app.services.probes.agent import ProbeOptions

log = logging.getLogger("app.probe")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "probe",
        help="run a remote probe: the plugins assigned to its location, reported to the hub",
        description="Needs only outbound HTTPS to the hub. The token (scope probe) comes from "
        "--token, --token-file or PROBE_TOKEN.",
    )
    p.add_argument("--hub", required=True, help="the hub's URL, e.g. https://unity.example")
    p.add_argument("--token", help="the probe token (prefer --token-file or PROBE_TOKEN)")
    p.add_argument("--token-file", type=Path, help="a file holding the probe token")
    p.add_argument("--location", required=True, help="this probe's location, e.g. vps-1")
    p.add_argument(
        "--fingerprint",
        help="trust exactly the hub certificate with this SHA-256 fingerprint (self-signed hubs)",
    )
    p.add_argument("--ca-file", type=Path, help="a CA bundle to verify the hub's certificate")
    p.add_argument(
        "--allow-http",
        action="store_true",
        help="allow plain http to a non-loopback hub (only over a private link: VPN, tunnel)",
    )
    p.add_argument("--spool-dir", type=Path, help="default: DATA_DIR/probe-spool")
    p.add_argument("--spool-max-mb", type=float, default=64.0, help="spool size limit (64)")
    p.add_argument(
        "--spool-max-age-hours", type=float, default=24.0, help="drop results older (24)"
    )
    p.add_argument("--heartbeat-seconds", type=int, default=10, help="heartbeat period (10)")


def options_from(
    args: argparse.Namespace, settings: Settings, fail: Callable[[str], NoReturn]
) -> ProbeOptions:
    from app.services.probes.agent import ProbeOptions

    token = args.token
    if token is None and args.token_file is not None:
        try:
            token = args.token_file.read_text().strip()
        except OSError as exc:
            fail(f"--token-file {args.token_file}: {exc.strerror}")
    token = token or settings.probe_token
    if not token:
        fail("a probe token is needed: --token-file FILE, --token or PROBE_TOKEN")
    if not LOCATION_RE.fullmatch(args.location):
        fail(f"--location {args.location!r}: use lowercase letters, digits, '-' or '_'")
    if not 1 <= args.heartbeat_seconds <= 3600:
        fail("--heartbeat-seconds must be between 1 and 3600")
    return ProbeOptions(
        hub=args.hub,
        token=token,
        location=args.location,
        spool_dir=args.spool_dir or settings.data_dir / "probe-spool",
        fingerprint=args.fingerprint,
        ca_file=args.ca_file,
        allow_http=args.allow_http,
        spool_max_bytes=int(args.spool_max_mb * 1024 * 1024),
        spool_max_age_seconds=args.spool_max_age_hours * 3600,
        heartbeat_seconds=args.heartbeat_seconds,
    )


def run(args: argparse.Namespace, settings: Settings, fail: Callable[[str], NoReturn]) -> None:
    from app.services.probes.agent import ProbeConfigError, client_for

    options = options_from(args, settings, fail)
    try:
        client = client_for(options)
    except ProbeConfigError as exc:
        fail(str(exc))
    asyncio.run(_main(options, settings, client))


async def _main(options: ProbeOptions, settings: Settings, client: Any) -> None:
    from app.services.probes.agent import ProbeAgent

    stop = asyncio.Event()
    stop_on_signals(stop)
    agent = ProbeAgent(options, settings, PluginRegistry().load(), client)
    log.info("probe starting", extra={"location": options.location, "hub": options.hub})
    await agent.run(stop)
    log.info("probe stopped", extra={"location": options.location})
