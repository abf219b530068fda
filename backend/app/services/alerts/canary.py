"""The connectivity canary: a built-in reference check that tells "is it me?" apart.

Every CANARY_INTERVAL_SECONDS (leader only) it opens a TCP connection to each target:
`gateway` (the router of the default route in /proc/net/route, port 53; a refused connection
counts as reachable, since the router answered) or `host:port` (must accept). While at least one
target answers, Unity's network is up; after CANARY_FAILURES rounds in which none does, it is
down and an outage row is opened; the first round with an answer closes it. What alerts do
meanwhile is in services/alerts/network.py; uptime counts the outage as unknown time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from app.core.config import Settings
from app.db.session import Database
from app.models import CanaryOutage
from app.models.enums import CanaryState
from app.services.alerts import network

log = logging.getLogger(__name__)

GATEWAY = "gateway"
GATEWAY_PORT = 53
DEFAULT_PORT = 443
RTF_GATEWAY = 0x2


def default_gateway(route_file: Path = Path("/proc/net/route")) -> str | None:
    """The IPv4 router of the default route, from the kernel's routing table; None if none."""
    try:
        lines = route_file.read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        cols = line.split()
        if len(cols) < 4 or cols[1] != "00000000":
            continue
        try:
            flags, gw = int(cols[3], 16), int(cols[2], 16)
        except ValueError:
            continue
        if flags & RTF_GATEWAY and gw:
            return socket.inet_ntoa(struct.pack("<L", gw))
    return None


def parse_target(target: str) -> tuple[str, int]:
    """ "host:port", "[v6]:port" or "host" (port 443) -> (host, port); ValueError if bad."""
    target = target.strip()
    host, port = target, DEFAULT_PORT
    if target.startswith("["):
        host, _, rest = target[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
    elif target.count(":") == 1:
        host, _, p = target.partition(":")
        port = int(p)
    if not host or not 0 < port < 65536:
        raise ValueError(f"canary target {target!r} is not host, host:port or gateway")
    return host, port


@dataclass
class TargetResult:
    target: str  # as configured
    address: str | None  # host:port probed (None: the gateway is not known)
    ok: bool
    detail: str
    checked_at: datetime


@dataclass
class CanaryStatus:
    state: CanaryState
    since: datetime | None = None
    failures: int = 0
    checked_at: datetime | None = None
    targets: list[TargetResult] = field(default_factory=list)


class Canary:
    """Probes the targets and opens or closes outage rows; its status is kept for the API."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Callable[[], datetime],
        route_file: Path = Path("/proc/net/route"),
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.route_file = route_file
        self.targets = list(settings.canary_targets)
        for t in self.targets:
            if t != GATEWAY:
                parse_target(t)  # a bad target stops start-up with its sentence
        self.status = CanaryStatus(CanaryState.UNKNOWN if self.targets else CanaryState.OFF)

    @property
    def enabled(self) -> bool:
        return bool(self.targets)

    async def _probe(self, target: str) -> TargetResult:
        timeout = self.settings.canary_timeout_seconds
        refused_ok = target == GATEWAY
        if target == GATEWAY:
            gw = default_gateway(self.route_file)
            if gw is None:
                now = self.clock()
                return TargetResult(target, None, False, "no default route", now)
            host, port = gw, GATEWAY_PORT
        else:
            host, port = parse_target(target)
        address = f"{host}:{port}"
        try:
            _r, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except ConnectionRefusedError:
            ok, detail = refused_ok, "refused (the host answered)" if refused_ok else "refused"
        except TimeoutError:
            ok, detail = False, f"no answer within {timeout:g} s"
        except OSError as exc:
            ok, detail = False, exc.strerror or type(exc).__name__
        else:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            ok, detail = True, "connected"
        return TargetResult(target, address, ok, detail, self.clock())

    async def check(self) -> CanaryStatus:
        """One round: probe every target, then open or close the outage."""
        if not self.targets:
            return self.status
        results = list(await asyncio.gather(*(self._probe(t) for t in self.targets)))
        now = self.clock()
        st = self.status
        st.targets, st.checked_at = results, now
        if any(r.ok for r in results):
            st.failures = 0
            if st.state != CanaryState.UP:
                await self._close(now)
                st.state, st.since = CanaryState.UP, now
            return st
        st.failures += 1
        if st.failures >= self.settings.canary_failures and st.state != CanaryState.DOWN:
            detail = "; ".join(f"{r.address or r.target}: {r.detail}" for r in results)
            await self._open(now, detail)
            st.state, st.since = CanaryState.DOWN, now
        return st

    async def _open(self, now: datetime, detail: str) -> None:
        async with self.db.session() as session:
            if await network.open_outage(session) is None:
                session.add(CanaryOutage(started_at=now, detail=detail[:1000]))
                await session.commit()
        log.warning("connectivity canary down: Unity's own network is down (%s)", detail)

    async def _close(self, now: datetime) -> None:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(CanaryOutage).where(CanaryOutage.ended_at.is_(None))
            )
            closed = 0
            for outage in rows:
                outage.ended_at = now
                closed += 1
            await session.commit()
        if closed:
            log.warning("connectivity canary up: Unity's own network is back")

    async def run(self) -> None:
        """The scheduled job: a failing round is logged, never raised."""
        try:
            await self.check()
        except Exception as exc:
            log.warning("connectivity canary check failed: %s", exc)
