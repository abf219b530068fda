"""The `system` plugin: CPU, memory, disks, network and sensors of the host Unity runs on."""

from __future__ import annotations

import asyncio
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from pydantic import Field

from app.plugins.base import Plugin, PluginConfig, Sample
from app.plugins.builtin._common import (
    PSEUDO_FILESYSTEMS,
    describe_exc,
    is_pseudo_filesystem,
    log,
)
from app.plugins.builtin._events import RebootWatch
from app.plugins.builtin._host import (
    ProcessCommandLines,
    Readings,
    TopProcesses,
    host_net_counters,
    local_sensor_samples,
    proc_readings,
    top_process_samples,
)
from app.plugins.builtin._procfs import busy_percent

# How long the first run waits between two CPU readings; CPU % since boot is meaningless.
FIRST_CPU_WINDOW_SECONDS = 0.25
# Top processes are read at most this often (a read of every /proc/<pid>/stat costs more
# than all the other values together: ~2 ms for 170 processes). Runs in between, at shorter
# intervals, report the other values only; each process series then has a point every 5 s.
PROCESS_SCAN_SECONDS = 5.0


class SystemConfig(PluginConfig):
    per_core: bool = Field(
        True,
        title="Per-core CPU",
        description="Also report cpu_percent for every core (label `core`).",
    )
    temperatures: bool = Field(
        True,
        title="Temperatures and fans",
        description="Report sensor temperatures and fan speeds where the host exposes them.",
    )
    mounts: list[str] = Field(
        [],
        title="Mounts",
        description="Only report these mount points. Empty means every real filesystem.",
        examples=[["/", "/srv/data"]],
        max_length=100,
    )
    exclude_fstypes: list[str] = Field(
        list(PSEUDO_FILESYSTEMS),
        title="Skip filesystem types",
        description="Filesystem types left out of disk usage (pseudo and image filesystems).",
        max_length=100,
    )
    exclude_interfaces: list[str] = Field(
        ["lo"],
        title="Skip network interfaces",
        description="Interfaces left out of network rates. Names ending in `*` match a prefix.",
        examples=[["lo", "veth*", "docker*"]],
        max_length=100,
    )
    top_processes: TopProcesses = 5
    process_command_lines: ProcessCommandLines = False


@dataclass
class _Counters:
    at: float
    cpu_total: list[tuple[float, float]]  # (busy, idle) jiffies: [all, core0, core1, ...]
    disk: tuple[int, int] | None
    net: dict[str, tuple[int, int]] = field(default_factory=dict)
    procs: Readings = field(default_factory=dict)


def _cpu_busy_idle(t: Any) -> tuple[float, float]:
    # guest time is already counted in user/nice; iowait is idle time, as in `top`.
    total = float(sum(t)) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)
    idle = float(t.idle + getattr(t, "iowait", 0.0))
    return total - idle, idle


def _cpu_readings() -> list[tuple[float, float]]:
    return [_cpu_busy_idle(psutil.cpu_times())] + [
        _cpu_busy_idle(t) for t in psutil.cpu_times(percpu=True)
    ]


def _unescape(field: str) -> str:
    """A /proc/mounts field with its octal escapes (\\040 for a space) decoded."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _iface_excluded(name: str, patterns: list[str]) -> bool:
    for p in patterns:
        if p.endswith("*") and name.startswith(p[:-1]):
            return True
        if name == p:
            return True
    return False


class SystemPlugin(Plugin[SystemConfig]):
    type = "system"
    name = "Local system"
    description = (
        "CPU, load, memory, swap, disk usage and I/O, network I/O, temperatures, uptime "
        "and process count of the machine Unity runs on."
    )
    category = "system"
    Config = SystemConfig
    default_interval_seconds = 30

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prev: _Counters | None = None
        self.reboots = RebootWatch()
        self._procs: tuple[float, Readings] = (0.0, {})  # the last process scan: when, what
        self._net_fallback_logged = False
        # psutil's procfs (HOST_PROC) is process-wide and set once, by create_app; this plugin
        # reads ctx.host itself for its own paths (mounts, processes).

    @property
    def cfg(self) -> SystemConfig:
        return self.config

    def _counters(self, scan_processes: bool = True) -> _Counters:
        disk = psutil.disk_io_counters(perdisk=False, nowrap=True)
        net = self._net_counters()
        excluded = self.cfg.exclude_interfaces
        top = self.cfg.top_processes
        return _Counters(
            at=time.monotonic(),
            cpu_total=_cpu_readings(),
            disk=(disk.read_bytes, disk.write_bytes) if disk is not None else None,
            net={nic: c for nic, c in net.items() if not _iface_excluded(nic, excluded)},
            procs=(
                proc_readings(self.ctx.host.proc, self.cfg.process_command_lines)
                if top and scan_processes
                else {}
            ),
        )

    def _net_counters(self) -> dict[str, tuple[int, int]]:
        """Bytes in and out per interface of the measured host.

        In a container (HOST_PROC set) the host's interfaces are PID 1's table; psutil would
        read the container's own namespace. Should that table be unreadable (HOST_PROC not the
        host's procfs, or a hardened one), the container's interfaces beat a failed run: say so
        once.
        """
        if self.ctx.host.proc != Path("/proc"):
            try:
                return host_net_counters(self.ctx.host.proc)
            except (OSError, ValueError) as exc:
                if not self._net_fallback_logged:
                    self._net_fallback_logged = True
                    log.warning(
                        "cannot read the host's network counters from %s (%s); network rates "
                        "are the backend container's own interfaces until it is readable: "
                        "bind-mount the host's /proc read-only at HOST_PROC "
                        "(`/proc:/host/proc:ro`; docs/DEPLOYMENT.md, 'Measuring the host from a "
                        "container')",
                        self.ctx.host.proc / "1" / "net" / "dev",
                        describe_exc(exc),
                        extra={"plugin_id": self.ctx.plugin_id, "plugin_type": self.type},
                    )
        return {
            nic: (c.bytes_recv, c.bytes_sent)
            for nic, c in psutil.net_io_counters(pernic=True, nowrap=True).items()
        }

    def _read(self, scan_processes: bool) -> tuple[_Counters, list[Sample]]:
        """Counters and gauges in one go: one hand-off to a worker thread per run."""
        return self._counters(scan_processes), self._gauges()

    def _gauges(self) -> list[Sample]:
        cfg = self.cfg
        out: list[Sample] = []
        load1, load5, load15 = os.getloadavg()
        for period, value in (("1m", load1), ("5m", load5), ("15m", load15)):
            out.append(Sample("load_average", value, "", {"period": period}))

        vm = psutil.virtual_memory()
        out += [
            Sample("memory_total", float(vm.total), "bytes"),
            Sample("memory_used", float(vm.total - vm.available), "bytes"),
            Sample("memory_available", float(vm.available), "bytes"),
            Sample("memory_percent", float(vm.percent), "percent"),
        ]
        sw = psutil.swap_memory()
        out += [
            Sample("swap_total", float(sw.total), "bytes"),
            Sample("swap_used", float(sw.used), "bytes"),
            Sample("swap_percent", float(sw.percent), "percent"),
        ]

        seen: set[str] = set()
        for _device, mountpoint, fstype in self._partitions():
            if mountpoint in seen or is_pseudo_filesystem(fstype, mountpoint, cfg.exclude_fstypes):
                continue
            if cfg.mounts and mountpoint not in cfg.mounts:
                continue
            try:
                du = psutil.disk_usage(str(self.ctx.host.on_host(mountpoint)))
            except OSError:  # unreadable or vanished mount: skip it rather than fail the run
                continue
            seen.add(mountpoint)
            labels = {"mount": mountpoint}
            out += [
                Sample("disk_total", float(du.total), "bytes", labels),
                Sample("disk_used", float(du.used), "bytes", labels),
                Sample("disk_free", float(du.free), "bytes", labels),
                Sample("disk_percent", float(du.percent), "percent", labels),
            ]

        if cfg.temperatures:
            out += local_sensor_samples()

        uptime = max(0.0, time.time() - psutil.boot_time())
        out.append(Sample("uptime", uptime, "seconds"))
        self.reboots.observe(self, uptime)
        out.append(Sample("process_count", float(len(psutil.pids())), "count"))
        return out

    def _partitions(self) -> list[tuple[str, str, str]]:
        """(device, mount point, filesystem type) of the measured host's mounts."""
        if self.ctx.host.root == Path("/"):
            return [(p.device, p.mountpoint, p.fstype) for p in psutil.disk_partitions(all=False)]
        # Seen from a container: the host's mounts are those of its init process, and each
        # one is reached under HOST_ROOT (a recursive bind mount of the host's /).
        try:
            text = (self.ctx.host.proc / "1" / "mounts").read_text()
            kinds = (self.ctx.host.proc / "filesystems").read_text()
        except OSError:
            return []
        # As psutil does: real filesystems are those the kernel lists without "nodev" (+ zfs).
        nodev = {line.split()[-1] for line in kinds.splitlines() if line.startswith("nodev")}
        out = []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 3 and (parts[2] not in nodev or parts[2] == "zfs"):
                out.append((parts[0], _unescape(parts[1]), parts[2]))
        return out

    def _rates(self, prev: _Counters, cur: _Counters) -> list[Sample]:
        out: list[Sample] = []
        dt = cur.at - prev.at
        if dt <= 0:
            return out
        if prev.disk is not None and cur.disk is not None:
            read = (cur.disk[0] - prev.disk[0]) / dt
            write = (cur.disk[1] - prev.disk[1]) / dt
            if read >= 0 and write >= 0:  # a reset counter yields no rate this round
                out.append(Sample("disk_read_rate", read, "bytes/s"))
                out.append(Sample("disk_write_rate", write, "bytes/s"))
        for nic, (recv, sent) in cur.net.items():
            if nic not in prev.net:
                continue
            r = (recv - prev.net[nic][0]) / dt
            s = (sent - prev.net[nic][1]) / dt
            if r >= 0 and s >= 0:
                labels = {"interface": nic}
                out.append(Sample("network_receive_rate", r, "bytes/s", labels))
                out.append(Sample("network_transmit_rate", s, "bytes/s", labels))
        return out

    def _cpu(self, prev: list[tuple[float, float]], cur: list[tuple[float, float]]) -> list[Sample]:
        out: list[Sample] = []
        total = busy_percent(prev[0], cur[0])
        if total is not None:
            out.append(Sample("cpu_percent", total, "percent"))
        if self.cfg.per_core:
            for core, (p, c) in enumerate(zip(prev[1:], cur[1:], strict=False)):
                pct = busy_percent(p, c)
                if pct is not None:
                    out.append(Sample("cpu_percent", pct, "percent", {"core": str(core)}))
        return out

    async def collect_data(self) -> list[Sample]:
        prev = self._prev
        if prev is None:
            prev = await self.ctx.run_blocking(self._counters)
            self._procs = (prev.at, prev.procs)
            await asyncio.sleep(FIRST_CPU_WINDOW_SECONDS)
            first_run = True
        else:
            first_run = False
        procs_at, procs = self._procs
        # A little early still counts (runs start on whole seconds, the clock reads later).
        scan = first_run or time.monotonic() - procs_at >= PROCESS_SCAN_SECONDS - 0.5
        cur, gauges = await self.ctx.run_blocking(self._read, scan)
        samples = self._cpu(prev.cpu_total, cur.cpu_total)
        samples += gauges
        # Rates over the short first-run window would be noise; they start on run two.
        if not first_run:
            samples += self._rates(prev, cur)
        if scan:
            samples += top_process_samples(
                procs, cur.procs, cur.at - procs_at, self.cfg.top_processes
            )
            self._procs = (cur.at, cur.procs)
        self._prev = cur
        return samples


PLUGIN = SystemPlugin
