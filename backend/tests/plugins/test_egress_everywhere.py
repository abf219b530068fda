"""The SSRF policy for every check that connects, not only `http` and `tcp`.

A listener on loopback counts what reaches it: a refused check must not even connect.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.core import egress
from app.plugins.base import Plugin, PluginContext
from app.plugins.builtin import dns, mysql, ping, postgres, redis, snmp, ssh

from .conftest import collect


class Listener:
    """A TCP and a UDP socket on one loopback port, counting connections and datagrams."""

    def __init__(self) -> None:
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(8)
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.hits: list[str] = []
        for sock, kind in ((self.tcp, "tcp"), (self.udp, "udp")):
            threading.Thread(target=self._count, args=(sock, kind), daemon=True).start()

    def _count(self, sock: socket.socket, kind: str) -> None:
        while True:
            try:
                if kind == "tcp":
                    conn, _ = sock.accept()
                    conn.close()
                else:
                    sock.recvfrom(4096)
            except OSError:
                return
            self.hits.append(kind)

    def close(self) -> None:
        for sock in (self.tcp, self.udp):
            sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    target = Listener()
    egress.configure(["127.0.0.0/8", "::1/128"], [])
    try:
        yield target
    finally:
        target.close()
        egress.configure(egress.DEFAULT_DENY, [])


def make(module: Any, tmp_path: Path, **config: object) -> Plugin[Any]:
    cls = module.PLUGIN
    plugin: Plugin[Any] = cls(cls.Config(**config), PluginContext(1, tmp_path))
    return plugin


CHECKS: dict[str, tuple[Any, dict[str, object]]] = {
    "ping": (ping, {"count": 1, "timeout_seconds": 2}),
    "dns": (dns, {"name": "nas.lan", "server": "127.0.0.1"}),
    "ssh": (ssh, {"username": "u", "password": "p"}),
    "snmp": (snmp, {"retries": 0, "community": "public"}),
    "postgres": (postgres, {}),
    "mysql": (mysql, {}),
    "redis": (redis, {}),
}


def check(kind: str, port: int) -> tuple[Any, dict[str, object]]:
    """The check's module and a config aimed at `localhost:port` (dns: at its server)."""
    module, extra = CHECKS[kind]
    base: dict[str, object] = {} if kind == "dns" else {"host": "localhost"}
    if kind != "ping":
        base["port"] = port
    return module, {**base, **extra}


@pytest.mark.parametrize("kind", sorted(CHECKS))
async def test_a_denied_target_is_refused_before_connecting(
    kind: str, listener: Listener, tmp_path: Path
) -> None:
    module, config = check(kind, listener.port)
    samples, reason = await collect(make(module, tmp_path, **config))
    assert reason is not None and "CHECK_DENY_NETWORKS" in reason, reason
    assert "127.0.0.0/8" in reason
    assert {s.name: s.value for s in samples}["up"] == 0
    assert listener.hits == []


@pytest.mark.parametrize("kind", ["ping", "ssh", "snmp", "postgres", "mysql", "redis"])
def test_a_metadata_host_is_refused_when_the_check_is_saved(kind: str) -> None:
    module, config = check(kind, 161)
    for host in ("169.254.169.254", "metadata.google.internal", "::ffff:169.254.169.254"):
        with pytest.raises(ValidationError, match="cloud metadata"):
            module.PLUGIN.Config(**{**config, "host": host})


def test_the_dns_server_may_not_be_a_metadata_address() -> None:
    with pytest.raises(ValidationError, match="cloud metadata"):
        dns.PLUGIN.Config(name="nas.lan", server="169.254.169.254")


async def test_the_lan_stays_allowed(tmp_path: Path) -> None:
    # the default policy denies only link-local: a LAN-style target is tried (and fails to
    # connect here, since nothing listens), not refused by the policy
    egress.configure(egress.DEFAULT_DENY, [])
    _, reason = await collect(make(redis, tmp_path, host="127.0.0.1", port=9, timeout_seconds=2))
    assert reason is not None and "CHECK_DENY_NETWORKS" not in reason
