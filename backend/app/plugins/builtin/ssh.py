"""The `ssh` plugin: CPU, memory, load, disks and uptime of a Linux server, agentless over SSH."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from pydantic import Field

from app.plugins.base import Plugin, PluginError, Sample
from app.plugins.builtin._common import (
    HostName,
    TimeoutField,
    describe_exc,
    elapsed_ms,
    is_pseudo_filesystem,
    target_down,
    up_sample,
)
from app.plugins.builtin._events import RebootWatch
from app.plugins.builtin._host import (
    REMOTE_SENSORS,
    ProcessCommandLines,
    RawProcesses,
    Readings,
    TopProcesses,
    parse_remote_processes,
    read_remote_processes,
    remote_sensor_samples,
    top_process_samples,
)
from app.plugins.builtin._procfs import busy_percent, cpu_times, df_rows, meminfo
from app.plugins.builtin._ssh import SshLogin, SshLoginConfig, SshUnreachable

if TYPE_CHECKING:  # asyncssh loads with the first instance (house style 15)
    import asyncssh

COMMANDS = {
    "stat": "cat /proc/stat",
    "meminfo": "cat /proc/meminfo",
    "loadavg": "cat /proc/loadavg",
    "uptime": "cat /proc/uptime",
    "df": "df -P -B1",
}
FIRST_CPU_WINDOW_SECONDS = 0.5


class SshConfig(SshLoginConfig):
    host: HostName = Field(
        ..., title="Host", description="Server name or IP address.", examples=["nas.lan"]
    )
    username: str = Field(
        ...,
        title="User",
        description="Login name; it only needs to read /proc and run df.",
        min_length=1,
        max_length=100,
        examples=["monitor"],
    )
    mounts: list[str] = Field(
        [],
        title="Mounts",
        description="Only report these mount points. Empty means every real filesystem.",
        examples=[["/", "/srv"]],
        max_length=100,
    )
    timeout_seconds: float = TimeoutField(
        10.0,
        60,
        "A server that has not completed the SSH login in this time is down.",
        title="Connect timeout (s)",
    )
    temperatures: bool = Field(
        True,
        title="Temperatures and fans",
        description="Read temperatures and fan speeds with `sensors -j` where lm-sensors "
        "is installed on the server (skipped where it is not).",
    )
    top_processes: TopProcesses = 5
    process_command_lines: ProcessCommandLines = False


class SshPlugin(Plugin[SshConfig]):
    type = "ssh"
    name = "Linux server over SSH"
    description = (
        "CPU, memory, swap, load, disk usage and uptime of a remote Linux server, read "
        "from /proc and df over SSH. Nothing to install on the server."
    )
    category = "system"
    Config = SshConfig
    requires = {"asyncssh": "asyncssh"}
    default_interval_seconds = 60

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prev_cpu: dict[str, tuple[float, float]] | None = None
        self._prev_procs: tuple[float, Readings] | None = None
        self.reboots = RebootWatch()

    async def collect_data(self) -> list[Sample]:
        cfg = self.config
        start = time.perf_counter()
        try:
            conn = await SshLogin(cfg, self.ctx, cfg.timeout_seconds).connect()
        except SshUnreachable as exc:
            raise target_down(self, str(exc), [up_sample(False)]) from exc
        connect_ms = elapsed_ms(start)
        async with conn:
            outputs = await self._run_all(conn)
            procs = await self._processes(conn)
            first_stat = first_procs = None
            if self._prev_cpu is None:
                # CPU % needs two readings; on the first run take them half a second apart.
                first_stat = outputs["stat"]
                first_procs = procs
                await asyncio.sleep(FIRST_CPU_WINDOW_SECONDS)
                outputs["stat"] = await self._run(conn, COMMANDS["stat"])
                procs = await self._processes(conn)
            sensors = await self._sensors(conn)

        try:
            samples = self._parse(outputs, first_stat)
            if procs is not None:
                cur = (procs[0], parse_remote_processes(procs[1], procs[2]))
                prev = self._prev_procs
                if first_procs:
                    prev = (first_procs[0], parse_remote_processes(first_procs[1], first_procs[2]))
                prev = prev or cur
                samples += top_process_samples(prev[1], cur[1], cur[0] - prev[0], cfg.top_processes)
                self._prev_procs = cur
            samples += remote_sensor_samples(sensors, cfg.host)
        except (ValueError, IndexError) as exc:
            raise PluginError(
                f"{cfg.host} answered in an unexpected format ({describe_exc(exc)}); "
                "is it a Linux server?"
            ) from exc
        return [up_sample(True), Sample("ssh_connect_time", connect_ms, "ms"), *samples]

    async def _run(
        self,
        conn: asyncssh.SSHClientConnection,
        command: str,
        hint: str = "the ssh plugin needs a Linux server with /proc and df",
    ) -> str:
        result = await conn.run(command, check=False)
        if result.exit_status != 0:
            err = str(result.stderr or "").strip()[:200]
            raise PluginError(
                f"`{command}` failed on {self.config.host} "
                f"(exit {result.exit_status}): {err}; {hint}"
            )
        return str(result.stdout or "")

    async def _processes(self, conn: asyncssh.SSHClientConnection) -> RawProcesses | None:
        if not self.config.top_processes:
            return None
        return await read_remote_processes(
            lambda cmd, hint: self._run(conn, cmd, hint), self.config.process_command_lines
        )

    async def _sensors(self, conn: asyncssh.SSHClientConnection) -> str | None:
        """`sensors -j` output; None without lm-sensors or sensors (most VMs have none)."""
        if not self.config.temperatures:
            return None
        result = await conn.run(REMOTE_SENSORS, check=False)
        return str(result.stdout or "") if result.exit_status == 0 else None

    async def _run_all(self, conn: asyncssh.SSHClientConnection) -> dict[str, str]:
        keys = list(COMMANDS)
        texts = await asyncio.gather(*(self._run(conn, COMMANDS[k]) for k in keys))
        return dict(zip(keys, texts, strict=True))

    def _parse(self, out: dict[str, str], first_stat: str | None) -> list[Sample]:
        samples: list[Sample] = []
        cur = cpu_times(out["stat"])
        prev = cpu_times(first_stat) if first_stat is not None else self._prev_cpu
        self._prev_cpu = cur
        if prev is not None:
            for name, times in cur.items():
                if name in prev and (pct := busy_percent(prev[name], times)) is not None:
                    labels = {} if name == "cpu" else {"core": name[3:]}
                    samples.append(Sample("cpu_percent", pct, "percent", labels))

        load = out["loadavg"].split()
        for period, value in zip(("1m", "5m", "15m"), load[:3], strict=True):
            samples.append(Sample("load_average", float(value), "", {"period": period}))

        mem = meminfo(out["meminfo"])
        total = mem["MemTotal"]
        # Kernels before 3.14 have no MemAvailable; free + buffers + cache is the old estimate.
        fallback = mem.get("MemFree", 0.0) + mem.get("Buffers", 0.0) + mem.get("Cached", 0.0)
        available = mem.get("MemAvailable", fallback)
        mem_used = total - available
        samples += [
            Sample("memory_total", total, "bytes"),
            Sample("memory_used", mem_used, "bytes"),
            Sample("memory_available", available, "bytes"),
            Sample("memory_percent", mem_used / total * 100.0 if total else 0.0, "percent"),
        ]
        swap_total = mem.get("SwapTotal", 0.0)
        swap_used = swap_total - mem.get("SwapFree", 0.0)
        swap_pct = swap_used / swap_total * 100.0 if swap_total else 0.0
        samples += [
            Sample("swap_total", swap_total, "bytes"),
            Sample("swap_used", swap_used, "bytes"),
            Sample("swap_percent", swap_pct, "percent"),
        ]

        uptime = float(out["uptime"].split()[0])
        samples.append(Sample("uptime", uptime, "seconds"))
        self.reboots.observe(self, uptime)

        seen: set[str] = set()
        for device, mount, fs_total, used, avail in df_rows(out["df"]):
            if self.config.mounts:
                if mount not in self.config.mounts:
                    continue
            elif is_pseudo_filesystem(device, mount):
                continue
            if mount in seen or fs_total <= 0:
                continue
            seen.add(mount)
            labels = {"mount": mount}
            # Same figure as df's Use%: root-reserved blocks count as unavailable.
            percent = used / (used + avail) * 100.0 if used + avail > 0 else 0.0
            samples += [
                Sample("disk_total", fs_total, "bytes", labels),
                Sample("disk_used", used, "bytes", labels),
                Sample("disk_free", avail, "bytes", labels),
                Sample("disk_percent", percent, "percent", labels),
            ]
        return samples


PLUGIN = SshPlugin
