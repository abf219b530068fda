"""In-memory sliding-window rate limiter, and the client address as seen through trusted proxies."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections import deque

from starlette.requests import HTTPConnection


class RateLimiter:
    """Counts events per key over a 60 s window; memory is bounded by pruning idle keys."""

    def __init__(self, window_seconds: float = 60.0, max_keys: int = 100_000) -> None:
        self.window = window_seconds
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def _prune(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def retry_after(self, key: str, limit: int, now: float | None = None) -> float:
        """Seconds until another hit is allowed for `key` (0 when allowed now)."""
        if key not in self._hits:  # only checking must not grow the table
            return 0.0
        now = time.monotonic() if now is None else now
        hits = self._prune(key, now)
        if len(hits) < limit:
            return 0.0
        # the oldest hit that still counts leaves the window after this long
        return max(0.0, hits[len(hits) - limit] + self.window - now)

    def hit(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if len(self._hits) >= self.max_keys:
            for k in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                del self._hits[k]
        self._prune(key, now).append(now)

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)


class TrustedProxies:
    """TRUSTED_PROXIES: addresses, networks, or host names such as the compose service `frontend`.

    Names are resolved without blocking the event loop, at most every `ttl` seconds, so a proxy
    container that restarts with a new address is followed; a failed lookup keeps the last answer.
    """

    def __init__(self, entries: list[str], ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._static: list[str] = []
        self._names: list[str] = []
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
                self._static.append(entry)
            except ValueError:
                self._names.append(entry)
        self._resolved: dict[str, list[str]] = {}
        self._at = -ttl

    async def networks(self) -> list[str]:
        if self._names and time.monotonic() - self._at >= self.ttl:
            self._at = time.monotonic()
            loop = asyncio.get_running_loop()
            for name in self._names:
                try:
                    infos = await asyncio.wait_for(loop.getaddrinfo(name, None), 2)
                except (OSError, TimeoutError):
                    continue
                self._resolved[name] = sorted({str(info[4][0]) for info in infos})
        return self._static + [a for addrs in self._resolved.values() for a in addrs]


def _in(addr: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    for net in networks:
        try:
            if ip in ipaddress.ip_network(net, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(conn: HTTPConnection, trusted_proxies: list[str]) -> str:
    """The caller's address: X-Forwarded-For is believed only when the peer is a trusted proxy."""
    peer = conn.client.host if conn.client else "unknown"
    if not _in(peer, trusted_proxies):
        return peer
    forwarded = [a.strip() for a in conn.headers.get("x-forwarded-for", "").split(",") if a.strip()]
    # Walk from the nearest hop back; the first address that is not a trusted proxy is the client.
    for addr in reversed(forwarded):
        if not _in(addr, trusted_proxies):
            return addr
    return peer
