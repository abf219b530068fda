"""The served process's uvicorn Server: a 1 s housekeeping tick that a stop request cuts short."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import httpx
import uvicorn

from app.server import TICK_SECONDS, Server
from tests.live import free_port


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"  # nosec B101
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_serves_with_a_date_header_and_stops_without_waiting_for_the_tick() -> None:
    port = free_port()
    server = Server(uvicorn.Config(hello, host="127.0.0.1", port=port, log_config=None))
    # On a thread of its own, as the signal handler sees it: the call comes from outside the
    # loop (uvicorn installs no signal handlers off the main thread, so none is re-raised here).
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        r = httpx.get(f"http://127.0.0.1:{port}/")
        assert r.text == "ok"
        assert r.headers["date"].endswith(" GMT")  # refreshed by the tick, as uvicorn's is

        time.sleep(0.1)  # the main loop is now asleep in its tick
        t = time.monotonic()
        server.handle_exit(signal.SIGTERM, None)
        thread.join(5)
        # Without the wake-up this would take up to a whole tick.
        assert time.monotonic() - t < TICK_SECONDS * 0.8
    finally:
        server.should_exit = True
        thread.join(5)
    assert not thread.is_alive()
