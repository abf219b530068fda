"""Run the real app on a loopback port: in-process uvicorn, or a `python -m app` child."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn

BACKEND = Path(__file__).resolve().parents[1]


def stop_process(proc: subprocess.Popen[Any] | None, grace: float = 15, reap: float = 5) -> None:
    """SIGTERM a child that still runs, SIGKILL it after `grace` s; a no-op once it has exited."""
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(reap)


def run_cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m app ARGS` in `cwd` (also its data dir), with no settings from this shell."""
    base = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
    base.update({"DATA_DIR": str(cwd), "PYTHONPATH": str(BACKEND), "CANARY_TARGETS": ""}, **env)
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=cwd,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def backend_env(database_url: str, **settings: Any) -> dict[str, str]:
    """The environment of a backend run as a child process: the test keys, an admin from
    settings, no default plugin; `settings` adds more by name (writer_flush_seconds=60)."""
    from tests.conftest import PASSWORD, TEST_JWT, TEST_KEY

    env = {
        "DATABASE_URL": database_url,
        "ENCRYPTION_KEY": TEST_KEY,
        "JWT_SECRET_KEY": TEST_JWT,
        "CREATE_DEFAULT_PLUGIN": "false",
        "ADMIN_USERNAME": "admin",
        "ADMIN_PASSWORD": PASSWORD,
        "LOG_LEVEL": "warning",
    }
    env.update({k.upper(): str(v) for k, v in settings.items()})
    return env


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port on 127.0.0.1 that was free a moment ago (TCP, or UDP with SOCK_DGRAM)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def silent_port(fillers: int = 8) -> Iterator[int]:
    """A loopback port whose connects hang, like a firewalled host's: its listener never
    accepts, and its backlog is already full, so later SYNs go unanswered."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = int(server.getsockname()[1])
    clients = []
    for _ in range(fillers):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        clients.append(c)
    time.sleep(0.2)  # the handshakes settle into the backlog
    try:
        yield port
    finally:
        for c in clients:
            c.close()
        server.close()


@contextlib.asynccontextmanager
async def serve_in_process(app: Any, **overrides: Any) -> AsyncIterator[str]:
    """Serve an app (lifespan included) on 127.0.0.1; yields its host:port."""
    port = free_port()
    options: dict[str, Any] = {"log_config": None, "lifespan": "on", "ws_ping_interval": None}
    config = uvicorn.Config(app, host="127.0.0.1", port=port, **{**options, **overrides})
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


class Backend:
    """`python -m app serve` as a child process, the way users and compose run it."""

    def __init__(self, env: dict[str, str], data_dir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / f"backend-{self.port}.log"
        base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
        self.env = {
            **base,
            "PYTHONPATH": str(BACKEND),
            "DATA_DIR": str(data_dir),
            "LOG_LEVEL": "info",
            "CANARY_TARGETS": "",  # the canary's default probes the real gateway: loopback only
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Backend:
        data = Path(self.env["DATA_DIR"])
        data.mkdir(parents=True, exist_ok=True)
        self._fh = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=BACKEND,
            env=self.env,
            stdout=self._fh,
            stderr=subprocess.STDOUT,
        )
        return self

    def wait_healthy(self, timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"backend exited {self.proc.returncode}: {self.log.read_text()[-3000:]}"
                )
            try:
                r = httpx.get(self.url + "/health", timeout=2)
                if r.status_code == 200:
                    return dict(r.json())
                last = r.text
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.1)
        raise TimeoutError(
            f"backend not healthy in {timeout}s: {last}\n{self.log.read_text()[-3000:]}"
        )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(15)

    def stop(self) -> int | None:
        stop_process(self.proc)
        if hasattr(self, "_fh"):
            self._fh.close()
        return self.proc.returncode if self.proc else None

    def logs(self) -> str:
        return self.log.read_text() if self.log.exists() else ""
