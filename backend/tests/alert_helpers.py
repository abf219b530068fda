"""Helpers for alert tests: a loopback HTTP receiver for Apprise json:// URLs and a manual clock."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """A real HTTP server on 127.0.0.1 that records every JSON POST Apprise sends it.

    `fail_next` answers that many requests with 500 first (to exercise retries).
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_next = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with receiver._lock:
                    failing = receiver.fail_next > 0
                    if failing:
                        receiver.fail_next -= 1
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        body = {"raw": raw.decode(errors="replace")}
                    receiver.requests.append(
                        {"path": self.path, "body": body, "status": 500 if failing else 200}
                    )
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    @property
    def delivered(self) -> list[dict[str, Any]]:
        """Bodies of the requests that were answered 200."""
        with self._lock:
            return [r["body"] for r in self.requests if r["status"] == 200]


class FakeClock:
    """Time that only moves when a test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = (start or datetime.now(UTC)).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


async def set_health(state: Any, plugin_id: int, status: str) -> None:
    """Give a plugin this health as a run would (stored, then published), and let the alert
    engine take it in."""
    from app.models import PluginHealth
    from app.services.plugins.health import health_event

    async with state.db.session() as s:
        h = await s.get(PluginHealth, plugin_id)
        assert h is not None
        h.status = status
        h.consecutive_failures = 3 if status == "down" else 0
        await s.commit()
        await state.hub.publish(health_event(h))
    await state.alerts.idle()
