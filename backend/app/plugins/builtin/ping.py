"""The `ping` plugin: ICMP echo round-trip times and packet loss to a host."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from app.plugins.base import Plugin, PluginConfig, PluginError, Sample
from app.plugins.builtin._common import (
    HostName,
    TimeoutField,
    allowed_target,
    describe_exc,
    target_down,
    up_sample,
)

if TYPE_CHECKING:  # icmplib loads with the first instance (house style 15)
    import icmplib

ICMP_NOT_ALLOWED = (
    "this host does not allow ICMP echo (ping) for Unity's user: allow unprivileged ping "
    'with `sysctl -w net.ipv4.ping_group_range="0 2147483647"` (persist it in '
    "/etc/sysctl.d/), or give Unity CAP_NET_RAW (docker: --cap-add NET_RAW)"
)
# Leave the engine's default 30 s run timeout some room.
MAX_RUN_SECONDS = 25.0


class PingConfig(PluginConfig):
    host: HostName = Field(
        ...,
        title="Host",
        description="Host name or IP address (IPv4 or IPv6) to ping.",
        examples=["router.lan", "192.168.1.1", "1.1.1.1"],
    )
    count: int = Field(3, title="Packets", description="Echo requests sent per run.", ge=1, le=20)
    interval_seconds: float = Field(
        0.5, title="Interval (s)", description="Pause between packets.", ge=0.2, le=5
    )
    timeout_seconds: float = TimeoutField(
        2.0,
        10,
        "How long to wait for the last reply before counting it lost.",
        title="Reply timeout (s)",
    )

    @model_validator(mode="after")
    def _fits_in_a_run(self) -> PingConfig:
        total = (self.count - 1) * self.interval_seconds + self.timeout_seconds
        if total > MAX_RUN_SECONDS:
            raise ValueError(
                f"count x interval + timeout is {total:g} s; keep it under {MAX_RUN_SECONDS:g} s"
            )
        return self


class PingPlugin(Plugin[PingConfig]):
    type = "ping"
    name = "Ping"
    description = "ICMP echo to a host: reachable or not, round-trip times, jitter and loss."
    category = "network"
    Config = PingConfig
    requires = {"icmplib": "icmplib"}
    default_interval_seconds = 60

    async def _ping(self, cfg: PingConfig, address: str, privileged: bool) -> icmplib.Host:
        import icmplib

        return await icmplib.async_ping(
            address,
            count=cfg.count,
            interval=cfg.interval_seconds,
            timeout=cfg.timeout_seconds,
            privileged=privileged,
        )

    async def collect_data(self) -> list[Sample]:
        import icmplib

        cfg = self.config
        address = await allowed_target(self, cfg.host, 0, cfg.timeout_seconds)
        try:
            try:
                # Unprivileged ICMP sockets are the safe default; the kernel gates them
                # with net.ipv4.ping_group_range.
                result = await self._ping(cfg, address, privileged=False)
            except icmplib.SocketPermissionError:
                # Root or CAP_NET_RAW can still use a raw socket.
                result = await self._ping(cfg, address, privileged=True)
        except icmplib.SocketPermissionError as exc:
            raise PluginError(ICMP_NOT_ALLOWED) from exc
        except icmplib.NameLookupError as exc:
            raise target_down(self, f"cannot resolve {cfg.host}", [up_sample(False)]) from exc
        except (icmplib.ICMPLibError, OSError) as exc:
            raise target_down(
                self,
                f"cannot ping {cfg.host}: {describe_exc(exc)}",
                [up_sample(False), Sample("ping_packet_loss", 100.0, "percent")],
            ) from exc

        loss = Sample("ping_packet_loss", float(result.packet_loss) * 100.0, "percent")
        if not result.is_alive:
            raise target_down(
                self,
                f"{cfg.host} did not answer {cfg.count} echo requests",
                [up_sample(False), loss],
            )
        return [
            up_sample(True),
            loss,
            Sample("ping_rtt_avg", float(result.avg_rtt), "ms"),
            Sample("ping_rtt_min", float(result.min_rtt), "ms"),
            Sample("ping_rtt_max", float(result.max_rtt), "ms"),
            Sample("ping_jitter", float(result.jitter), "ms"),
        ]


PLUGIN = PingPlugin
