"""The run recorder: batched run rows and health, with ids, in statements prepared once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.timers import FLUSH_PHASE, until_next
from app.models import PluginInstance, PluginRun
from app.plugins.base import Sample
from app.state import AppState
from tests.conftest import make_settings, recorded_statements, running_app


@pytest.fixture
async def state(database_url: str, tmp_path: Path) -> AsyncIterator[AppState]:
    """A started app with no scheduler, its writer flushing as by default (within 0.5 s)."""
    settings = make_settings(
        database_url, tmp_path, scheduler_enabled=False, writer_flush_seconds=0.5
    )
    async with running_app(settings) as app:
        yield app.state.unity


async def add_plugins(state: AppState, count: int) -> list[PluginInstance]:
    async with state.db.session() as s:
        plugins = [
            PluginInstance(name=f"p{i}", type="system", config={}, interval_seconds=60)
            for i in range(count)
        ]
        s.add_all(plugins)
        await s.commit()
    return plugins


async def test_runs_get_their_ids_and_the_insert_text_does_not_depend_on_the_count(
    state: AppState,
) -> None:
    plugins = await add_plugins(state, 3)
    recorder = state.recorder
    t0 = datetime.now(UTC)
    made = []
    with recorded_statements(state.db) as statements:
        for count in (1, 3, 2):  # flushes of different sizes
            batch = []
            for i in range(count):
                pid = plugins[i].id
                r = recorder.begin(pid, "manual", t0 + timedelta(seconds=len(made)), None)
                await recorder.finish(r, "success", None, 1, t0, 1.0)
                batch.append(r)
            for r in batch:
                await r.saved.wait()
            made += batch
    inserts = {
        s.sql for s in statements if s.sql.lstrip().upper().startswith("INSERT INTO PLUGIN_RUNS")
    }

    assert all(r.id is not None for r in made) and len({r.id for r in made}) == 6
    async with state.db.session() as s:
        rows = {
            r.id: (r.plugin_id, r.started_at.astimezone(UTC))
            for r in await s.scalars(select(PluginRun))
        }
    assert rows == {r.id: (r.plugin_id, r.started_at) for r in made}
    if not state.db.is_sqlite:
        assert len(inserts) == 1, inserts  # one statement text: prepared once per connection


async def test_a_run_and_its_samples_are_written_in_the_same_wake_up(state: AppState) -> None:
    """The writer and the recorder flush at one shared instant: one wake-up, not two."""
    [plugin] = await add_plugins(state, 1)

    async def one_run() -> None:
        # Scheduled runs start just after whole seconds; so does this one.
        await asyncio.sleep(until_next(1.0, 0.005))
        t0 = datetime.now(UTC)
        run = state.recorder.begin(plugin.id, "schedule", t0, None)
        await asyncio.sleep(0.005)  # the check itself
        state.writer.submit(plugin.id, t0, [Sample("temp", 1.0, "C", {})])
        await state.recorder.finish(run, "success", None, 1, t0, 1.0)
        await asyncio.wait_for(run.saved.wait(), 5)
        await state.writer.flushed(5)

    await one_run()  # creates the series and warms the connections
    with recorded_statements(state.db) as statements:
        await one_run()
    heads = [(s.sql.lstrip()[:24].upper(), s.at) for s in statements]
    run_at = next(t for head, t in heads if head.startswith("INSERT INTO PLUGIN_RUNS"))
    samples_at = next(
        t for head, t in heads if head.startswith(("UPDATE SERIES", "INSERT INTO SAMPLES"))
    )
    assert abs(run_at - samples_at) < 0.015, heads
    assert run_at % 1 == pytest.approx(FLUSH_PHASE, abs=0.03)


async def test_a_run_finished_while_its_health_is_read_is_still_saved(state: AppState) -> None:
    """A scheduled run that ends at once, before the recorder knows its plugin's health: the
    recorder wakes for begin(), runs while finish() reads the health, and must not go back to
    sleep with the record pending (it used to, until the next run began)."""
    [plugin] = await add_plugins(state, 1)
    state.recorder.forget_health()
    t0 = datetime.now(UTC)
    run = state.recorder.begin(plugin.id, "schedule", t0, None)
    await state.recorder.finish(run, "success", None, 0, t0, 1.0)
    await asyncio.wait_for(run.saved.wait(), 3)
    assert run.id is not None


async def test_a_retry_after_a_lost_commit_answer_updates_the_row_it_stored(
    state: AppState,
) -> None:
    """A database gone silent can take a COMMIT and never answer: the batch is retried, and the
    rows it stored must not come back twice (PostgreSQL: the record keeps its drawn id)."""
    if state.db.is_sqlite:
        pytest.skip("a commit to a local SQLite file cannot lose its answer")
    (plugin,) = await add_plugins(state, 1)
    recorder = state.recorder
    t0 = datetime.now(UTC)
    record = recorder.begin(plugin.id, "manual", t0, None)
    recorder.inflight.discard(record)  # driven by hand below, not by the flush loop
    await recorder._write_batch([], [record], {}, alive=None)  # the checkpoint: stored running
    stored = record.id
    record.id = None  # ... but its answer was lost, so the batch is retried whole
    record.status, record.finished_at, record.sample_count = "success", t0, 1
    await recorder._write_batch([record], [], {}, alive=None)

    assert record.id == stored == record.reserved_id
    async with state.db.session() as s:
        rows = [(r.id, r.status) for r in await s.scalars(select(PluginRun))]
    assert rows == [(stored, "success")]
