"""A probe's on-disk spool: result batches wait here, gzip-compressed, until the hub takes them.

Each file is one ready-to-send request body; names sort oldest first
(`<sequence>-<created ms>-<results>.json.gz`). Bounded by total size and by age: past either
limit the oldest files go, and the results they held are counted as dropped (kept in
`dropped.json`, so the count survives a restart and reaches the hub on reconnect).
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SUFFIX = ".json.gz"


class Spool:
    def __init__(
        self,
        directory: Path,
        max_bytes: int,
        max_age_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.dir = directory
        self.max_bytes = max_bytes
        self.max_age_seconds = max_age_seconds
        self.clock = clock
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        for stale in self.dir.glob("*.tmp"):  # a write cut short by a crash
            stale.unlink(missing_ok=True)
        self._state = self.dir / "dropped.json"
        self.dropped_total = self._load_dropped()
        files = self.files()
        self._seq = int(files[-1].name.split("-")[0]) + 1 if files else 1

    def _load_dropped(self) -> int:
        try:
            return int(json.loads(self._state.read_text())["dropped_total"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    def files(self) -> list[Path]:
        """Waiting batches, oldest first."""
        return sorted(self.dir.glob(f"*{SUFFIX}"))

    @staticmethod
    def count_of(path: Path) -> int:
        return int(path.name.removesuffix(SUFFIX).split("-")[2])

    @staticmethod
    def created_of(path: Path) -> float:
        return int(path.name.split("-")[1]) / 1000

    def pending(self) -> int:
        return sum(self.count_of(p) for p in self.files())

    def size(self) -> int:
        return sum(p.stat().st_size for p in self.files())

    def put(self, results: list[dict[str, Any]]) -> Path | None:
        """Write one batch (atomically), then enforce the limits."""
        if not results:
            return None
        body = gzip.compress(json.dumps({"results": results}).encode(), compresslevel=6)
        name = f"{self._seq:012d}-{int(self.clock() * 1000)}-{len(results)}{SUFFIX}"
        self._seq += 1
        tmp = self.dir / (name + ".tmp")
        tmp.write_bytes(body)
        os.replace(tmp, self.dir / name)
        self.enforce()
        return self.dir / name

    def enforce(self) -> int:
        """Drop what is too old, then the oldest until under the size limit; results dropped."""
        dropped = 0
        files = self.files()
        now = self.clock()
        while files and now - self.created_of(files[0]) > self.max_age_seconds:
            dropped += self._drop(files.pop(0), "older than the spool's age limit")
        total = sum(p.stat().st_size for p in files)
        while files and total > self.max_bytes:
            victim = files.pop(0)
            total -= victim.stat().st_size
            dropped += self._drop(victim, "the spool is over its size limit")
        return dropped

    def _drop(self, path: Path, why: str) -> int:
        count = self.count_of(path)
        path.unlink(missing_ok=True)
        self.count_dropped(count)
        log.warning("dropped %d spooled results: %s", count, why)
        return count

    def count_dropped(self, count: int) -> None:
        self.dropped_total += count
        tmp = self._state.with_suffix(".tmp")
        tmp.write_text(json.dumps({"dropped_total": self.dropped_total}))
        os.replace(tmp, self._state)

    def done(self, path: Path) -> None:
        path.unlink(missing_ok=True)
