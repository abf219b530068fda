"""Live values leave when the writer accepts them, and GET /metrics/latest serves them from
the writer's in-memory view, which the database fills again after a restart."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.core.config import Settings
from app.models import Series
from app.plugins.base import Sample
from app.services.metrics.latest import LatestView
from tests.conftest import add_plugin, make_settings


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # A commit only when the test asks for it (writer.flushed): the live path must not wait.
    return make_settings(database_url, tmp_path, scheduler_enabled=False, writer_flush_seconds=60)


async def _until(condition: Any, within: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not within the bound"
        await asyncio.sleep(0.01)


async def test_values_go_live_when_accepted_and_latest_has_them_before_the_commit(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    state = app.state.unity
    pid = await add_plugin(state.db, "synthetic", enabled=False)
    events: list[dict[str, Any]] = []

    async def capture(event: dict[str, Any]) -> None:
        if event["type"] == "metrics":
            events.append(event)

    state.hub.listeners.append(capture)
    lab = {"room": "lab"}
    t1 = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=10)
    state.writer.submit(pid, t1, [Sample("temp", 1.0, "C", lab), Sample("temp", 1.5, "C")])
    await asyncio.sleep(0.3)
    assert events == [], "a run with a new series goes live with the commit that creates it"
    await state.writer.flushed(30)
    assert [e["samples"][0]["value"] for e in events] == [1.0]

    t2 = t1 + timedelta(seconds=5)
    state.writer.submit(pid, t2, [Sample("temp", 2.0, "C", lab), Sample("temp", 3.0, "C")])
    await _until(lambda: len(events) == 2)  # long before the 60 s flush
    assert [(s["name"], s["value"], s["labels"]) for s in events[1]["samples"]] == [
        ("temp", 2.0, lab),
        ("temp", 3.0, {}),
    ]
    r = await client.get("/api/v1/metrics/latest", params={"plugin_id": pid}, headers=admin)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [(i["name"], i["labels"], i["value"], i["unit"]) for i in items] == [
        ("temp", {}, 3.0, "C"),  # ordered by name, then labels
        ("temp", lab, 2.0, "C"),
    ]
    assert {i["ts"] for i in items} == {t2.isoformat().replace("+00:00", "Z")}
    async with state.db.session() as s:  # not committed yet: the view ran ahead
        assert set(await s.scalars(select(Series.last_value))) == {1.0, 1.5}

    await state.writer.flushed(30)
    assert len(events) == 2, "published once: not again after the commit"
    # After a restart the view is filled from the database, with the same answer.
    view = LatestView()
    await view.load(state.db)
    assert json.loads(view.encoded(pid)) == r.json()
    everything = await client.get("/api/v1/metrics/latest", headers=admin)
    assert everything.json() == r.json()


async def test_a_late_value_does_not_replace_a_newer_one_and_deleting_forgets(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    state = app.state.unity
    pid = await add_plugin(state.db, "synthetic", enabled=False)
    now = datetime.now(UTC)
    state.writer.submit(pid, now, [Sample("temp", 5.0, "C")])
    await state.writer.flushed(30)
    state.writer.submit(pid, now - timedelta(minutes=1), [Sample("temp", 4.0, "C")])  # late
    await state.writer.flushed(30)
    r = await client.get("/api/v1/metrics/latest", params={"plugin_id": pid}, headers=admin)
    assert [i["value"] for i in r.json()["items"]] == [5.0]

    assert (await client.delete(f"/api/v1/plugins/{pid}", headers=admin)).status_code == 204
    r = await client.get("/api/v1/metrics/latest", params={"plugin_id": pid}, headers=admin)
    assert r.json() == {"items": []}
