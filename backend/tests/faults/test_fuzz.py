"""Schemathesis over the app's OpenAPI schema, as an admin, against a live loopback server.

Every operation gets a bounded number of generated requests (valid and invalid); none may answer
5xx, and every answer must match the schema the operation declares for its status code.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings

from app.main import create_app
from tests.conftest import PASSWORD, make_settings
from tests.live import free_port

MAX_EXAMPLES = 20


class _Server:
    """The app under uvicorn on 127.0.0.1, in a thread with its own event loop."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()))
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data: Path = tmp_path_factory.mktemp("fuzz")
    app = create_app(
        make_settings(
            f"sqlite:///{data / 'fuzz.db'}",
            data,
            scheduler_enabled=False,  # manual runs still work; nothing fires on its own
            login_rate_per_minute_ip=10_000,
            login_rate_per_minute_user=10_000,
        )
    )
    server = _Server(app)
    try:
        r = httpx.post(
            server.url + "/api/v1/auth/setup", json={"username": "admin", "password": PASSWORD}
        )
        assert r.status_code == 201, r.text
        r = httpx.post(
            server.url + "/api/v1/auth/login", data={"username": "admin", "password": PASSWORD}
        )
        token = r.json()["access_token"]
        # A few objects so that operations on ids have something real to hit.
        h = {"Authorization": f"Bearer {token}"}
        httpx.post(
            server.url + "/api/v1/plugins",
            headers=h,
            json={"name": "port", "type": "tcp", "config": {"host": "127.0.0.1", "port": 9}},
        ).raise_for_status()
        yield {"url": server.url, "headers": h}
    finally:
        server.stop()


@pytest.mark.slow
def test_api_fuzz(live: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_url(live["url"] + "/openapi.json")
    checks = [
        schemathesis.checks.not_a_server_error,
        schemathesis.checks.response_schema_conformance,
    ]
    failures: list[str] = []
    tested = 0
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path.startswith("/api/v1/auth/setup") or op.path.endswith("/logout"):
            continue
        tested += 1
        failures += _fuzz(op, live, checks)
    print(f"\nfuzzed {tested} operations, up to {MAX_EXAMPLES} examples each")
    assert not failures, "\n\n".join(failures)


def _fuzz(op: Any, live: dict[str, Any], checks: list[Any]) -> list[str]:

    @given(case=op.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def fuzz(case: Any) -> None:
        params = case.path_parameters or {}
        if op.path.startswith("/api/v1/users") and str(params.get("user_id")) == "1":
            return  # never delete, disable or demote the admin the fuzzer runs as
        headers = {**(case.headers or {}), **live["headers"]}
        case.call_and_validate(headers=headers, checks=checks, timeout=30)

    try:
        fuzz()
    except (Exception, BaseExceptionGroup) as exc:
        return [f"{op.method.upper()} {op.path}: {str(exc)[:1500]}"]
    return []
