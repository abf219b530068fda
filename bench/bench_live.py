"""Live values: how long from a run's values reaching Unity to 100 WebSocket clients having them.

Unity runs as `make run` starts it (`python -m app serve`, SQLite in a fresh temp DATA_DIR).
A push monitor stands in for the plugin run: `POST /api/v1/push/{token}` with one sample hands
the sample to the metrics writer inside the request, as a scheduled run hands its own at its
end. Each round stamps `time.monotonic()`, sends the push, and waits until every one of the
CLIENTS `/ws/metrics` connections (in this process) has the `metrics` event carrying it.

Two kinds of push alternate, in the same run:
- a known series (same name every round): published when the writer accepts it (this path);
- a new series (a fresh label every round): its id exists only once the writer has committed
  it, so it is published after the commit, which is when every event went before issue 18.
Beside them, the push request's own round trip (the floor of the figure).

    cd backend && .venv/bin/python ../bench/bench_live.py [--rounds 40] [--clients 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import _common
import httpx
import websockets

from tests.live import Backend, backend_env


class Clients:
    """CLIENTS sockets; `arrivals[key]` collects each socket's arrival time of a sample."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self.sockets: list[Any] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def connect(self, url: str, count: int) -> None:
        for _ in range(count):
            ws = await websockets.connect(url, max_queue=None)
            hello = json.loads(await ws.recv())
            assert hello["type"] == "hello", hello
            self.sockets.append(ws)
            self.tasks.append(asyncio.create_task(self._read(ws)))

    async def _read(self, ws: Any) -> None:
        async for message in ws:
            event = json.loads(message)
            if event.get("type") != "metrics":
                continue
            now = time.monotonic()
            for s in event["samples"]:
                if s["name"].startswith("bench_"):
                    key = f"{s['name']}:{s['labels'].get('n', '')}:{s['value']:g}"
                    self.arrivals.setdefault(key, []).append(now)

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        for ws in self.sockets:
            await ws.close()


async def run(args: argparse.Namespace) -> None:
    _common.header("live values")
    tmp = Path(tempfile.mkdtemp(prefix="unity-bench-live-"))
    env = backend_env(
        f"sqlite:///{tmp / 'homelab.db'}",
        push_rate_per_minute=100_000,
        push_rate_per_minute_ip=100_000,
        log_level="warning",
    )
    backend = Backend(env, tmp).start()
    clients = Clients()
    try:
        backend.wait_healthy(60)
        async with httpx.AsyncClient(base_url=backend.url, timeout=30) as c:
            body = {"username": "admin", "password": env["ADMIN_PASSWORD"]}
            token = (await c.post("/api/v1/auth/login", data=body)).json()["access_token"]
            c.headers["Authorization"] = f"Bearer {token}"
            plugin = {"name": "bench", "type": "push", "config": {}}
            pid = (await c.post("/api/v1/plugins", json=plugin)).json()["id"]
            push = (await c.get(f"/api/v1/plugins/{pid}/push-token")).json()["url_path"]
            ws_url = backend.url.replace("http", "ws") + f"/ws/metrics?token={token}"
            await clients.connect(ws_url, args.clients)
            # The known series exists from here on; the first push of it waits for its commit.
            await c.post(push, json=[{"name": "bench_known", "value": -1}])
            await asyncio.sleep(2)
            took: dict[str, list[float]] = {"known": [], "new": [], "request": []}
            for i in range(args.rounds):
                for kind in ("known", "new"):
                    sample: dict[str, Any] = {"name": f"bench_{kind}", "value": i}
                    if kind == "new":
                        sample["labels"] = {"n": str(i)}
                    key = f"bench_{kind}:{sample.get('labels', {}).get('n', '')}:{i:g}"
                    t0 = time.monotonic()
                    r = await c.post(push, json=[sample])
                    took["request"].append((time.monotonic() - t0) * 1000)
                    r.raise_for_status()
                    deadline = t0 + 10
                    while len(clients.arrivals.get(key, [])) < args.clients:
                        if time.monotonic() > deadline:
                            raise TimeoutError(
                                f"{key}: {len(clients.arrivals.get(key, []))} got it"
                            )
                        await asyncio.sleep(0.002)
                    took[kind] += [(t - t0) * 1000 for t in clients.arrivals[key]]
                    await asyncio.sleep(0.25)  # rounds apart: each is timed on its own
    finally:
        await clients.close()
        backend.stop()
    print(
        f"\nlive values, {args.clients} clients, {args.rounds} rounds of each kind; "
        f"load average {_common.loadavg()}"
    )
    rows = [
        ("known series: published when accepted", took["known"]),
        ("new series: published after the commit (as before)", took["new"]),
        ("the push request's round trip (floor)", took["request"]),
    ]
    for name, values in rows:
        print(
            f"  {name}: p50 {_common.pct(values, 50):.1f} ms, p99 {_common.pct(values, 99):.1f} ms"
            f" ({len(values)} deliveries)"
        )
    print(
        f"live: accepted p50 {_common.pct(took['known'], 50):.1f} ms p99 "
        f"{_common.pct(took['known'], 99):.1f} ms; after commit p50 "
        f"{_common.pct(took['new'], 50):.1f} ms p99 {_common.pct(took['new'], 99):.1f} ms; "
        f"push round trip p50 {_common.pct(took['request'], 50):.1f} ms "
        "(targets p50 <= 50 ms, p99 <= 150 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--clients", type=int, default=100)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
