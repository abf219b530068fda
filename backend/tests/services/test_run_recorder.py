"""The run recorder: batched run rows and health, with ids, in statements prepared once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from app.main import create_app
from app.models import Plugin, PluginRun
from tests.conftest import make_settings


async def test_runs_get_their_ids_and_the_insert_text_does_not_depend_on_the_count(
    database_url: str, tmp_path: Path
) -> None:
    app = create_app(make_settings(database_url, tmp_path, scheduler_enabled=False))
    async with app.router.lifespan_context(app):
        state = app.state.unity
        async with state.db.session() as s:
            plugins = [
                Plugin(name=f"p{i}", type="system", config={}, interval_seconds=60)
                for i in range(3)
            ]
            s.add_all(plugins)
            await s.commit()
        inserts: set[str] = set()

        def record(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO PLUGIN_RUNS"):
                inserts.add(statement)

        event.listen(state.db.engine.sync_engine, "before_cursor_execute", record)
        recorder = state.recorder
        t0 = datetime.now(UTC)
        made = []
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
        event.remove(state.db.engine.sync_engine, "before_cursor_execute", record)

        assert all(r.id is not None for r in made) and len({r.id for r in made}) == 6
        async with state.db.session() as s:
            rows = {
                r.id: (r.plugin_id, r.started_at.astimezone(UTC))
                for r in await s.scalars(select(PluginRun))
            }
        assert rows == {r.id: (r.plugin_id, r.started_at) for r in made}
        if not state.db.is_sqlite:
            assert len(inserts) == 1, inserts  # one statement text: prepared once per connection
