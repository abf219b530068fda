"""A recorded set of Unity's own host and http metrics, expanded to the storage benchmark's size.

`record()` runs the real `system` plugin and an `http` check of a loopback server RUNS times,
one run every EVERY seconds on a fixed grid (as the scheduler fires them), and keeps each run's
samples and how late it started (the scheduler's `started` is `datetime.now()` when the job runs:
microseconds past the grid). `expand()` turns that into HOSTS copies of the two plugins over the
last SPAN at their default intervals (system 30 s, http 60 s), each copy on its own stagger, each
run's time the grid plus a lateness drawn from the recorded ones. Each series keeps the shape it
had when recorded:
- constant (totals, swap on a host without swap, `up`, the status code): the value, always;
- rising (uptime, counters): the recorded steps, scaled from EVERY to the plugin's interval,
  taken in turn;
- anything else (CPU, load, memory used, rates, response time): the recorded values back and
  forth (0, 1, ..., R-1, R-2, ..., 1, 0, ...), starting at a different place on every host.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

from app.plugins.base import Plugin, PluginContext, Sample
from app.plugins.builtin.http import HttpPlugin
from app.plugins.builtin.system import SystemPlugin

Key = tuple[str, str, tuple[tuple[str, str], ...]]  # plugin type, metric name, labels

PAGE = (
    b"<html><body><h1>Welcome to the homelab</h1>"
    + b"<p>status: fine</p>" * 40
    + b"</body>"
)


@dataclass
class Recording:
    runs: dict[str, list[dict[Key, tuple[str, float]]]] = field(default_factory=dict)
    lateness_us: list[int] = field(default_factory=list)
    every: float = 1.0


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if not head:
                break
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
                + str(len(PAGE)).encode()
                + b"\r\n\r\n"
                + PAGE
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def _key(kind: str, s: Sample) -> Key:
    return (kind, s.name, tuple(sorted(s.labels.items())))


async def record(runs: int, every: float) -> Recording:
    """RUNS runs of `system` and of `http` against a loopback server, EVERY seconds apart."""
    server = await asyncio.start_server(_serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    data = Path(tempfile.mkdtemp(prefix="unity-bench-record-"))
    plugins: dict[str, Plugin] = {
        "system": SystemPlugin(SystemPlugin.Config(), PluginContext(1, data)),
        "http": HttpPlugin(
            HttpPlugin.Config(url=f"http://127.0.0.1:{port}/", keyword="homelab"),
            PluginContext(2, data),
        ),
    }
    out = Recording(runs={kind: [] for kind in plugins}, every=every)
    t0 = time.monotonic()
    try:
        for i in range(runs + 1):  # run 0 only primes the plugins' rates
            due = t0 + i * every
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            out.lateness_us.append(int((time.monotonic() - due) * 1_000_000))
            for kind, plugin in plugins.items():
                samples = await plugin.collect_data()
                if i:
                    out.runs[kind].append(
                        {_key(kind, s): (s.unit, s.value) for s in samples}
                    )
    finally:
        server.close()
        await server.wait_closed()
        for plugin in plugins.values():
            close = getattr(plugin, "close", None)
            if close is not None:
                result = close()
                if asyncio.iscoroutine(result):
                    await result
    return out


INTERVALS = {
    "system": SystemPlugin.default_interval_seconds,
    "http": HttpPlugin.default_interval_seconds,
}


@dataclass
class Expanded:
    """Per host and plugin: the run times; per series: unit and one value per run."""

    hosts: int
    times: dict[tuple[int, str], list[datetime]]
    series: dict[tuple[int, Key], tuple[str, list[float]]]
    shapes: dict[str, int]

    @property
    def samples(self) -> int:
        return sum(len(v) for _, v in self.series.values())

    def runs(self) -> Iterator[tuple[datetime, int, str, list[Sample]]]:
        """(time, host, plugin type, samples) of every run, oldest first (arrival order)."""
        by_plugin: dict[tuple[int, str], list[tuple[Key, str, list[float]]]] = {}
        for (host, key), (unit, values) in self.series.items():
            by_plugin.setdefault((host, key[0]), []).append((key, unit, values))
        order = sorted(
            (t, host, kind, i)
            for (host, kind), times in self.times.items()
            for i, t in enumerate(times)
        )
        for t, host, kind, i in order:
            samples = [
                Sample(key[1], values[i], unit, {**dict(key[2]), "host": f"h{host}"})
                for key, unit, values in by_plugin[(host, kind)]
            ]
            yield t, host, kind, samples

    def prometheus_series(
        self,
    ) -> Iterator[tuple[str, dict[str, str], list[tuple[float, float]]]]:
        for (host, key), (_, values) in self.series.items():
            times = self.times[(host, key[0])]
            labels = {**dict(key[2]), "host": f"h{host}"}
            yield (
                key[1],
                labels,
                [(t.timestamp(), v) for t, v in zip(times, values, strict=True)],
            )


def expand(rec: Recording, now: datetime, span: timedelta, target: int) -> Expanded:
    """HOSTS copies of the recording over `span` before `now`, about `target` samples in all."""
    rng = random.Random(26)  # noqa: S311 - test data, not secrets
    keys: dict[str, list[Key]] = {}
    for kind, runs in rec.runs.items():
        common = set(runs[0]).intersection(*runs[1:])  # series every run reported
        keys[kind] = sorted(common)
    per_host = sum(
        len(keys[kind]) * int(span.total_seconds() // INTERVALS[kind]) for kind in keys
    )
    hosts = max(1, round(target / per_host))
    times: dict[tuple[int, str], list[datetime]] = {}
    series: dict[tuple[int, Key], tuple[str, list[float]]] = {}
    shapes = {"constant": 0, "rising": 0, "varying": 0}
    for host in range(hosts):
        for kind, kind_keys in keys.items():
            interval = INTERVALS[kind]
            n = int(span.total_seconds() // interval)
            stagger = rng.uniform(0, interval)
            first = now - span + timedelta(seconds=stagger)
            times[(host, kind)] = [
                first
                + timedelta(
                    seconds=i * interval, microseconds=rng.choice(rec.lateness_us)
                )
                for i in range(n)
            ]
            runs = rec.runs[kind]
            for key in kind_keys:
                unit = runs[0][key][0]
                recorded = [run[key][1] for run in runs]
                if len(set(recorded)) == 1:
                    shape, values = "constant", [recorded[0]] * n
                elif all(b >= a for a, b in pairwise(recorded)):
                    shape = "rising"
                    scale = interval / rec.every
                    steps = [(b - a) * scale for a, b in pairwise(recorded)]
                    v, values = recorded[0], []
                    for i in range(n):
                        values.append(v)
                        v += steps[i % len(steps)]
                else:
                    shape = "varying"
                    cycle = recorded + recorded[-2:0:-1]
                    offset = rng.randrange(len(cycle))
                    values = [cycle[(offset + i) % len(cycle)] for i in range(n)]
                if host == 0:
                    shapes[shape] += 1
                series[(host, key)] = (unit, values)
    return Expanded(hosts, times, series, shapes)


def describe(rec: Recording, ex: Expanded) -> str:
    per_kind = {kind: len(runs[0]) for kind, runs in rec.runs.items()}
    late = sorted(rec.lateness_us)
    return (
        f"recorded {len(rec.runs['system'])} runs of system ({per_kind['system']} series) and http "
        f"({per_kind['http']} series) {rec.every:g} s apart, start lateness median "
        f"{late[len(late) // 2] / 1000:.2f} ms; per host {ex.shapes['constant']} constant, "
        f"{ex.shapes['rising']} rising, {ex.shapes['varying']} varying; expanded to {ex.hosts} "
        f"hosts: {len(ex.series):,} series, {ex.samples:,} samples (system every "
        f"{INTERVALS['system']} s, http every {INTERVALS['http']} s)"
    )
