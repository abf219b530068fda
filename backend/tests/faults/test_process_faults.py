"""The backend process dies hard (kill -9) or is stopped (SIGTERM) in the middle of runs."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.faults.conftest import (
    Api,
    backend_env,
    graceful_stop,
    produced,
    query,
    seq_values,
    wait_until,
)
from tests.live import Backend

pytestmark = pytest.mark.slow


async def test_kill_9_during_runs_then_restart(
    database_url: str, faultkit: Path, tmp_path: Path, backends: list[Backend]
) -> None:
    env = backend_env(database_url, faultkit)
    first = Backend(env, tmp_path / "data").start()
    backends.append(first)
    first.wait_healthy()
    api = Api(first)
    sleeper = api.create(
        "fault_sleeper", config={"seconds": 30}, interval_seconds=60, timeout_seconds=60
    )
    seq = api.create("fault_seq", interval_seconds=1)
    before = _config(api.get("/api/v1/plugins"))
    # Wait for a run of the sleeper to be in flight (its first scheduled slot is within 60 s,
    # so start one by hand in the background instead of waiting for it).
    threading.Thread(
        target=lambda: _swallow(lambda: api.http.post(f"/api/v1/plugins/{sleeper}/run")),
        daemon=True,
    ).start()
    wait_until(
        lambda: any(
            r["status"] == "running" for r in api.get(f"/api/v1/plugins/{sleeper}/runs")["items"]
        ),
        15,
        "a sleeper run in flight",
    )
    wait_until(lambda: len(produced(first.log.parent, seq)) >= 2, 15, "seq runs")
    first.kill(signal.SIGKILL)
    assert first.proc is not None and first.proc.returncode == -signal.SIGKILL
    api.close()

    second = Backend(env, tmp_path / "data").start()
    backends.append(second)
    second.wait_healthy()
    api = Api(second)
    after = _config(api.get("/api/v1/plugins"))
    assert after == before, "plugin configuration changed across the crash"
    runs = api.get(f"/api/v1/plugins/{sleeper}/runs")["items"]
    assert runs and all(r["status"] != "running" for r in runs)
    assert any(r["status"] == "interrupted" for r in runs)
    n = len(produced(second.log.parent, seq))
    wait_until(lambda: len(produced(second.log.parent, seq)) >= n + 3, 15, "scheduling to resume")
    rows = await query(
        database_url, "SELECT count(*) FROM plugin_runs WHERE status = 'interrupted'"
    )
    assert rows[0][0] >= 1
    api.close()


def _config(plugins: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a user configured (health and run times legitimately move on)."""
    keys = ("id", "name", "type", "config", "interval_seconds", "timeout_seconds", "enabled")
    return [{k: p[k] for k in keys} for p in plugins]


def _swallow(fn: Any) -> None:
    with contextlib.suppress(Exception):
        fn()


async def test_sigterm_flushes_buffered_samples_within_8_s(
    pg_url: str, faultkit: Path, tmp_path: Path, backends: list[Backend]
) -> None:
    # A long flush interval and a large batch: samples stay in the buffer until shutdown.
    env = backend_env(pg_url, faultkit, writer_flush_seconds=60, writer_batch_size=100_000)
    b = Backend(env, tmp_path / "data").start()
    backends.append(b)
    b.wait_healthy()
    api = Api(b)
    ids = [api.create("fault_seq", interval_seconds=1) for _ in range(5)]
    api.create("fault_sleeper", config={"seconds": 30}, interval_seconds=60, timeout_seconds=60)
    wait_until(
        lambda: (h := api.health()[1])["writer"]["buffered"] >= 15 and h["writer"]["written"] == 0,
        20,
        "samples waiting in the buffer",
    )
    api.close()
    time.sleep(0.3)
    took = graceful_stop(b, within=8)
    made = stored = 0
    for pid in ids:
        p = produced(b.log.parent, pid)
        s = await seq_values(pg_url, pid)
        assert s == sorted(p), f"plugin {pid}: produced {len(p)}, stored {len(s)}"
        made += len(p)
        stored += len(s)
    print(f"\nSIGTERM: exited in {took:.2f} s with {stored} of {made} buffered samples flushed")
