"""WS /ws/metrics: authentication, Origin checks, subscriptions, ordering and slow clients."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.main import create_app
from app.plugins.base import Sample
from tests.conftest import PASSWORD, add_plugin, make_settings
from tests.live import serve_in_process


@pytest.fixture
async def live(tmp_path: Any) -> Any:
    """The app on a loopback port (SQLite is enough: the hub holds no database session)."""
    settings = make_settings(
        f"sqlite:///{tmp_path / 'ws.db'}",
        tmp_path,
        ws_queue_size=20,
        cors_origins=["https://dash.example"],
    )
    app = create_app(settings)
    async with serve_in_process(app) as host, httpx.AsyncClient(base_url=f"http://{host}") as c:
        await c.post("/api/v1/auth/setup", json={"username": "admin", "password": PASSWORD})
        r = await c.post("/api/v1/auth/login", data={"username": "admin", "password": PASSWORD})
        yield app, host, r.json()["access_token"], c


async def recv(ws: Any, timeout: float = 5) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout)))


async def recv_type(ws: Any, kind: str, timeout: float = 5) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        msg = await recv(ws, max(0.01, deadline - time.monotonic()))
        if msg["type"] == kind:
            return msg


@pytest.mark.parametrize("token", [None, "garbage", "unity_notarealtoken"])
async def test_unauthenticated_clients_are_closed_with_policy_violation(
    live: Any, token: Any
) -> None:
    _, host, _, _ = live
    url = f"ws://{host}/ws/metrics" + (f"?token={token}" if token else "")
    async with connect(url) as ws:
        if token is None:
            await ws.send(json.dumps({"type": "auth", "token": "wrong"}))
        with pytest.raises(ConnectionClosed) as info:
            await recv(ws)
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 1008
    assert info.value.rcvd.reason


async def test_token_in_query_or_first_message_is_accepted(live: Any) -> None:
    _, host, token, _ = live
    async with connect(f"ws://{host}/ws/metrics?token={token}") as ws:
        assert (await recv(ws))["type"] == "hello"
    async with connect(f"ws://{host}/ws/metrics") as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        hello = await recv(ws)
        assert hello == {"type": "hello", "user": "admin", "subscribed": "all"}


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("https://evil.example", False), ("https://dash.example", True), (None, True)],
)
async def test_origin_is_checked(live: Any, origin: str | None, allowed: bool) -> None:
    _, host, token, _ = live
    headers = {"Origin": origin} if origin else {}
    async with connect(
        f"ws://{host}/ws/metrics?token={token}", additional_headers=headers, origin=None
    ) as ws:
        if allowed:
            assert (await recv(ws))["type"] == "hello"
        else:
            with pytest.raises(ConnectionClosed) as info:
                await recv(ws)
            assert info.value.rcvd is not None and info.value.rcvd.code == 1008
            assert "origin" in info.value.rcvd.reason


async def test_same_origin_browser_is_allowed(live: Any) -> None:
    _, host, token, _ = live
    async with connect(
        f"ws://{host}/ws/metrics?token={token}", additional_headers={"Origin": f"http://{host}"}
    ) as ws:
        assert (await recv(ws))["type"] == "hello"


async def test_subscriptions_filter_and_events_arrive_in_order(live: Any) -> None:
    app, host, token, _ = live
    hub = app.state.unity.hub
    async with connect(f"ws://{host}/ws/metrics?token={token}") as ws:
        await recv(ws)
        await ws.send(json.dumps({"type": "subscribe", "plugins": [2]}))
        assert await recv(ws) == {"type": "subscribed", "plugins": [2]}
        for i in range(30):
            await hub.publish({"type": "run", "plugin_id": 1 + i % 2, "run": {"seq": i}})
        got = [await recv(ws) for _ in range(15)]
        assert {m["plugin_id"] for m in got} == {2}
        assert [m["run"]["seq"] for m in got] == list(range(1, 30, 2))
        await ws.send(json.dumps({"type": "subscribe", "plugins": "nope"}))
        assert (await recv(ws))["type"] == "error"
        await ws.send(json.dumps({"type": "subscribe", "plugins": "all"}))
        assert (await recv(ws))["plugins"] == "all"
        await hub.publish({"type": "run", "plugin_id": 1, "run": {"seq": 99}})
        assert (await recv(ws))["run"]["seq"] == 99


async def test_a_plugin_run_reaches_clients_after_commit(live: Any, listener: int) -> None:
    _app, host, token, c = live
    h = {"Authorization": f"Bearer {token}"}
    r = await c.post(
        "/api/v1/plugins",
        headers=h,
        json={
            "name": "port",
            "type": "tcp",
            "interval_seconds": 3600,
            "config": {"host": "127.0.0.1", "port": listener},
        },
    )
    pid = r.json()["id"]
    async with connect(f"ws://{host}/ws/metrics?token={token}") as ws:
        await recv(ws)
        await c.post(f"/api/v1/plugins/{pid}/run", headers=h)
        got: dict[str, dict[str, Any]] = {}
        while len(got) < 3:
            msg = await recv(ws)
            if msg["type"] in ("run", "health", "metrics"):
                got.setdefault(msg["type"], msg)
        run, health, metrics = got["run"], got["health"], got["metrics"]
        assert run["plugin_id"] == pid and run["run"]["status"] == "success"
        assert health["health"]["status"] == "healthy"
        names = {s["name"] for s in metrics["samples"]}
        assert {"up", "tcp_connect_time"} <= names
        # committed: the same series is readable through the API right now
        latest = (await c.get("/api/v1/metrics/latest", headers=h)).json()["items"]
        assert {s["series_id"] for s in metrics["samples"]} <= {i["series_id"] for i in latest}


async def test_a_stalled_client_is_dropped_and_others_keep_receiving_on_time(live: Any) -> None:
    app, host, token, _ = live
    hub = app.state.unity.hub
    # The stalled client completes the handshake, then never reads again; a small receive
    # buffer (no autotuning) makes the kernel push back after a few kilobytes.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    h, p = host.split(":")
    sock.connect((h, int(p)))
    sock.setblocking(False)
    reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
    writer.write(
        f"GET /ws/metrics?token={token} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    assert b" 101 " in await reader.readuntil(b"\r\n\r\n")
    async with connect(f"ws://{host}/ws/metrics?token={token}") as healthy:
        await recv(healthy)
        while len(hub.clients) < 2:
            await asyncio.sleep(0.01)
        payload = "x" * 100_000  # enough to fill the socket buffers of a client that never reads
        delays = []
        for i in range(300):
            sent = time.perf_counter()
            await hub.publish({"type": "run", "plugin_id": 1, "run": {"seq": i, "pad": payload}})
            msg = await recv_type(healthy, "run")
            delays.append(time.perf_counter() - sent)
            assert msg["run"]["seq"] == i
        assert hub.dropped_clients == 1
        assert len(hub.clients) == 1
        assert max(delays) < 0.5, f"healthy client slowed down: max {max(delays):.3f}s"
    writer.transport.abort()


def test_ws_listed_in_docs_protocol() -> None:
    """The protocol reference exists for people writing their own clients."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "RUN4_API_LAYER.md").read_text()
    for word in ("/ws/metrics", "subscribe", "1008", "1013", "metrics", "health", "run"):
        assert word in doc


async def test_writer_events_carry_series_ids(live: Any) -> None:
    app, host, token, _c = live
    state = app.state.unity
    plugin_id = await add_plugin(state.db, "x", timeout_seconds=5, enabled=False)
    async with connect(f"ws://{host}/ws/metrics?token={token}") as ws:
        await recv(ws)
        from datetime import UTC, datetime

        state.writer.submit(plugin_id, datetime.now(UTC), [Sample("a", 1.5, "V", {"k": "v"})])
        msg = await recv_type(ws, "metrics")
        assert msg["plugin_id"] == plugin_id
        assert msg["samples"][0]["value"] == 1.5
        assert msg["samples"][0]["labels"] == {"k": "v"}
        assert isinstance(msg["samples"][0]["series_id"], int)
        assert msg["ts"].endswith("Z")
