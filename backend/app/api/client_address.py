"""The caller's address as seen through trusted proxies (TRUSTED_PROXIES)."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection


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


def _peer(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "unknown"


def is_trusted_peer(conn: HTTPConnection, trusted_proxies: list[str]) -> bool:
    """Whether the direct peer (not what X-Forwarded-For claims) is a trusted proxy."""
    return _in(_peer(conn), trusted_proxies)


def client_address(conn: HTTPConnection, trusted_proxies: list[str]) -> str:
    """The caller's address: X-Forwarded-For is believed only when the peer is a trusted proxy."""
    peer = _peer(conn)
    if not _in(peer, trusted_proxies):
        return peer
    forwarded = [a.strip() for a in conn.headers.get("x-forwarded-for", "").split(",") if a.strip()]
    # Walk from the nearest hop back; the first address that is not a trusted proxy is the client.
    for addr in reversed(forwarded):
        if not _in(addr, trusted_proxies):
            return addr
    return peer


def client_scheme(conn: HTTPConnection, trusted_proxies: list[str]) -> str:
    """The scheme the caller used: X-Forwarded-Proto is believed only from a trusted proxy.

    Anyone else could claim https over plain http and get Secure cookies a browser then never
    sends back over that http connection.
    """
    scheme = conn.url.scheme
    if _in(_peer(conn), trusted_proxies):
        scheme = conn.headers.get("x-forwarded-proto", scheme)
    return scheme.split(",")[0].strip().lower()


def origin_allowed(conn: HTTPConnection, allowed: list[str]) -> bool:
    """Browsers always send Origin: it must be this site itself or a configured CORS origin."""
    origin = conn.headers.get("origin")
    if origin is None:
        return True  # not a browser (curl, scripts): the credentials are what protect it
    if origin in allowed:
        return True
    return urlsplit(origin).netloc == conn.headers.get("host")
