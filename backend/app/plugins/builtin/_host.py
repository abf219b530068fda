"""What both host plugins (`system` locally, `ssh` remotely) add: top processes and sensors.

Processes are read as cumulative CPU time and resident memory per pid; the CPU share is the
difference between two readings, like `top`. Samples are grouped by process name (or by
command line when the user turned that on), so a name's many workers are one chart line and
the number of series stays bounded by `top_processes`.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from app.plugins.base import PluginError, Sample
from app.plugins.builtin._common import describe_exc

MAX_TOP_PROCESSES = 20
_CLOCK_TICKS = float(os.sysconf("SC_CLK_TCK"))
_PAGE_SIZE = float(os.sysconf("SC_PAGE_SIZE"))
COMMAND_LINE_CHARS = 120


# Config fields both host plugins declare (as annotated types, so each form keeps its order).
TopProcesses = Annotated[
    int,
    Field(
        title="Top processes",
        description="Report the N processes using the most CPU and the N using the most "
        "memory (0 turns it off). Each is its own chart line, so at most 20.",
        ge=0,
        le=MAX_TOP_PROCESSES,
    ),
]
ProcessCommandLines = Annotated[
    bool,
    Field(
        title="Process command lines",
        description="Label processes with their command line instead of their name. Off by "
        "default: command lines can hold paths, user names and passwords.",
    ),
]


@dataclass(frozen=True, slots=True)
class ProcessReading:
    """One process at one moment: what it is called and what it has used so far."""

    key: str  # the label: name, or command line when enabled
    started: float  # start time in any fixed unit: tells a reused pid apart
    cpu_seconds: float
    memory_bytes: float


Readings = dict[int, ProcessReading]


def command_label(name: str, cmdline: Iterable[str] | str | None) -> str:
    """A command line cut to a readable label; the name when there is none (kernel threads)."""
    text = cmdline if isinstance(cmdline, str) else " ".join(cmdline or ())
    text = " ".join(text.split())
    if not text:
        return name
    return text if len(text) <= COMMAND_LINE_CHARS else text[: COMMAND_LINE_CHARS - 1] + "…"


def parse_proc_pid_stat(text: str, clock_ticks: float, page_size: float) -> Readings:
    """Readings from the concatenated `/proc/<pid>/stat` lines of a Linux host.

    The name (field 2) sits in parentheses and may itself hold spaces and parentheses, so
    the fields are counted from the last closing parenthesis.
    """
    out: Readings = {}
    for line in text.splitlines():
        head, sep, tail = line.rpartition(")")
        if not sep or " (" not in head:
            continue
        pid_text, _, name = head.partition(" (")
        fields = tail.split()
        # tail starts at field 3 (state): utime is field 14, stime 15, starttime 22, rss 24.
        if len(fields) < 22 or not pid_text.strip().isdigit():
            continue
        try:
            utime, stime = float(fields[11]), float(fields[12])
            started, rss = float(fields[19]), float(fields[21])
        except ValueError:
            continue
        out[int(pid_text)] = ProcessReading(
            name, started, (utime + stime) / clock_ticks, max(0.0, rss) * page_size
        )
    return out


def read_proc_stats(proc: Path) -> str:
    """Every `<procfs>/<pid>/stat` line, concatenated (a process that exits meanwhile is left out).

    Plain `os.open`/`os.read` on a directory descriptor: half the CPU of `open()`, which builds a
    text wrapper and a decoder per file; the bytes are decoded once at the end (names are
    UTF-8 where they are not ASCII; anything else is replaced rather than failing the run).
    """
    chunks: list[bytes] = []
    dir_fd = os.open(proc, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in os.listdir(dir_fd):
            if not name.isdigit():
                continue
            try:
                fd = os.open(name + "/stat", os.O_RDONLY, dir_fd=dir_fd)
            except OSError:  # exited meanwhile
                continue
            try:
                chunks.append(os.read(fd, 4096))
            except OSError:
                pass
            finally:
                os.close(fd)
    finally:
        os.close(dir_fd)
    return b"".join(chunks).decode("utf-8", "replace")


def proc_readings(proc: Path, command_lines: bool) -> Readings:
    """Readings of every process in a procfs (this machine's, or the host's via HOST_PROC).

    One read of /proc/<pid>/stat per process, parsed as the SSH side parses it: a fraction
    of what asking psutil for the same fields costs (one file instead of three per process).
    """
    readings = parse_proc_pid_stat(read_proc_stats(proc), _CLOCK_TICKS, _PAGE_SIZE)
    if not command_lines:
        return readings
    out: Readings = {}
    for pid, r in readings.items():
        try:
            raw = (proc / str(pid) / "cmdline").read_bytes()
        except OSError:
            raw = b""
        args = raw.replace(b"\0", b" ").decode("utf-8", "replace")
        out[pid] = ProcessReading(
            command_label(r.key, args), r.started, r.cpu_seconds, r.memory_bytes
        )
    return out


def parse_net_dev(text: str) -> dict[str, tuple[int, int]]:
    """Interface → (bytes received, bytes sent) from a `/proc/<pid>/net/dev` table."""
    out: dict[str, tuple[int, int]] = {}
    for line in text.splitlines()[2:]:
        name, sep, rest = line.partition(":")
        fields = rest.split()
        if sep and len(fields) >= 9:
            out[name.strip()] = (int(fields[0]), int(fields[8]))
    return out


def host_net_counters(proc: Path) -> dict[str, tuple[int, int]]:
    """The host's interfaces seen through a mounted procfs (HOST_PROC).

    `<procfs>/net` follows the reading process's own network namespace (the container's); PID 1's
    table is the host's, as PID 1's mounts are.
    """
    return parse_net_dev((proc / "1" / "net" / "dev").read_text())


def top_process_samples(prev: Readings, cur: Readings, seconds: float, n: int) -> list[Sample]:
    """`process_cpu_percent` and `process_memory_bytes` for the top `n` by CPU and by memory.

    CPU % is of one core, as in `top` (a busy 4-thread process can show 400). A process
    seen only once (new, or pid reused) counts with memory but without CPU this round.
    """
    if n <= 0 or not cur:
        return []
    cpu: dict[str, float] = {}
    memory: dict[str, float] = {}
    for pid, now in cur.items():
        memory[now.key] = memory.get(now.key, 0.0) + now.memory_bytes
        before = prev.get(pid)
        used = 0.0
        if before is not None and before.started == now.started and seconds > 0:
            used = max(0.0, now.cpu_seconds - before.cpu_seconds) / seconds * 100.0
        cpu[now.key] = cpu.get(now.key, 0.0) + used
    by_cpu = sorted(cpu, key=lambda k: (-cpu[k], k))[:n]
    by_memory = sorted(memory, key=lambda k: (-memory[k], k))[:n]
    out: list[Sample] = []
    for key in dict.fromkeys(by_cpu + by_memory):
        labels = {"process": key}
        out.append(Sample("process_cpu_percent", cpu[key], "percent", labels))
        out.append(Sample("process_memory_bytes", memory[key], "bytes", labels))
    return out


# --- temperatures and fans ---------------------------------------------------------------


def _reading(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def parse_sensors_json(text: str) -> list[Sample]:
    """`temperature_celsius{chip,sensor}` and `fan_rpm{chip,fan}` from `sensors -j`.

    lm-sensors prints {chip: {"Adapter": ..., feature: {"temp1_input": 42.0, ...}}};
    a feature's `tempN_input` is its temperature and `fanN_input` its speed.
    """
    doc = json.loads(text) if text.strip() else {}
    if not isinstance(doc, dict):
        raise ValueError("sensors -j did not print a JSON object")
    out: list[Sample] = []
    for chip, features in doc.items():
        if not isinstance(features, dict):
            continue
        for feature, values in features.items():
            if not isinstance(values, dict):
                continue  # "Adapter": "ISA adapter"
            for key, raw in values.items():
                value = _reading(raw)
                if value is None or not key.endswith("_input"):
                    continue
                if key.startswith("temp"):
                    labels = {"chip": str(chip), "sensor": str(feature)}
                    out.append(Sample("temperature_celsius", value, "celsius", labels))
                elif key.startswith("fan"):
                    labels = {"chip": str(chip), "fan": str(feature)}
                    out.append(Sample("fan_rpm", value, "rpm", labels))
    return out


def psutil_sensor_samples(temperatures: Mapping[str, Any], fans: Mapping[str, Any]) -> list[Sample]:
    """The same two metrics from psutil's `sensors_temperatures()` and `sensors_fans()`."""
    out: list[Sample] = []
    for chip, entries in temperatures.items():
        for i, entry in enumerate(entries):
            value = _reading(entry.current)
            if value is not None:
                labels = {"chip": chip, "sensor": entry.label or f"temp{i + 1}"}
                out.append(Sample("temperature_celsius", value, "celsius", labels))
    for chip, entries in fans.items():
        for i, entry in enumerate(entries):
            value = _reading(entry.current)
            if value is not None:
                labels = {"chip": chip, "fan": entry.label or f"fan{i + 1}"}
                out.append(Sample("fan_rpm", value, "rpm", labels))
    return out


def local_sensor_samples() -> list[Sample]:
    """Temperatures and fans of this machine; none where the kernel exposes no sensors."""
    import psutil

    temps: Mapping[str, Any] = {}
    fans: Mapping[str, Any] = {}
    try:
        if hasattr(psutil, "sensors_temperatures"):
            temps = psutil.sensors_temperatures()
        if hasattr(psutil, "sensors_fans"):
            fans = psutil.sensors_fans()
    except (OSError, RuntimeError):
        pass
    return psutil_sensor_samples(temps, fans)


# --- the same over SSH: one shell line each, answered by any Linux server ---------------------

# Clock ticks and page size first, then one line per process; a process that exits between
# the glob and the read is simply missing, which is why errors are dropped.
REMOTE_PROCESSES = "getconf CLK_TCK; getconf PAGESIZE; cat /proc/[0-9]*/stat 2>/dev/null; true"
REMOTE_COMMAND_LINES = "ps -eo pid=,args="
REMOTE_SENSORS = "sensors -j"


def parse_remote_processes(text: str, command_lines: str | None = None) -> Readings:
    """Readings from the output of REMOTE_PROCESSES (and REMOTE_COMMAND_LINES if given)."""
    ticks, page, rest = [*text.split("\n", 2), "", ""][:3]
    readings = parse_proc_pid_stat(rest, float(ticks.strip()), float(page.strip()))
    if command_lines is None:
        return readings
    args: dict[int, str] = {}
    for line in command_lines.splitlines():
        pid, _, cmd = line.strip().partition(" ")
        if pid.isdigit():
            args[int(pid)] = cmd
    return {
        pid: ProcessReading(
            command_label(r.key, args.get(pid)), r.started, r.cpu_seconds, r.memory_bytes
        )
        for pid, r in readings.items()
    }


# (when it was read, /proc/<pid>/stat lines, `ps` command lines or None)
RawProcesses = tuple[float, str, str | None]


async def read_remote_processes(
    run: Callable[[str, str], Awaitable[str]], command_lines: bool
) -> RawProcesses:
    """Read a server's processes with `run(command, hint)`, which raises on a failed command."""
    at = time.monotonic()
    stats = await run(REMOTE_PROCESSES, "the ssh plugin needs a Linux server with /proc")
    args = None
    if command_lines:
        hint = "install ps there (Debian/Ubuntu: procps) or turn off process_command_lines"
        args = await run(REMOTE_COMMAND_LINES, hint)
    return at, stats, args


def remote_sensor_samples(text: str | None, host: str) -> list[Sample]:
    """Samples from a server's `sensors -j` output (None: no lm-sensors, or no sensors)."""
    if text is None:
        return []
    try:
        return parse_sensors_json(text)
    except ValueError as exc:
        raise PluginError(
            f"`sensors -j` on {host} printed something that is not lm-sensors JSON "
            f"({describe_exc(exc)[:120]}); update lm-sensors (3.5 or later) or turn off "
            "temperatures"
        ) from exc
