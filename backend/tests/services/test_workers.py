"""Runs spread over workers (issue 24): the leader queues due runs on a Redis Stream, workers
claim and run them, a killed worker's runs are taken over, and a lost Redis means runs in the
server's own process. Real Redis, real PostgreSQL, real loopback tcp targets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.db.session import Database
from app.models import PluginRun
from app.models.enums import RunStatus
from app.services.plugins import workqueue
from app.services.plugins.runworker import WorkerService
from app.services.plugins.workqueue import GROUP, RunQueue
from tests.conftest import add_plugin, make_settings, running_app, skip_or_fail
from tests.live import BACKEND, backend_env, free_port, silent_port, stop_process

SHARED_REDIS = "redis://127.0.0.1:6379/0"


def _redis_up(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")
    return False


@pytest.fixture
def queue_key() -> Iterator[str]:
    """A stream of this test's own on the shared Redis, deleted afterwards."""
    if not _redis_up(6379):
        skip_or_fail("worker tests need Redis on 127.0.0.1:6379 (apt-get install redis-server)")
    key = f"unity-test:{uuid.uuid4().hex[:10]}"
    yield key
    import redis

    client = redis.Redis.from_url(SHARED_REDIS)
    client.delete(key, workqueue.done_key_for(key))
    client.close()


def worker_settings(pg_url: str, data_dir: Path, key: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "redis_url": SHARED_REDIS,
        "redis_channel": f"{key}:events",
        "run_workers": True,
        "run_queue_key": key,
        "run_claim_timeout_seconds": 2.0,
    }
    return make_settings(pg_url, data_dir, **{**values, **overrides})


async def until(check: Callable[[], Any], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {seconds:g} s: {what}")


async def tcp_plugins(
    db: Database, count: int, port: int, prefix: str = "tcp", **fields: Any
) -> list[int]:
    config = {"host": "127.0.0.1", "port": port, "timeout_seconds": 1.0}
    values = {"interval_seconds": 1, "timeout_seconds": 1, **fields}
    return [
        await add_plugin(db, f"{prefix} {i}", type="tcp", config=config, **values)
        for i in range(count)
    ]


async def runs_of(db: Database, plugin_ids: list[int]) -> list[PluginRun]:
    async with db.session() as session:
        rows = await session.scalars(
            select(PluginRun).where(PluginRun.plugin_id.in_(plugin_ids)).order_by(PluginRun.id)
        )
        return list(rows)


def due_of(run: PluginRun) -> tuple[int, int]:
    """(plugin, due second) of a scheduled run: its start less its lateness."""
    started = run.started_at.timestamp() * 1000
    return run.plugin_id, round((started - (run.lateness_ms or 0)) / 1000)


@contextlib.asynccontextmanager
async def in_process_worker(settings: Any, name: str) -> Any:
    service = WorkerService(settings, name)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        yield service.worker
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_the_leader_queues_and_a_worker_runs_each_due_time_once(
    pg_url: str, tmp_path: Path, listener: int, queue_key: str
) -> None:
    settings = worker_settings(pg_url, tmp_path, queue_key)
    db = Database(settings.db_url)
    try:
        ids = await tcp_plugins(db, 3, listener)
        async with (
            in_process_worker(settings, "w1") as worker,
            running_app(settings) as app,
        ):
            sched = app.state.unity.scheduler
            await until(lambda: worker.ran >= 9, "9 runs on the worker")
            assert sched.queue is not None and sched.queue.enqueued >= 9
            assert sched.run_counts == {}, "no run in the server's own process"
        runs = await runs_of(db, ids)
        assert len(runs) >= 9
        assert {r.status for r in runs} == {RunStatus.SUCCESS}
        assert {r.plugin_id for r in runs} == set(ids)
        dues = Counter(due_of(r) for r in runs)
        assert max(dues.values()) == 1, f"a due time ran twice: {dues.most_common(3)}"
    finally:
        await db.dispose()


def worker_process(pg_url: str, data_dir: Path, key: str, name: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
    env.update(
        backend_env(
            pg_url,
            redis_url=SHARED_REDIS,
            redis_channel=f"{key}:events",
            run_workers="true",
            run_queue_key=key,
            run_claim_timeout_seconds=2,
            data_dir=data_dir,
            canary_targets="",
            log_level="info",
        ),
        PYTHONPATH=str(BACKEND),
    )
    alive = data_dir / f"worker-{name}.alive"
    return subprocess.Popen(
        [sys.executable, "-m", "app", "worker", "--name", name, "--alive-file", str(alive)],
        cwd=data_dir,
        env=env,
        stdout=(data_dir / f"worker-{name}.log").open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )


def held_by(key: str, consumer: str) -> int:
    import redis

    client = redis.Redis.from_url(SHARED_REDIS)
    try:
        for row in client.xinfo_consumers(key, GROUP):
            if row["name"] in (consumer, consumer.encode()):
                return int(row["pending"])
    except redis.ResponseError:  # no group yet
        return 0
    finally:
        client.close()
    return 0


async def test_a_killed_workers_runs_are_taken_over_none_lost_none_twice(
    pg_url: str, tmp_path: Path, listener: int, queue_key: str
) -> None:
    settings = worker_settings(pg_url, tmp_path, queue_key)
    db = Database(settings.db_url)
    victim = None
    try:
        with silent_port() as silent:
            # Half answer at once, half hang for their check's 1 s timeout: runs under way.
            fast = await tcp_plugins(db, 10, listener, interval_seconds=60, timeout_seconds=2)
            slow = await tcp_plugins(
                db, 10, silent, "silent", interval_seconds=60, timeout_seconds=2
            )
            ids = fast + slow
            victim = worker_process(pg_url, tmp_path, queue_key, "victim")
            await until(lambda: _group(queue_key), "the victim joins the group")
            alive = tmp_path / "worker-victim.alive"  # what the compose health check reads
            await until(alive.exists, "the victim touches its alive file")
            assert time.time() - alive.stat().st_mtime < 30
            due = datetime.now(UTC).replace(microsecond=0)
            queue = RunQueue(settings)
            assert all([await queue.enqueue(i, due, None) for i in ids])
            await queue.close()
            # The slow half stays claimed for their check's 1 s at least; fast ones may be
            # acknowledged already (their records saved) or not.
            await until(lambda: held_by(queue_key, "victim") >= len(slow), "the victim claims")
            await asyncio.sleep(0.3)
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            held = held_by(queue_key, "victim")
            assert held > 0, "the victim acknowledged everything before it was killed"
            async with in_process_worker(settings, "rescuer") as rescuer:
                await until(lambda: held_by(queue_key, "victim") == 0, "the takeover", 30)
                await until(lambda: rescuer.ran + rescuer.duplicates >= held, "reruns", 30)
                await asyncio.sleep(1.5)  # the last records saved
        runs = await runs_of(db, ids)
        finished = [r for r in runs if r.status != RunStatus.INTERRUPTED]
        per_plugin = Counter(r.plugin_id for r in finished)
        assert set(per_plugin) == set(ids), f"runs lost: {set(ids) - set(per_plugin)}"
        assert max(per_plugin.values()) == 1, f"a run ran twice: {per_plugin.most_common(3)}"
        assert rescuer.taken_over + rescuer.duplicates >= held
        print(f"victim held {held}: {rescuer.taken_over} ran again, {rescuer.duplicates} saved")
    finally:
        if victim is not None:
            stop_process(victim)
        await db.dispose()


async def test_a_run_saved_before_its_worker_died_is_not_run_again(
    pg_url: str, tmp_path: Path, listener: int, queue_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The window a kill -9 can hit only by luck, set up on purpose: a worker claimed two runs
    and died; one had been saved (not yet marked done), the other left a `running` row."""
    import redis.asyncio as aioredis

    caplog.set_level(logging.INFO, "app.services.plugins")
    settings = worker_settings(pg_url, tmp_path, queue_key)
    db = Database(settings.db_url)
    client = aioredis.from_url(SHARED_REDIS, decode_responses=True)
    try:
        saved, cut = await tcp_plugins(db, 2, listener, interval_seconds=60, timeout_seconds=2)
        due = datetime.now(UTC).replace(microsecond=0)
        await client.xgroup_create(queue_key, GROUP, id="0", mkstream=True)
        for plugin_id in (saved, cut):
            await client.xadd(queue_key, workqueue.fields_of(plugin_id, due, None))
        await client.xreadgroup(GROUP, "ghost", {queue_key: ">"}, count=10)
        async with db.session() as session:
            for plugin_id, status in ((saved, RunStatus.SUCCESS), (cut, RunStatus.RUNNING)):
                session.add(PluginRun(plugin_id=plugin_id, status=status, started_at=due))
            await session.commit()
        async with in_process_worker(settings, "rescuer") as rescuer:
            await until(lambda: rescuer.ran == 1 and rescuer.duplicates == 1, "the takeover", 30)
            await asyncio.sleep(1.5)  # the rerun's record saved
        runs = await runs_of(db, [saved, cut])
        assert [(r.plugin_id, r.status) for r in runs] == [
            (saved, RunStatus.SUCCESS),
            (cut, RunStatus.INTERRUPTED),
            (cut, RunStatus.SUCCESS),
        ]
        assert "another worker ran it again" in (runs[1].error or "")
        assert "duplicate delivery dropped" in caplog.text
    finally:
        await client.aclose()
        await db.dispose()


def _group(key: str) -> bool:
    import redis

    client = redis.Redis.from_url(SHARED_REDIS)
    try:
        return any(g["name"] in (GROUP, GROUP.encode()) for g in client.xinfo_groups(key))
    except redis.ResponseError:
        return False
    finally:
        client.close()


@contextlib.contextmanager
def private_redis(port: int, data_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    binary = shutil.which("redis-server")
    if binary is None:
        skip_or_fail("this test needs redis-server (apt-get install redis-server)")
    assert binary is not None
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=data_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not _redis_up(port):
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"redis-server on port {port} did not start")
        time.sleep(0.05)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)


async def test_redis_killed_mid_run_falls_back_then_resumes(
    pg_url: str, tmp_path: Path, listener: int, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    key = f"unity-test:{uuid.uuid4().hex[:10]}"
    settings = make_settings(
        pg_url,
        tmp_path,
        redis_url=f"redis://127.0.0.1:{port}/0",
        run_workers=True,
        run_queue_key=key,
        run_claim_timeout_seconds=2.0,
    )
    db = Database(settings.db_url)
    try:
        ids = await tcp_plugins(db, 2, listener)
        with contextlib.ExitStack() as redis_servers:
            redis_proc = redis_servers.enter_context(private_redis(port, tmp_path))
            async with (
                in_process_worker(settings, "w1") as worker,
                running_app(settings) as app,
            ):
                sched = app.state.unity.scheduler
                await until(lambda: worker.ran >= 4, "runs on the worker")
                redis_proc.send_signal(signal.SIGKILL)
                redis_proc.wait(5)
                ran_on_worker = worker.ran
                await until(
                    lambda: sched.run_counts.get(RunStatus.SUCCESS, 0) >= 4, "runs in process"
                )
                redis_servers.enter_context(private_redis(port, tmp_path))  # back, empty
                await until(lambda: worker.ran >= ran_on_worker + 4, "the worker resumes")
                await until(lambda: not sched.queue.down, "the leader queues again")
        out = capsys.readouterr().out
        assert out.count("run queue unreachable") == 1, out
        assert "running plugins in this process until Redis answers again" in out
        assert "run queue reachable again" in out  # the leader
        assert "run queue (Redis) failing" in out and "run queue (Redis) recovered" in out
        assert "Traceback" not in out
        runs = await runs_of(db, ids)
        assert {r.status for r in runs} == {RunStatus.SUCCESS}
        dues = Counter(due_of(r) for r in runs)
        assert max(dues.values()) == 1, f"a due time ran twice: {dues.most_common(3)}"
    finally:
        await db.dispose()


async def test_with_redis_unreachable_from_the_start_runs_stay_in_process(
    pg_url: str, tmp_path: Path, listener: int, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(
        pg_url,
        tmp_path,
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        run_workers=True,
        run_queue_key=f"unity-test:{uuid.uuid4().hex[:10]}",
    )
    db = Database(settings.db_url)
    try:
        ids = await tcp_plugins(db, 2, listener)
        async with running_app(settings) as app:
            sched = app.state.unity.scheduler
            await until(lambda: sched.run_counts.get(RunStatus.SUCCESS, 0) >= 6, "runs")
        out = capsys.readouterr().out
        assert out.count("run queue unreachable") == 1, out
        assert "running plugins in this process until Redis answers again" in out
        assert "Traceback" not in out
        assert len(await runs_of(db, ids)) >= 6
    finally:
        await db.dispose()


def test_workers_need_redis(tmp_path: Path) -> None:
    from app.core.config import ConfigError

    with pytest.raises(ConfigError, match="RUN_WORKERS=true needs REDIS_URL"):
        make_settings(f"sqlite:///{tmp_path}/x.db", tmp_path, run_workers=True).prepare()


def test_a_worker_without_redis_says_what_to_set(tmp_path: Path) -> None:
    from tests.live import run_cli

    done = run_cli(
        tmp_path, "worker", DATABASE_URL=f"sqlite:///{tmp_path}/homelab.db", DEBUG="true"
    )
    assert done.returncode == 1
    assert "a worker takes its runs from Redis: set REDIS_URL" in done.stderr
    assert "Traceback" not in done.stderr


async def test_the_leader_says_so_when_no_worker_takes_the_runs(
    pg_url: str,
    tmp_path: Path,
    listener: int,
    queue_key: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workqueue, "WORKERS_LOOK_SECONDS", 0.5)
    settings = worker_settings(pg_url, tmp_path, queue_key)
    db = Database(settings.db_url)
    try:
        await tcp_plugins(db, 1, listener)
        async with running_app(settings) as app:
            sched = app.state.unity.scheduler
            await until(lambda: sched.queue.idle_warned, "the warning")
            assert sched.run_counts == {}, "queued runs are not run here"
        out = capsys.readouterr().out
        assert out.count("no worker has taken any") == 1, out
        assert "start `python -m app worker`, or set RUN_WORKERS=false" in out
    finally:
        await db.dispose()


async def test_a_taken_over_run_still_runs_after_its_next_due_time_ran_elsewhere(
    pg_url: str, tmp_path: Path, listener: int, queue_key: str
) -> None:
    """The dead worker's run of due time T is taken over after T+interval already ran on
    another worker: the done marks are per due time, so T still runs (once)."""
    import redis.asyncio as aioredis

    settings = worker_settings(pg_url, tmp_path, queue_key)
    db = Database(settings.db_url)
    client = aioredis.from_url(SHARED_REDIS, decode_responses=True)
    done = workqueue.done_key_for(queue_key)
    try:
        (plugin_id,) = await tcp_plugins(db, 1, listener, interval_seconds=5, timeout_seconds=2)
        due = datetime.now(UTC).replace(microsecond=0)
        due_ms = workqueue.to_ms(due)
        await client.xgroup_create(queue_key, GROUP, id="0", mkstream=True)
        await client.xadd(queue_key, workqueue.fields_of(plugin_id, due, None))
        await client.xreadgroup(GROUP, "ghost", {queue_key: ">"}, count=10)
        await client.eval(
            workqueue.MARK_DONE, 1, done, workqueue.KEEP_DONE, plugin_id, due_ms + 5000
        )
        assert not workqueue.ran_already(await client.hget(done, str(plugin_id)), due_ms)
        async with in_process_worker(settings, "rescuer") as rescuer:
            await until(lambda: rescuer.ran == 1, "the taken-over run")
            await asyncio.sleep(0.5)
            assert rescuer.duplicates == 0
        mark = await client.hget(done, str(plugin_id))
        assert mark == f"{due_ms},{due_ms + 5000}"
        assert workqueue.ran_already(mark, due_ms)
    finally:
        await client.aclose()
        await db.dispose()


def test_done_marks_keep_the_newest_due_times() -> None:
    import redis

    client = redis.Redis.from_url(SHARED_REDIS, decode_responses=True)
    key = f"unity-test:{uuid.uuid4().hex[:10]}:done"
    try:
        for due in range(20, 0, -1):  # out of order, more than are kept
            client.eval(workqueue.MARK_DONE, 1, key, workqueue.KEEP_DONE, 7, due * 1000)
        mark = client.hget(key, "7")
        assert mark == ",".join(str(d * 1000) for d in range(5, 21))
        assert workqueue.ran_already(mark, 5000) and workqueue.ran_already(mark, 1000)
        assert not workqueue.ran_already(mark, 21000)
    finally:
        client.delete(key)
        client.close()
