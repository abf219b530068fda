"""A started server holds only what runs: client libraries, Apprise, Redis and Alembic load
when a feature first needs them (house style 15), not at start-up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import PASSWORD
from tests.live import BACKEND, Backend, backend_env

# Imported by a plugin type, a notification channel, REDIS_URL, PostgreSQL or a migration.
HEAVY = (
    "alembic",
    "mako",
    "apprise",
    "redis",
    "asyncssh",
    "dns",
    "httpx",
    "icmplib",
    "pysnmp",
    "pymysql",
    "asyncpg",
    # Fernet's `cryptography` with the first secret encrypted or decrypted; PyJWT (HS256) is
    # imported without it; authlib and joserfc (with it) with the first single sign-on.
    "cryptography",
    "authlib",
    "joserfc",
)

# `python -m app serve`, plus a SIGUSR1 handler that writes the names of the loaded modules.
SERVE = """
import json, signal, sys
from pathlib import Path
out = Path(sys.argv[1])
signal.signal(signal.SIGUSR1, lambda *_: out.write_text(json.dumps(sorted(sys.modules))))
from app.cli import main
main(["serve", "--host", "127.0.0.1", "--port", sys.argv[2]])
"""


class ProbedBackend(Backend):
    def start(self) -> ProbedBackend:
        Path(self.env["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
        self._fh = self.log.open("ab")
        self.dump = Path(self.env["DATA_DIR"]) / "modules.json"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(self.dump), str(self.port)],
            cwd=BACKEND,
            env=self.env,
            stdout=self._fh,
            stderr=subprocess.STDOUT,
        )
        return self

    def loaded(self, names: tuple[str, ...]) -> list[str]:
        """Which of `names` (top-level packages) the running server has imported."""
        assert self.proc is not None
        self.dump.unlink(missing_ok=True)
        os.kill(self.proc.pid, signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while not self.dump.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        modules = {m.split(".")[0] for m in json.loads(self.dump.read_text())}
        return sorted(set(names) & modules)


def _wait_for_first_run(c: httpx.Client, plugin_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs = c.get(f"/api/v1/plugins/{plugin_id}/runs").json()
        if runs["total"]:
            return dict(runs["items"][0])
        time.sleep(0.2)
    raise TimeoutError(f"plugin {plugin_id} did not run within 60 s")


def test_heavy_libraries_load_with_the_first_instance_that_needs_them(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'homelab.db'}"
    env = backend_env(db, create_default_plugin="true", redis_url="")
    backend = ProbedBackend(env, tmp_path)
    try:
        backend.start()
        backend.wait_healthy(60)
        with httpx.Client(base_url=backend.url, timeout=30) as c:
            login = c.post("/api/v1/auth/login", data={"username": "admin", "password": PASSWORD})
            c.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            host = next(p for p in c.get("/api/v1/plugins").json() if p["type"] == "system")
            assert _wait_for_first_run(c, host["id"])["status"] == "success"
            # The catalog (names, config schemas) comes without importing any client library.
            types = {t["type"]: t for t in c.get("/api/v1/plugin-types").json()}
            assert (
                types["ssh"]["available"] and "host" in types["ssh"]["config_schema"]["properties"]
            )
            assert backend.loaded(HEAVY) == []

            # An http check against the server's own /health imports httpx when it first runs.
            body = {"name": "self", "type": "http", "config": {"url": f"{backend.url}/health"}}
            created = c.post("/api/v1/plugins", json=body | {"interval_seconds": 3600})
            assert created.status_code == 201, created.text
            run = c.post(f"/api/v1/plugins/{created.json()['id']}/run").json()
            assert run["status"] == "success", run
            assert backend.loaded(HEAVY) == ["httpx"]

            # A secret to keep: the secret box, and `cryptography` with it.
            body = {
                "name": "guarded",
                "type": "http",
                "enabled": False,
                "config": {"url": f"{backend.url}/health", "bearer_token": "s3cret-t0ken"},
            }
            created = c.post("/api/v1/plugins", json=body)
            assert created.status_code == 201, created.text
            assert backend.loaded(HEAVY) == ["cryptography", "httpx"]
    finally:
        backend.stop()
