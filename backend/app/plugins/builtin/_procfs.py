"""Parsers for the text a Linux server prints for /proc/stat, /proc/meminfo and `df -P -B1`.

Kept apart from the `ssh` plugin so the plugin module holds connection and flow only.
"""

from __future__ import annotations


def cpu_times(stat: str) -> dict[str, tuple[float, float]]:
    """{"cpu": (busy, idle), "cpu0": ...} from /proc/stat (guest time is already in user)."""
    out: dict[str, tuple[float, float]] = {}
    for line in stat.splitlines():
        if not line.startswith("cpu"):
            continue
        name, *fields = line.split()
        values = [float(x) for x in fields[:8]]
        if len(values) < 4:
            continue
        idle = values[3] + (values[4] if len(values) > 4 else 0.0)
        total = sum(values)
        out[name] = (total - idle, idle)
    if "cpu" not in out:
        raise ValueError("no cpu line in /proc/stat")
    return out


def meminfo(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts:
            factor = 1024.0 if len(parts) > 1 and parts[1].lower() == "kb" else 1.0
            out[key.strip()] = float(parts[0]) * factor
    if "MemTotal" not in out:
        raise ValueError("no MemTotal in /proc/meminfo")
    return out


def df_rows(text: str) -> list[tuple[str, str, float, float, float]]:
    """(device, mount, total, used, available) per line of `df -P -B1`."""
    rows = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 6:
            continue
        try:
            total, used, avail = (float(x) for x in parts[1:4])
        except ValueError:
            continue
        rows.append((parts[0], " ".join(parts[5:]), total, used, avail))
    return rows


def busy_percent(prev: tuple[float, float], cur: tuple[float, float]) -> float | None:
    # iowait can step backwards on some kernels; clamp each delta instead of failing.
    busy = max(0.0, cur[0] - prev[0])
    idle = max(0.0, cur[1] - prev[1])
    if busy + idle <= 0:
        return None
    return min(100.0, busy / (busy + idle) * 100.0)
