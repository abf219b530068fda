"""Parsers for the storage pool tools' text output: zpool, /proc/mdstat, btrfs device stats."""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass, field

_SIZE = re.compile(r"^([0-9.]+)([BKMGTPEZ]?)$")
_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}
_UNITS |= {"E": 1024**6, "Z": 1024**7}


def parse_size(text: str) -> float | None:
    """zpool's sizes: exact bytes with -p, else "123M" or "1.50T"; "-" means none."""
    text = text.strip().rstrip("%").rstrip("x")
    if text in ("", "-"):
        return None
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"not a size: {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


# --- ZFS ---------------------------------------------------------------------------------


@dataclass
class ZfsPool:
    name: str
    size: float | None
    allocated: float | None
    free: float | None
    fragmentation: float | None
    capacity: float | None
    health: str
    read_errors: int = 0
    write_errors: int = 0
    checksum_errors: int = 0
    data_errors: int = 0
    last_scrub: float | None = None  # epoch seconds when the last scrub finished
    status: str = ""  # the `status:` paragraph, for the error sentence


def parse_zpool_list(text: str, with_frag: bool) -> list[ZfsPool]:
    pools = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = line.split("\t")
        expected = 7 if with_frag else 6
        if len(parts) != expected:
            raise ValueError(f"zpool list line has {len(parts)} fields, expected {expected}")
        if with_frag:
            name, size, alloc, free, frag, cap, health = parts
        else:
            name, size, alloc, free, cap, health = parts
            frag = "-"
        pools.append(
            ZfsPool(
                name=name,
                size=parse_size(size),
                allocated=parse_size(alloc),
                free=parse_size(free),
                fragmentation=parse_size(frag),
                capacity=parse_size(cap),
                health=health.strip(),
            )
        )
    return pools


_SCRUB_DONE = re.compile(
    r"(?:scrub repaired .* with \d+ errors on|scrub completed after .* with \d+ errors on) (.+)$"
)


def parse_zpool_status(text: str, pools: dict[str, ZfsPool]) -> None:
    """Adds error counts, data errors and the last scrub time to `pools` (by name)."""
    current: ZfsPool | None = None
    in_config = False
    rows: list[tuple[int, list[str]]] = []

    def flush() -> None:
        if current is None:
            return
        for i, (depth, cols) in enumerate(rows):
            is_leaf = i + 1 == len(rows) or rows[i + 1][0] <= depth
            if is_leaf and i > 0:  # row 0 is the pool itself
                current.read_errors += _count(cols[2])
                current.write_errors += _count(cols[3])
                current.checksum_errors += _count(cols[4])
        rows.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("pool:"):
            flush()
            current = pools.get(stripped[5:].strip())
            in_config = False
            continue
        if current is None:
            continue
        if stripped.startswith(("scan:", "scrub:")):
            m = _SCRUB_DONE.search(stripped)
            if m:
                current.last_scrub = _status_time(m.group(1))
        elif stripped.startswith("status:"):
            current.status = stripped[7:].strip()
        elif stripped.startswith("config:"):
            in_config = True
        elif stripped.startswith("errors:"):
            in_config = False
            m = re.search(r"(\d+) data errors", stripped)
            current.data_errors = int(m.group(1)) if m else 0
        elif in_config and stripped and not stripped.startswith("NAME"):
            cols = stripped.split()
            if len(cols) >= 5 and cols[2].replace(".", "").isalnum():
                expanded = line.expandtabs(8)
                rows.append((len(expanded) - len(expanded.lstrip()), cols))
    flush()


def _count(text: str) -> int:
    value = parse_size(text)  # counts above 999 print as 1.2K without -p
    return int(value) if value is not None else 0


def _status_time(text: str) -> float | None:
    # zpool prints local time; Unity runs it with TZ=UTC, so this is UTC.
    try:
        return float(calendar.timegm(time.strptime(" ".join(text.split()), "%a %b %d %H:%M:%S %Y")))
    except ValueError:
        return None


# --- mdadm -------------------------------------------------------------------------------


@dataclass
class MdArray:
    name: str
    state: str  # active, inactive
    level: str
    size_bytes: float | None = None
    disks_expected: int | None = None
    disks_up: int | None = None
    failed: int = 0
    spares: int = 0
    sync_action: str | None = None  # recovery, resync, reshape, check
    sync_percent: float | None = None
    members: list[str] = field(default_factory=list)

    @property
    def degraded(self) -> bool:
        if self.state != "active":
            return True
        missing = (
            self.disks_expected is not None
            and self.disks_up is not None
            and self.disks_up < self.disks_expected
        )
        return missing or self.failed > 0


_MD_HEAD = re.compile(r"^(md\S+)\s*:\s*(\S+)\s+(.*)$")
_MD_STATUS = re.compile(r"\[(\d+)/(\d+)\]\s+\[([U_]+)\]")
_MD_SYNC = re.compile(r"(recovery|resync|reshape|check|repair)\s*=\s*([0-9.]+)%")


def parse_mdstat(text: str) -> list[MdArray]:
    arrays: list[MdArray] = []
    current: MdArray | None = None
    for line in text.splitlines():
        head = _MD_HEAD.match(line)
        if head:
            name, state, rest = head.groups()
            words = rest.split()
            # "active (auto-read-only) raid1 ..." and "inactive sdb[0](S)" both occur.
            words = [w for w in words if not w.startswith("(")]
            level = words[0] if words and not re.search(r"\[\d+\]", words[0]) else "unknown"
            members = [w for w in words if re.search(r"\[\d+\]", w)]
            current = MdArray(name=name, state=state, level=level, members=members)
            current.failed = sum(1 for m in members if m.endswith("(F)"))
            current.spares = sum(1 for m in members if m.endswith("(S)"))
            arrays.append(current)
            continue
        if current is None or not line.startswith((" ", "\t")):
            if not line.strip():
                current = None
            continue
        blocks = re.match(r"\s+(\d+) blocks", line)
        if blocks:
            current.size_bytes = float(blocks.group(1)) * 1024
        status = _MD_STATUS.search(line)
        if status:
            current.disks_expected = int(status.group(1))
            current.disks_up = int(status.group(2))
        sync = _MD_SYNC.search(line)
        if sync:
            current.sync_action = sync.group(1)
            current.sync_percent = float(sync.group(2))
        elif re.search(r"(recovery|resync|reshape)\s*=\s*(DELAYED|PENDING)", line):
            current.sync_action = "pending"
    if "Personalities" not in text and not arrays:
        raise ValueError("no Personalities line")
    return arrays


# --- btrfs -------------------------------------------------------------------------------

_BTRFS_STAT = re.compile(r"^\[(.+)\]\.(\w+)\s+(-?\d+)$")


def parse_btrfs_stats(text: str) -> dict[str, dict[str, int]]:
    """{device: {"write_io_errs": 0, ...}} from `btrfs device stats <mount>`."""
    devices: dict[str, dict[str, int]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        m = _BTRFS_STAT.match(line.strip())
        if not m:
            raise ValueError(f"unexpected line {line[:80]!r}")
        devices.setdefault(m.group(1), {})[m.group(2)] = int(m.group(3))
    return devices


def btrfs_mounts(proc_mounts: str) -> list[str]:
    """Mount points of btrfs filesystems, one per filesystem (the first mount seen)."""
    seen: dict[str, str] = {}
    for line in proc_mounts.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2] == "btrfs":
            mount = parts[1].replace("\\040", " ")
            seen.setdefault(parts[0], mount)
    return list(seen.values())
