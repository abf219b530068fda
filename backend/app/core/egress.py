"""Where checks may connect: the SSRF policy applied after DNS resolution and on every hop.

A homelab monitor must reach private LAN ranges, so those stay allowed. What it must never
reach is a cloud metadata service (credentials of the machine it runs on): those addresses and
names are refused always. `CHECK_DENY_NETWORKS` (default: link-local, which holds the metadata
addresses) lists ranges checks may not target; `CHECK_ALLOW_NETWORKS`, when set, is the only
place they may. The policy is checked on the addresses a name resolves to, right before
connecting to exactly those addresses, so DNS cannot answer one address to the check and
another to the connection; an HTTP redirect opens a new connection and is checked again.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_DENY = ("169.254.0.0/16", "fe80::/10")
# Cloud metadata services (AWS, GCP, Azure, Oracle, DigitalOcean: 169.254.169.254; AWS over
# IPv6: fd00:ec2::254; Alibaba: 100.100.100.200; Oracle also 192.0.0.192).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
METADATA_NAMES = frozenset(
    {
        "metadata.google.internal",
        "metadata.goog",
        "metadata",
        "instance-data",
        "instance-data.ec2.internal",
    }
)


LITERALS_KEPT = 4096


class EgressDenied(Exception):
    """A check tried to reach an address the policy refuses; the message says which setting."""


def parse_networks(values: Iterable[str], setting: str) -> tuple[IPNetwork, ...]:
    nets: list[IPNetwork] = []
    for value in values:
        try:
            nets.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"{setting}: {value!r} is not an address range; "
                "write e.g. 169.254.0.0/16 or fe80::/10"
            ) from None
    return tuple(nets)


def _plain(ip: IPAddress) -> IPAddress:
    # ::ffff:169.254.169.254 is 169.254.169.254 to the kernel.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _refuse_metadata_name(host: str) -> None:
    if host.strip().rstrip(".").lower() in METADATA_NAMES:
        raise EgressDenied(
            f"{host} is a cloud metadata service; Unity never lets a check reach it."
        )


def _refuse_metadata_address(ip: IPAddress, via: str) -> None:
    if _plain(ip) in METADATA_ADDRESSES:
        raise EgressDenied(f"{via} is a cloud metadata address; Unity never lets a check reach it.")


def refuse_metadata(host: str) -> None:
    """Raise EgressDenied for a cloud metadata name or literal address (IPv4-mapped too).

    The part of the policy no setting changes, and it needs no DNS: a config is refused with it
    already when saved. What a name resolves to is checked when the check runs (`resolve`).
    """
    _refuse_metadata_name(host)
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return
    _refuse_metadata_address(ip, host)


@dataclass(frozen=True)
class EgressPolicy:
    deny: tuple[IPNetwork, ...] = field(default_factory=lambda: parse_networks(DEFAULT_DENY, ""))
    allow: tuple[IPNetwork, ...] = ()
    # Literal addresses already checked (host as configured -> address): the answer cannot
    # change under one policy, and parsing it twice per run was ~5 % of a loopback check's CPU.
    _literals: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_settings(cls, deny: Sequence[str], allow: Sequence[str]) -> EgressPolicy:
        return cls(
            parse_networks(deny, "CHECK_DENY_NETWORKS"),
            parse_networks(allow, "CHECK_ALLOW_NETWORKS"),
        )

    def check_name(self, host: str) -> None:
        _refuse_metadata_name(host)

    def check_address(self, address: str | IPAddress, host: str | None = None) -> None:
        ip = _plain(ipaddress.ip_address(address))
        via = f"{host} resolves to {ip}, which" if host and host != str(ip) else f"{ip}"
        _refuse_metadata_address(ip, via)
        for net in self.deny:
            if ip.version == net.version and ip in net:
                raise EgressDenied(
                    f"{via} is in {net}, which CHECK_DENY_NETWORKS forbids checks to reach."
                )
        if self.allow and not any(ip.version == n.version and ip in n for n in self.allow):
            raise EgressDenied(
                f"{via} is outside CHECK_ALLOW_NETWORKS, the only ranges checks may reach."
            )

    async def resolve(self, host: str, port: int, wait: float | None = None) -> list[str]:
        """The addresses `host` resolves to, every one allowed, in resolver order.

        Raises EgressDenied if the name or any of its addresses is refused (one bad answer
        among good ones is a rebinding attempt, not a reason to pick the good one), and
        OSError/TimeoutError when the name does not resolve.
        """
        if (known := self._literals.get(host)) is not None:
            return [known]
        self.check_name(host)
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            self.check_address(literal)
            if len(self._literals) >= LITERALS_KEPT:
                self._literals.clear()
            self._literals[host] = str(literal)
            return [str(literal)]
        loop = asyncio.get_running_loop()
        infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), wait)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            self.check_address(address.split("%")[0], host)
        return addresses


_policy = EgressPolicy()


def configure(deny: Sequence[str], allow: Sequence[str]) -> None:
    """Install the policy from settings (called once by create_app)."""
    global _policy
    _policy = EgressPolicy.from_settings(deny, allow)


def policy() -> EgressPolicy:
    return _policy


def guarded_transport(**kwargs: Any) -> Any:
    """An httpx transport whose every connection (redirect hops included) obeys the policy."""
    import httpcore
    import httpx

    class GuardedBackend(httpcore.AsyncNetworkBackend):
        def __init__(self) -> None:
            self._inner = httpcore.AnyIOBackend()

        async def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.AsyncNetworkStream:
            try:
                addresses = await policy().resolve(host, port, timeout)
            except TimeoutError:
                raise httpcore.ConnectTimeout(f"resolving {host} took too long") from None
            except OSError as exc:
                raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
            last: Exception | None = None
            for address in addresses:  # connect to exactly what was checked
                try:
                    return await self._inner.connect_tcp(
                        address, port, timeout, local_address, socket_options
                    )
                except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                    last = exc
            assert last is not None
            raise last

        async def connect_unix_socket(
            self,
            path: str,
            timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
            socket_options: Any = None,
        ) -> httpcore.AsyncNetworkStream:
            raise httpcore.ConnectError("checks do not connect to unix sockets")

        async def sleep(self, seconds: float) -> None:
            await self._inner.sleep(seconds)

    transport = httpx.AsyncHTTPTransport(**kwargs)
    # httpx has no public hook for the network backend; its pool (httpcore) takes one.
    transport._pool._network_backend = GuardedBackend()
    return transport
