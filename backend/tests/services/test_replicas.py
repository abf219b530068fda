"""Two real backend processes on one PostgreSQL and Redis: one leader, shared events, failover."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import select
from sqlalchemy.engine import make_url
from websockets.asyncio.client import connect

from app.db.session import Database
from app.models import PluginRun
from tests.conftest import PASSWORD, TEST_JWT, TEST_KEY, skip_or_fail
from tests.live import Backend

REDIS_URL = os.environ.get("UNITY_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis at {REDIS_URL} unavailable: {exc}")
    return REDIS_URL


@pytest.fixture
def replicas(pg_url: str, redis_url: str, tmp_path: Path) -> Any:
    env = {
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
        "ENCRYPTION_KEY": TEST_KEY,
        "JWT_SECRET_KEY": TEST_JWT,
        "REDIS_CHANNEL": f"unity-test-{uuid.uuid4().hex}",
        "LEADER_RETRY_SECONDS": "0.5",
        "CREATE_DEFAULT_PLUGIN": "false",
    }
    a = Backend(env, tmp_path / "a").start()
    a.wait_healthy()  # A migrates first and takes the lock
    b = Backend(env, tmp_path / "b").start()
    b.wait_healthy()
    yield a, b
    for r in (a, b):
        r.stop()


def role(backend: Backend) -> str:
    return str(httpx.get(backend.url + "/health", timeout=5).json()["role"])


async def runs(pg_url: str, plugin_id: int) -> list[PluginRun]:
    db = Database(make_url(pg_url).set(drivername="postgresql+asyncpg"))
    try:
        async with db.session() as s:
            q = (
                select(PluginRun)
                .where(PluginRun.plugin_id == plugin_id)
                .order_by(PluginRun.started_at)
            )
            return list(await s.scalars(q))
    finally:
        await db.dispose()


async def test_one_leader_shared_events_and_failover(
    replicas: Any, pg_url: str, listener: int
) -> None:
    a, b = replicas
    assert role(a) == "leader"
    assert role(b) == "standby"
    async with httpx.AsyncClient(base_url=a.url, timeout=10) as c:
        await c.post("/api/v1/auth/setup", json={"username": "admin", "password": PASSWORD})
        tok = (
            await c.post("/api/v1/auth/login", data={"username": "admin", "password": PASSWORD})
        ).json()
        h = {"Authorization": f"Bearer {tok['access_token']}"}
        r = await c.post(
            "/api/v1/plugins",
            headers=h,
            json={
                "name": "port",
                "type": "tcp",
                "interval_seconds": 1,
                "timeout_seconds": 1,
                "config": {"host": "127.0.0.1", "port": listener},
            },
        )
        pid = r.json()["id"]
        sched_b = (await c.get(b.url + "/api/v1/scheduler", headers=h)).json()
        assert sched_b["role"] == "standby" and sched_b["jobs"] == []

    # A client on B sees metrics produced by A's scheduler.
    host_b = b.url.removeprefix("http://")
    async with connect(f"ws://{host_b}/ws/metrics?token={tok['access_token']}") as ws:
        deadline = time.monotonic() + 10
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
            if msg["type"] == "metrics" and msg["plugin_id"] == pid:
                break
    # B runs no plugin and loaded its latest values before this one existed: what it serves
    # came through Redis with A's events, at least as new as the event just seen.
    async with httpx.AsyncClient(base_url=b.url, timeout=10, headers=h) as cb:
        r = await cb.get("/api/v1/metrics/latest", params={"plugin_id": pid})
    items = r.json()["items"]
    assert {i["name"] for i in items} >= {s["name"] for s in msg["samples"]}
    newest = max(datetime.fromisoformat(i["ts"]) for i in items)
    assert newest >= datetime.fromisoformat(msg["ts"])
    await asyncio.sleep(3)
    before = await runs(pg_url, pid)
    starts = [r.started_at.timestamp() for r in before]
    gaps = [y - x for x, y in itertools.pairwise(starts)]
    assert len(before) >= 3
    assert min(gaps) > 0.5, f"two replicas ran the same job: gaps {gaps}"

    # A change made through the standby's API reaches the leader's jobs.
    async with httpx.AsyncClient(base_url=b.url, timeout=10) as cb:
        r = await cb.patch(f"/api/v1/plugins/{pid}", headers=h, json={"interval_seconds": 7})
        assert r.status_code == 200
        deadline = time.monotonic() + 15
        while True:
            jobs = (await cb.get(a.url + "/api/v1/scheduler", headers=h)).json()["jobs"]
            if {"id": f"plugin:{pid}", "interval_seconds": 7} in [
                {"id": j["id"], "interval_seconds": j["interval_seconds"]} for j in jobs
            ]:
                break
            assert time.monotonic() < deadline, "the leader never picked up the change"
            await asyncio.sleep(0.5)
        await cb.patch(f"/api/v1/plugins/{pid}", headers=h, json={"interval_seconds": 1})

    a.kill()  # kill -9: no goodbye, the lock goes with its connection
    killed_at = time.monotonic()
    while role(b) != "leader":
        assert time.monotonic() - killed_at < 10, "B did not take over"
        await asyncio.sleep(0.2)
    took_over = time.monotonic() - killed_at
    await asyncio.sleep(3)
    after = [r for r in await runs(pg_url, pid) if r.id not in {x.id for x in before}]
    assert len([r for r in after if r.status == "success"]) >= 2, "runs did not continue on B"
    print(f"failover took {took_over:.1f}s")
