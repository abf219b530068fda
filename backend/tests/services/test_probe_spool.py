"""The probe spool: oldest first, bounded by size and age, drops counted across restarts."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from app.services.probes.spool import Spool


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def results(n: int, tag: str) -> list[dict[str, Any]]:
    return [{"plugin_id": 1, "tag": tag, "i": i, "pad": "x" * 200} for i in range(n)]


def tags(spool: Spool) -> list[str]:
    return [json.loads(gzip.decompress(p.read_bytes()))["results"][0]["tag"] for p in spool.files()]


def test_batches_come_out_oldest_first_and_survive_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    spool = Spool(tmp_path, 10**6, 3600, clock)
    for tag in ("first", "second", "third"):
        spool.put(results(2, tag))
        clock.now += 1
    assert tags(spool) == ["first", "second", "third"] and spool.pending() == 6
    spool.done(spool.files()[0])
    again = Spool(tmp_path, 10**6, 3600, clock)  # the probe restarted
    again.put(results(1, "fourth"))
    assert tags(again) == ["second", "third", "fourth"]


def test_the_oldest_go_first_past_the_size_limit_and_are_counted(tmp_path: Path) -> None:
    clock = Clock()
    spool = Spool(tmp_path, 10**6, 3600, clock)
    spool.put(results(50, "probe"))
    one = spool.size()
    spool.max_bytes = int(one * 2.5)  # room for two batches
    for tag in ("a", "b", "c", "d"):
        spool.put(results(50, tag))
    assert tags(spool) == ["c", "d"]
    assert spool.dropped_total == 150  # "probe", "a" and "b"
    assert Spool(tmp_path, 10**6, 3600, clock).dropped_total == 150  # kept on disk


def test_results_older_than_the_age_limit_are_dropped_and_counted(tmp_path: Path) -> None:
    clock = Clock()
    spool = Spool(tmp_path, 10**6, 60, clock)
    spool.put(results(3, "old"))
    clock.now += 45
    spool.put(results(2, "newer"))
    clock.now += 30  # "old" is 75 s old now, "newer" 30 s
    assert spool.enforce() == 3
    assert tags(spool) == ["newer"] and spool.dropped_total == 3
