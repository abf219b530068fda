"""UNITY_CONFIG: applied at start, re-applied when the real file changes, a broken one kept out."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.config import Settings
from app.models import PluginInstance
from app.services.config.watch import ConfigWatcher
from app.state import AppState
from tests.conftest import asgi_client, running_app, setup_admin

ONE = """\
plugins:
  - {name: first, type: tcp, config: {host: 127.0.0.1, port: 9}}
"""
TWO = ONE + "  - {name: second, type: tcp, config: {host: 127.0.0.1, port: 10}}\n"
BROKEN = TWO + "  - name: third\n    type: tcp\n    interval_seconds: often\n"


async def names(state: AppState) -> list[str]:
    async with state.db.session() as s:
        return sorted(await s.scalars(select(PluginInstance.name)))


def write(path: Path, text: str, bump: int) -> None:
    path.write_text(text)
    # a later modification time, whatever the file system's clock resolution
    mtime = path.stat().st_mtime_ns + bump * 1_000_000_000
    os.utime(path, ns=(mtime, mtime))


async def until(predicate: object, what: str) -> None:
    """Wait (a generous 30 s at most) for a condition the watcher should reach in a poll or two."""
    assert callable(predicate)
    for _ in range(300):
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the watcher did not {what} within 30 s")


class Lines(logging.Handler):
    """The watcher's log lines (the app's logging setup replaces the root handlers logged uses)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def logged() -> Iterator[Lines]:
    logger = logging.getLogger("app.services.config.watch")
    handler, level = Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_the_file_applies_at_start_and_again_when_it_changes(
    settings: Settings, tmp_path: Path, logged: Lines
) -> None:
    path = tmp_path / "unity.yaml"
    write(path, ONE, 0)
    watched = settings.model_copy(update={"unity_config": path, "unity_config_poll_seconds": 0.1})
    async with running_app(watched) as app:
        state: AppState = app.state.unity
        watcher = state.config_watch
        assert isinstance(watcher, ConfigWatcher)
        assert await names(state) == ["first"]  # applied before start-up finished

        write(path, TWO, 1)

        async def two() -> bool:
            return await names(state) == ["first", "second"]

        await until(two, "apply the changed file")
        assert watcher.applied == 2

        write(path, BROKEN, 2)

        async def refused() -> bool:
            return "the last configuration that applied stays in force" in logged.text

        await until(refused, "log the broken file")
        assert "line 6, column 5: plugins[2].interval_seconds: must be an integer" in logged.text
        assert await names(state) == ["first", "second"]  # nothing of the broken file
        await asyncio.sleep(0.5)  # more polls of the same broken file: no second report
        assert logged.text.count("stays in force") == 1

        write(path, ONE, 3)  # "second" left out, and no prune: kept

        async def applied_three() -> bool:
            return watcher.applied == 3

        await until(applied_three, "apply the fixed file")
        assert await names(state) == ["first", "second"]
        assert "1 object(s) in the database are not in the file and were kept" in logged.text

        write(path, "prune: true\n" + ONE, 4)  # the file asks for pruning itself

        async def pruned() -> bool:
            return await names(state) == ["first"]

        await until(pruned, "prune when the file says so")


async def test_what_the_file_lists_is_read_only_in_the_api(
    settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "unity.yaml"
    write(path, ONE, 0)
    watched = settings.model_copy(update={"unity_config": path})
    async with running_app(watched) as app, asgi_client(app) as client:
        admin = await setup_admin(client)
        r = await client.get("/api/v1/config/managed", headers=admin)
        assert r.json() == {"file": "unity.yaml", "objects": {"plugins": ["first"]}}
        [plugin] = (await client.get("/api/v1/plugins", headers=admin)).json()
        for call in (
            client.patch(f"/api/v1/plugins/{plugin['id']}", json={"enabled": False}, headers=admin),
            client.delete(f"/api/v1/plugins/{plugin['id']}", headers=admin),
        ):
            r = await call
            assert r.status_code == 409
            assert r.json()["detail"].startswith(
                "The plugin 'first' is managed by unity.yaml; change it in that file"
            )
        # an object the file does not list stays editable
        r = await client.post(
            "/api/v1/plugins",
            json={"name": "mine", "type": "tcp", "config": {"host": "127.0.0.1", "port": 9}},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        r = await client.patch(
            f"/api/v1/plugins/{r.json()['id']}", json={"enabled": False}, headers=admin
        )
        assert r.status_code == 200, r.text


async def test_without_unity_config_nothing_is_managed(app: object) -> None:
    async with asgi_client(app) as client:
        admin = await setup_admin(client)
        r = await client.get("/api/v1/config/managed", headers=admin)
        assert r.json() == {"file": None, "objects": {}}
