"""The `tcp` plugin: is a TCP port accepting connections, and how fast does it answer."""

from __future__ import annotations

import asyncio
import contextlib
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
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(address, cfg.port), cfg.timeout_seconds
            )
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
            writer.close()
            with contextlib.suppress(OSError):  # it answered; how it hung up does not matter
                await writer.wait_closed()
            return [up_sample(True), Sample("tcp_connect_time", connect_ms, "ms")]
        raise target_down(self, reason, [up_sample(False)])


PLUGIN = TcpPlugin
