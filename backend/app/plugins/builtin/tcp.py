"""The `tcp` plugin: is a TCP port accepting connections, and how fast does it answer."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import time

from pydantic import Field

from app.core.egress import EgressDenied, policy
from app.plugins.base import Plugin, PluginConfig, Sample
from app.plugins.builtin._common import (
    HostName,
    TimeoutField,
    describe_exc,
    elapsed_ms,
    target_down,
    up_sample,
)


class TcpConfig(PluginConfig):
    host: HostName = Field(
        ...,
        title="Host",
        description="Host name or IP address to connect to.",
        examples=["nas.lan", "192.168.1.10"],
    )
    port: int = Field(
        ..., title="Port", description="TCP port number.", ge=1, le=65535, examples=[22, 443]
    )
    timeout_seconds: float = TimeoutField(
        5.0, 60, "A port that has not accepted within this time is reported down."
    )


async def _connect(address: str, port: int) -> None:
    """Connect and hang up: a bare non-blocking socket, no stream reader and writer.

    Nothing is read or written, so asyncio's streams (a transport, a protocol, a reader and a
    writer per check, then a wait for the close) only cost CPU: a third of a loopback check's,
    which at 10,000 instances every 10 s is a tenth of a core. `loop.sock_connect` is left out
    too: it resolves the (already numeric) address again and converts the socket's family and
    kind to enums several times a call; here the connect is one `connect_ex` and, while it is
    in progress, one writer callback.
    """
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        err = sock.connect_ex((address, port))
        if err in _IN_PROGRESS:
            loop = asyncio.get_running_loop()
            ready = loop.create_future()
            fd = sock.fileno()
            loop.add_writer(fd, _wake, loop, fd, ready)
            try:
                await ready
            finally:
                loop.remove_writer(fd)
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            raise OSError(err, os.strerror(err))
    finally:
        with contextlib.suppress(OSError):  # it answered; how it hangs up does not matter
            sock.close()


_IN_PROGRESS = frozenset({errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN})


def _wake(loop: asyncio.AbstractEventLoop, fd: int, ready: asyncio.Future[None]) -> None:
    # One shot: the socket stays writable, and until the check resumes (a later turn of a
    # busy loop) every turn would call this again (~26 times a check at 1,000 checks a second).
    loop.remove_writer(fd)
    if not ready.done():
        ready.set_result(None)


class TcpPlugin(Plugin[TcpConfig]):
    type = "tcp"
    name = "TCP port"
    description = "Checks that a TCP port accepts connections and measures the connect time."
    category = "network"
    Config = TcpConfig
    default_interval_seconds = 60

    async def collect_data(self) -> list[Sample]:
        cfg = self.config
        start = time.perf_counter()
        try:
            # The SSRF policy (CHECK_DENY_NETWORKS) on what the name resolves to; then connect
            # to exactly that address.
            address = (await policy().resolve(cfg.host, cfg.port, cfg.timeout_seconds))[0]
            async with asyncio.timeout(cfg.timeout_seconds):  # no task of its own, as wait_for
                await _connect(address, cfg.port)
        except EgressDenied as exc:
            reason = str(exc).rstrip(".")
        except TimeoutError:
            reason = f"{cfg.host}:{cfg.port} did not accept within {cfg.timeout_seconds:g} s"
        except socket.gaierror as exc:
            reason = f"cannot resolve {cfg.host}: {describe_exc(exc)}"
        except OSError as exc:
            reason = f"{cfg.host}:{cfg.port} refused or unreachable: {describe_exc(exc)}"
        else:
            connect_ms = elapsed_ms(start)
            return [up_sample(True), Sample("tcp_connect_time", connect_ms, "ms")]
        raise target_down(self, reason, [up_sample(False)])


PLUGIN = TcpPlugin
