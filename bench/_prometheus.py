"""Prometheus as a comparison: the same samples as OpenMetrics, a TSDB built by promtool, and
Debian's `prometheus` serving it on a loopback port, with a keep-alive `query_range` client.

    async with Prometheus.from_series(series, workdir) as prom:
        result = await prom.query_range('avg_over_time(metric_1{n="1"}[300s])', start, end, 300)

`series` is an iterable of `(name, labels, [(ts, value), ...])` with `ts` a datetime or Unix
seconds. The file is written family by family (OpenMetrics wants every sample of a metric in one
block, `# EOF` at the end). Prometheus runs with no scrape targets and a retention that covers
the oldest sample, so blocks built from old data are loaded rather than deleted. Blocks built by
promtool are 2 h long; Prometheus compacts them into longer ones about a minute after it starts,
so `settle()` waits for that before anything is timed (a compaction in the middle of a timing
loop would be measured as query time).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import _common

from tests.live import stop_process

PROMETHEUS = os.environ.get("UNITY_BENCH_PROMETHEUS", "/usr/bin/prometheus")
PROMTOOL = os.environ.get("UNITY_BENCH_PROMTOOL", "/usr/bin/promtool")

Series = tuple[str, dict[str, str], Sequence[tuple[Any, float]]]


def available() -> bool:
    return bool(shutil.which(PROMETHEUS) and shutil.which(PROMTOOL))


def _seconds(ts: Any) -> float:
    return ts.timestamp() if isinstance(ts, datetime) else float(ts)


def _label_text(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    parts = []
    for key, value in sorted(labels.items()):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        parts.append(f'{key}="{escaped}"')
    return "{" + ",".join(parts) + "}"


def write_openmetrics(series: Iterable[Series], path: Path) -> tuple[int, float]:
    """Write the series as OpenMetrics gauges; returns (sample count, oldest Unix second)."""
    families: dict[str, list[tuple[dict[str, str], Sequence[tuple[Any, float]]]]] = {}
    for name, labels, points in series:
        families.setdefault(name, []).append((labels, points))
    count, oldest = 0, float("inf")
    with path.open("w") as out:
        for name, members in families.items():
            out.write(f"# TYPE {name} gauge\n")
            for labels, points in members:
                prefix = name + _label_text(labels) + " "
                lines = []
                for ts, value in points:
                    seconds = _seconds(ts)
                    oldest = min(oldest, seconds)
                    lines.append(f"{prefix}{float(value)!r} {seconds:.3f}\n")
                out.write("".join(lines))
                count += len(lines)
        out.write("# EOF\n")
    return count, oldest


def du(path: Path) -> int:
    """Bytes of the regular files under path."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class Prometheus:
    """A Prometheus process over a TSDB directory, stopped on exit."""

    def __init__(self, tsdb: Path, oldest: float, workdir: Path) -> None:
        self.tsdb, self.oldest, self.workdir = tsdb, oldest, workdir
        self.port = _common.free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.samples = 0
        self.build_seconds = 0.0
        self._conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    @classmethod
    def from_series(cls, series: Iterable[Series], workdir: Path) -> Prometheus:
        """Write OpenMetrics, build the blocks with promtool; `async with` starts the server."""
        workdir.mkdir(parents=True, exist_ok=True)
        text, tsdb = workdir / "samples.om", workdir / "tsdb"
        t0 = time.perf_counter()
        count, oldest = write_openmetrics(series, text)
        subprocess.run(  # noqa: S603 - fixed executable, our own paths
            [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "-q", str(text), str(tsdb)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        text.unlink()
        prom = cls(tsdb, oldest, workdir)
        prom.samples, prom.build_seconds = count, time.perf_counter() - t0
        return prom

    @property
    def size_bytes(self) -> int:
        return du(self.tsdb)

    def start(self) -> None:
        config = self.workdir / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
        # Keep every block: retention from the oldest sample to now, plus a week.
        days = int((time.time() - self.oldest) // 86400) + 8
        self._log = (self.workdir / "prometheus.log").open("wb")
        self.proc = subprocess.Popen(  # noqa: S603 - fixed executable, our own paths
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.tsdb}",
                f"--storage.tsdb.retention.time={days}d",
                f"--web.listen-address={self.host}",
                "--log.level=warn",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C reaches it through stop(), not twice
        )

    async def __aenter__(self) -> Prometheus:
        self.start()
        try:
            await self._wait_ready(60)
        except BaseException:
            self.stop()
            raise
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        if self._conn is not None:
            self._conn[1].close()
            self._conn = None
        stop_process(self.proc)
        if hasattr(self, "_log"):
            self._log.close()

    def log_tail(self) -> str:
        path = self.workdir / "prometheus.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    async def _wait_ready(self, within: float) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self.proc is not None  # nosec B101 - set by __aenter__
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited {self.proc.returncode}: {self.log_tail()}")
            with contextlib.suppress(OSError, asyncio.IncompleteReadError, ValueError):
                status, _ = await self.get("/-/ready", fresh=True)
                if status == 200:
                    return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"prometheus not ready in {within} s: {self.log_tail()}")

    async def metric(self, name: str) -> float:
        """One unlabelled value from Prometheus' own /metrics (0 if absent)."""
        _, body = await self.get("/metrics")
        for line in body.decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return 0.0

    async def settle(self, within: float = 150.0) -> int:
        """Wait for the start-up compaction (about 1 min after start); returns blocks loaded."""
        deadline = time.monotonic() + within
        last, stable_since = -1.0, time.monotonic()
        while time.monotonic() < deadline:
            blocks = await self.metric("prometheus_tsdb_blocks_loaded")
            ran = await self.metric("prometheus_tsdb_compactions_triggered_total")
            if blocks != last:
                last, stable_since = blocks, time.monotonic()
            if ran > 0 and time.monotonic() - stable_since >= 5:
                return int(blocks)
            await asyncio.sleep(1)
        return int(last)

    async def get(self, path: str, fresh: bool = False) -> tuple[int, bytes]:
        """GET over one keep-alive connection (Content-Length or chunked bodies)."""
        if fresh or self._conn is None:
            if self._conn is not None:
                self._conn[1].close()
            self._conn = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self._conn
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length, chunked = -1, False
        for line in head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            key = key.strip().lower()
            if key == b"content-length":
                length = int(value)
            elif key == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, await reader.readexactly(max(length, 0))
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return status, b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)

    def range_path(self, expr: str, start: Any, end: Any, step: float) -> str:
        query = {"query": expr, "start": _seconds(start), "end": _seconds(end), "step": step}
        return "/api/v1/query_range?" + urlencode(query)

    async def query_range(self, expr: str, start: Any, end: Any, step: float) -> list[Any]:
        """The `result` list of a range query (raises on an error answer)."""
        status, body = await self.get(self.range_path(expr, start, end, step))
        answer = json.loads(body)
        if status != 200 or answer.get("status") != "success":
            raise RuntimeError(f"query_range {expr!r}: {status} {body[:300]!r}")
        return list(answer["data"]["result"])
