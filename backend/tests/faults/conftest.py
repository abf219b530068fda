"""Fault-test kit: a cuttable TCP proxy, test plugins shipped through an entry point, a live API.

Everything listens on 127.0.0.1 and is stopped by the fixture that started it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from tests import live
from tests.conftest import (
    PASSWORD,
    _pg_dsn,
    fresh_pg_database,
    install_plugin_package,
    skip_or_fail,
)
from tests.live import Backend, free_port

# Test plugin types for backends run as child processes, installed the way a user would: a
# module plus a dist-info with `unity.plugins` entry points, put on PYTHONPATH.
FAULTKIT = textwrap.dedent(
    '''
    import asyncio
    from pathlib import Path

    from pydantic import Field

    from app.plugins.base import Plugin, PluginConfig, Sample


    class SeqConfig(PluginConfig):
        pass


    class Seq(Plugin):
        """One sample per run carrying a sequence number; every produced one is logged to a file.

        The file is written in the same step as the return, so a run whose sample was logged has
        handed it to the writer: produced == lines in the file.
        """

        type = "fault_seq"
        name = "Sequence"
        description = "Emits one numbered sample per run (fault tests)."
        Config = SeqConfig
        default_interval_seconds = 1

        def __init__(self, config, context=None):
            super().__init__(config, context)
            self.n = 0

        async def collect_data(self):
            self.n += 1
            path = Path(self.ctx.data_dir) / f"seq-{self.ctx.plugin_id}.log"
            with path.open("a") as fh:
                fh.write(f"{self.n}\\n")
            return [Sample("seq", self.n, "count")]


    class SleeperConfig(PluginConfig):
        seconds: float = Field(30.0, ge=0)


    class Sleeper(Plugin):
        type = "fault_sleeper"
        name = "Sleeper"
        description = "A run that takes a while (fault tests)."
        Config = SleeperConfig

        async def collect_data(self):
            await asyncio.sleep(self.config.seconds)
            return [Sample("slept", self.config.seconds, "s")]
    '''
)


@pytest.fixture(autouse=True)
def loaded_cpus() -> Iterator[None]:
    """Every fault test runs while another process keeps both cores busy (`stress-ng --cpu 2`).

    A homelab box is rarely idle: the outage, shutdown and isolation bounds must hold on a loaded
    machine, and no well-behaved plugin may be isolated because it was merely descheduled.
    stress-ng runs in its own process group, at most 10 minutes, and is stopped after the test.
    """
    exe = shutil.which("stress-ng")
    if exe is None:
        skip_or_fail("stress-ng is not installed: apt-get install stress-ng")
    proc = subprocess.Popen(
        [exe, "--cpu", "2", "--timeout", "600s", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
                break


def install_faultkit(site: Path) -> Path:
    """The faultkit plugins installed in `site` (made if missing), for a backend's PYTHONPATH."""
    site.mkdir(exist_ok=True)
    plugins = {"fault_seq": "unity_faultkit:Seq", "fault_sleeper": "unity_faultkit:Sleeper"}
    install_plugin_package(site, "unity_faultkit", FAULTKIT, plugins)
    return site


@pytest.fixture(scope="session")
def faultkit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_faultkit(tmp_path_factory.mktemp("faultkit-site"))


def backend_env(database_url: str, faultkit: Path, **extra: Any) -> dict[str, str]:
    """`tests.live.backend_env` with the faultkit plugins installed and a quick leader retry."""
    settings = {"leader_retry_seconds": 0.5, "log_level": "info", **extra}
    return live.backend_env(database_url, pythonpath=f"{live.BACKEND}:{faultkit}", **settings)


class Api:
    """A small synchronous admin client for a live backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.http = httpx.Client(base_url=backend.url, timeout=10)
        r = self.http.post("/api/v1/auth/login", data={"username": "admin", "password": PASSWORD})
        r.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def create(self, type_: str, name: str | None = None, **kw: Any) -> int:
        body: dict[str, Any] = {
            "name": name or f"{type_}-{uuid.uuid4().hex[:6]}",
            "type": type_,
            "config": {},
            "interval_seconds": 1,
        }
        body.update(kw)
        body.setdefault("timeout_seconds", min(5, body["interval_seconds"]))
        r = self.http.post("/api/v1/plugins", json=body)
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def get(self, path: str) -> Any:
        r = self.http.get(path)
        r.raise_for_status()
        return r.json()

    def health(self) -> tuple[int, dict[str, Any]]:
        r = self.http.get("/health")
        return r.status_code, r.json()

    def ws_url(self) -> str:
        """The `/ws/metrics` address with this client's token."""
        token = self.http.headers["Authorization"].removeprefix("Bearer ")
        return self.backend.url.replace("http://", "ws://") + f"/ws/metrics?token={token}"

    def close(self) -> None:
        self.http.close()


def produced(data_dir: Path, plugin_id: int) -> list[int]:
    path = data_dir / f"seq-{plugin_id}.log"
    return [int(x) for x in path.read_text().split()] if path.exists() else []


async def query(database_url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read the database directly (not through any proxy) with a plain driver."""
    if database_url.startswith("sqlite"):
        path = make_url(database_url).database
        assert path
        with contextlib.closing(sqlite3.connect(path, timeout=10)) as conn:
            return [tuple(r) for r in conn.execute(sql.replace("$1", "?"), args).fetchall()]
    conn = await asyncpg.connect(database_url, timeout=10)
    try:
        return [tuple(r) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def seq_values(database_url: str, plugin_id: int) -> list[int]:
    rows = await query(
        database_url,
        "SELECT s.value FROM samples s JOIN series r ON r.id = s.series_id "
        "WHERE r.plugin_id = $1 AND r.name = 'seq' ORDER BY s.value",
        plugin_id,
    )
    return [int(r[0]) for r in rows]


def graceful_stop(backend: Backend, within: float = 8.0) -> float:
    """SIGTERM the backend; assert it shut down cleanly within `within` s; return how long it took.

    uvicorn re-raises the signal once its shutdown is complete, so the exit status is -SIGTERM.
    """
    assert backend.proc is not None and backend.proc.poll() is None
    t0 = time.monotonic()
    backend.proc.send_signal(signal.SIGTERM)
    try:
        code = backend.proc.wait(within + 5)
    except subprocess.TimeoutExpired:
        code = None
    took = time.monotonic() - t0
    backend.stop()
    assert code in (0, -signal.SIGTERM), f"exit status {code}: {backend.logs()[-2000:]}"
    assert "Unity stopped" in backend.logs()
    assert took < within, f"SIGTERM took {took:.1f} s to exit"
    return took


def wait_until(predicate: Any, timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


@pytest.fixture
def pg_url2() -> Iterator[str]:
    """A second fresh, migrated PostgreSQL database (for two backends side by side)."""
    with fresh_pg_database() as url:
        yield url


class TcpProxy:
    """A loopback TCP proxy on its own thread and event loop that can simulate an outage.

    `cut()` resets every open connection and stops listening, so new connections are refused;
    `silence()` keeps every connection open and accepts new ones, but passes nothing either way
    (a stalled VM, a firewall dropping packets); `restore()` ends either: it resets what was
    silenced (those connections missed bytes) and listens again on the same port.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.BaseTransport] = set()
        self.connections = 0
        self.silent = False
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._call(self._listen())

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.silent:  # accept, then say nothing and ignore everything
            self._transports.add(writer.transport)
            try:
                while await reader.read(65536):
                    pass
            except OSError:
                pass
            finally:
                self._transports.discard(writer.transport)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        pair = {writer.transport, up_writer.transport}
        self._transports |= pair

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    if self.silent:
                        continue  # dropped, as by a firewall; restore() resets the connection
                    dst.write(data)
                    await dst.drain()
            except (OSError, RuntimeError):
                pass
            finally:
                dst.transport.abort()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            self._transports -= pair

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for t in list(self._transports):
            t.abort()
        self._transports.clear()

    def cut(self) -> None:
        self._call(self._cut())

    async def _silence(self) -> None:
        self.silent = True

    def silence(self) -> None:
        self._call(self._silence())

    async def _restore(self) -> None:
        if self.silent:
            await self._cut()
            self.silent = False
        if self._server is None:
            await self._listen()

    def restore(self) -> None:
        self._call(self._restore())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self._cut())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


@pytest.fixture
def pg_proxy() -> Iterator[TcpProxy]:
    url = make_url(_pg_dsn("postgres"))
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    try:
        yield proxy
    finally:
        proxy.close()


def via(proxy: TcpProxy, pg_url: str) -> str:
    """The same database URL, through the proxy."""
    return make_url(pg_url).set(host="127.0.0.1", port=proxy.port).render_as_string(False)


@pytest.fixture
def backends() -> Iterator[list[Backend]]:
    """Backends started by a test; all stopped (SIGTERM, then SIGKILL) at its end."""
    started: list[Backend] = []
    yield started
    for b in started:
        b.stop()
