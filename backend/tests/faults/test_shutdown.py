"""SIGTERM is prompt: a slow run in flight or a silent database does not hold the process.

Bounds are generous ("does not wait out its deadline", "does not hang"); the measured times
are printed for the record, not asserted as benchmarks.
"""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.conftest import (
    Api,
    TcpProxy,
    backend_env,
    graceful_stop,
    produced,
    query,
    seq_values,
    via,
    wait_until,
)
from tests.live import Backend

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def slow_http() -> Iterator[str]:
    """A loopback HTTP server that reads the request and then says nothing for 30 s."""
    release = threading.Event()

    class Slow(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.recv(65536)
            release.wait(30)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Slow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def _running(api: Api, plugin_id: int) -> bool:
    runs = api.get(f"/api/v1/plugins/{plugin_id}/runs")["items"]
    return any(r["status"] == "running" for r in runs)


async def test_sigterm_with_a_slow_http_run_in_flight_exits_at_once(
    pg_url: str, faultkit: Path, tmp_path: Path, backends: list[Backend], slow_http: str
) -> None:
    # A deadline far above the bound: exiting within the bound proves nothing waited it out.
    # Samples stay in the buffer until shutdown (long flush, big batch): the stop flushes them.
    env = backend_env(
        pg_url,
        faultkit,
        shutdown_timeout_seconds=20,
        writer_flush_seconds=60,
        writer_batch_size=100_000,
    )
    b = Backend(env, tmp_path / "data").start()
    backends.append(b)
    b.wait_healthy()
    api = Api(b)
    seqs = [api.create("fault_seq", interval_seconds=1) for _ in range(3)]
    # A scheduled run (its first slot is within the 10 s interval) that would take 10 s.
    slow = api.create(
        "http",
        config={"url": slow_http, "timeout_seconds": 10},
        interval_seconds=10,
        timeout_seconds=10,
    )
    wait_until(lambda: _running(api, slow), 25, "the slow http run in flight")
    wait_until(lambda: api.health()[1]["writer"]["buffered"] >= 6, 15, "buffered samples")
    api.close()

    took = graceful_stop(b, within=5)
    print(f"\nSIGTERM with a slow http run in flight: exited in {took:.2f} s")
    assert "did not finish within" not in b.logs()
    assert "unwritten" not in b.logs() and "unsaved" not in b.logs()
    rows = await query(pg_url, "SELECT status, error FROM plugin_runs WHERE plugin_id = $1", slow)
    assert [r[0] for r in rows] == ["interrupted"], rows
    for pid in seqs:
        made = produced(b.log.parent, pid)
        assert await seq_values(pg_url, pid) == sorted(made), "buffered samples were lost"


async def test_sigterm_with_a_silent_database_exits_within_the_shutdown_timeout(
    pg_url: str, faultkit: Path, tmp_path: Path, backends: list[Backend], pg_proxy: TcpProxy
) -> None:
    shutdown_s = 3
    env = backend_env(via(pg_proxy, pg_url), faultkit, shutdown_timeout_seconds=shutdown_s)
    b = Backend(env, tmp_path / "data").start()
    backends.append(b)
    b.wait_healthy()
    api = Api(b)
    seq = api.create("fault_seq", interval_seconds=1)
    wait_until(lambda: len(produced(b.log.parent, seq)) >= 2, 15, "seq runs")
    api.close()
    pg_proxy.silence()
    wait_until(lambda: _log_has(b, "failing"), 20, "the outage to be noticed")
    time.sleep(1.5)  # some samples buffered that the silent database cannot take

    # The bound: the shutdown timeout, plus what uvicorn and the interpreter take to exit.
    took = graceful_stop(b, within=shutdown_s + 4)
    print(f"\nSIGTERM with a silent database: exited in {took:.2f} s")
    logs = b.logs()
    assert "samples unwritten" in logs, logs[-3000:]
    assert logs.count("Traceback") == 0, logs[-3000:]


def _log_has(b: Backend, text: str) -> Any:
    return text in b.logs()
