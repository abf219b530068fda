"""WebSocket fan-out: 500 clients on /ws/metrics of the real app next to a bare websockets server.

Both servers live in this process and this event loop, and get the same publisher: a metrics
event (10 samples, ~1 KB of JSON) every 1/RATE s on an absolute schedule, each stamped with
`time.monotonic()` just before it is handed over (`hub.publish` for the app, `websockets.broadcast`
of the same JSON for the bare server). Both processes run on uvloop when it is installed, as the
app's own `serve` does. The 500 clients are asyncio `websockets` connections in a
separate process (CLOCK_MONOTONIC is system-wide, so stamps compare across processes); each
records now - stamp for every event. Phases, in this order: app, bare, app + one stalled client,
bare + one stalled client, repeated BENCH_FANOUT_ROUNDS times; medians are reported. The
stalled client is a raw socket with SO_RCVBUF 4096 that completes
the handshake and never reads again.

Environment: BENCH_FANOUT_CLIENTS (500), BENCH_FANOUT_RATE (20 per s), BENCH_FANOUT_SECONDS (6).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

CLIENTS = int(os.environ.get("BENCH_FANOUT_CLIENTS", "500"))
RATE = float(os.environ.get("BENCH_FANOUT_RATE", "20"))
SECONDS = float(os.environ.get("BENCH_FANOUT_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_FANOUT_ROUNDS", "2"))
EVENTS = int(RATE * SECONDS)


# ------------------------------------------------------------------ the client process
async def _clients(url: str, n: int, expect_hello: bool, out: Any) -> None:
    from websockets.asyncio.client import connect

    lat: list[list[float]] = [[] for _ in range(n)]
    ready = asyncio.Semaphore(50)  # connect 50 at a time
    connected = asyncio.Event()
    count = 0

    async def one(i: int) -> None:
        nonlocal count
        async with ready:
            ws = await connect(url, open_timeout=60, max_queue=None, ping_interval=None)
            if expect_hello:
                json.loads(await ws.recv())
        count += 1
        if count == n:
            connected.set()
        mine = lat[i]
        async with ws:
            async for raw in ws:
                now = time.monotonic()
                if raw.startswith('{"sent":'):  # the stamp leads the JSON: no full parse needed
                    mine.append(now - float(raw[8 : raw.index(",", 8)]))
                elif json.loads(raw).get("stop"):
                    return

    tasks = [asyncio.create_task(one(i)) for i in range(n)]
    await asyncio.wait_for(connected.wait(), 120)
    out.put(("ready", count))
    await asyncio.wait_for(asyncio.gather(*tasks), 120)
    out.put(("done", lat))


def run(coro: Any) -> Any:
    """uvloop when installed, as `python -m app serve` (uvicorn's loop="auto") would use."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def client_process(url: str, n: int, expect_hello: bool, out: Any) -> None:
    run(_clients(url, n, expect_hello, out))


# ------------------------------------------------------------------ the server side
def stalled_client(host: str, path: str) -> socket.socket:
    """Completes the handshake, then never reads; a tiny receive buffer makes it push back."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    h, p = host.split(":")
    sock.connect((h, int(p)))
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)  # byte by byte: nothing after the handshake is read
    assert b" 101 " in head, head
    return sock


def event(i: int) -> dict[str, Any]:
    return {
        "type": "metrics",
        "plugin_id": 1,
        "ts": "2026-01-01T00:00:00Z",
        "seq": i,
        "samples": [
            {
                "series_id": k,
                "name": f"metric_{k}",
                "value": i * 0.5 + k,
                "unit": "%",
                "labels": {"host": "h1", "dev": f"d{k}"},
            }
            for k in range(10)
        ],
    }


async def run_phase(
    name: str, url: str, host: str, path: str, publish: Any, count: Any, stall: bool, hello: bool
) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    proc = ctx.Process(target=client_process, args=(url, CLIENTS, hello, q), daemon=True)
    proc.start()
    loop = asyncio.get_running_loop()
    stalled = None
    try:
        kind, connected = await loop.run_in_executor(None, q.get, True, 180)
        assert kind == "ready" and connected == CLIENTS
        if stall:
            stalled = await loop.run_in_executor(None, stalled_client, host, path)
        want = CLIENTS + (1 if stall else 0)
        deadline = time.monotonic() + 30
        while count() < want and time.monotonic() < deadline:  # noqa: ASYNC110 - server state
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        t0 = time.monotonic() + 0.1
        late = 0.0
        for i in range(EVENTS):
            delay = t0 + i / RATE - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                late = max(late, -delay)
            ev = {"sent": time.monotonic(), **event(i)}
            await publish(ev)
        await asyncio.sleep(0.5)
        await publish({"type": "metrics", "plugin_id": 1, "stop": True})
        kind, lat = await loop.run_in_executor(None, q.get, True, 120)
    finally:
        proc.join(30)
        if proc.is_alive():
            proc.kill()
        if stalled is not None:
            stalled.close()
    flat = [x * 1000 for per in lat for x in per]
    missing = EVENTS * CLIENTS - len(flat)
    out = {
        "name": name,
        "p50": _common.pct(flat, 50),
        "p99": _common.pct(flat, 99),
        "max": max(flat) if flat else float("nan"),
        "missing": missing,
        "publisher_late_ms": late * 1000,
    }
    print(
        f"   {name:22s} p50 {out['p50']:6.2f} ms  p99 {out['p99']:6.2f} ms  max "
        f"{out['max']:7.2f} ms  ({len(flat):,} deliveries, {missing} missing; publisher "
        f"at most {out['publisher_late_ms']:.0f} ms behind schedule); load {_common.loadavg()}",
        flush=True,
    )
    return out


async def main() -> None:
    _common.header("fanout")
    print(
        f"   {CLIENTS} clients, {RATE:g} events/s for {SECONDS:g} s ({EVENTS} events each)",
        flush=True,
    )
    import httpx
    from websockets.asyncio.server import broadcast, serve

    from app.main import create_app

    data = Path(tempfile.mkdtemp(prefix="unity-bench-"))
    settings = _common.make_settings(
        f"sqlite:///{data / 'fanout.db'}", data, scheduler_enabled=False
    )
    app = create_app(settings)
    conns: set[Any] = set()

    async def bare_handler(ws: Any) -> None:
        conns.add(ws)
        try:
            await ws.wait_closed()
        finally:
            conns.discard(ws)

    async def bare_publish(ev: dict[str, Any]) -> None:
        broadcast(conns, json.dumps(ev, separators=(",", ":")))

    results: dict[str, list[dict[str, Any]]] = {}
    async with (
        _common.serve_in_process(app) as host,
        serve(bare_handler, "127.0.0.1", 0, max_queue=None) as bare,
    ):
        async with httpx.AsyncClient(base_url=f"http://{host}") as c:
            account = {"username": "admin", "password": _common.PASSWORD}
            r = await c.post("/api/v1/auth/setup", json=account)
            assert r.status_code == 201, r.text
            token = (await c.post("/api/v1/auth/login", data=account)).json()["access_token"]
        hub = app.state.unity.hub
        bare_host = f"127.0.0.1:{bare.sockets[0].getsockname()[1]}"
        app_url = f"ws://{host}/ws/metrics?token={token}"
        app_path = f"/ws/metrics?token={token}"
        phases = [("app", False), ("bare", False), ("app", True), ("bare", True)] * ROUNDS
        for name, stall in phases:
            label = name + (" + stalled client" if stall else "")
            if name == "app":
                dropped = hub.dropped_clients
                results.setdefault(label, []).append(await run_phase(
                    label, app_url, host, app_path, hub.publish,
                    lambda: len(hub.clients), stall, True,
                ))  # fmt: skip
                if stall:
                    gone = hub.dropped_clients - dropped
                    print(f"   (the stalled app client was {'dropped' if gone else 'still open'})")
            else:
                results.setdefault(label, []).append(await run_phase(
                    label, f"ws://{bare_host}/", bare_host, "/", bare_publish,
                    lambda: len(conns), stall, False,
                ))  # fmt: skip
            await asyncio.sleep(1)  # let the closed sockets go away between phases
    med = {
        label: {k: _common.median([r[k] for r in runs]) for k in ("p50", "p99")}
        for label, runs in results.items()
    }
    for label, m in med.items():
        print(
            f"   median of {ROUNDS} rounds, {label:22s} p50 {m['p50']:6.2f} ms  "
            f"p99 {m['p99']:6.2f} ms"
        )
    a, b = med["app"], med["bare"]
    s, bs = med["app + stalled client"], med["bare + stalled client"]
    print(
        f"fanout: app p50 {a['p50']:.2f} ms p99 {a['p99']:.2f} ms, bare websockets p50 "
        f"{b['p50']:.2f} ms p99 {b['p99']:.2f} ms, ratio p50 {a['p50'] / b['p50']:.2f} "
        f"p99 {a['p99'] / b['p99']:.2f}; with one stalled client app p99 {s['p99']:.2f} ms "
        f"({s['p99'] / a['p99']:.2f}x), bare {bs['p99']:.2f} ms ({bs['p99'] / b['p99']:.2f}x)"
    )


if __name__ == "__main__":
    run(main())
