"""How soon each kind of request is answered while PostgreSQL refuses or goes silent (issue 25).

One `python -m app serve` on a fresh database reached through a loopback TCP proxy, with
4 `fault_seq` plugins at 1 s (the fault tests' plugin: one numbered sample per run). In each
state, healthy (the baseline), refused (the proxy resets and refuses) and silent (it accepts
and passes nothing), each route class is asked --rounds times, the first round right after
the cut: a read, a write, a login, `/health` and the `/ws/metrics` handshake. Each answer's
time and status are printed next to the healthy baseline and the bound: a JSON 503 within 3 s,
`/health` within 1 s. The first round's answer is shown on its own: a statement already in flight
when the database went silent waits for the 5 s request deadline, which answers the 503. Then
SIGTERM: the time to exit with the database silent, next to the time with it healthy, and the
samples produced against those stored.

    cd backend && .venv/bin/python ../bench/bench_outage.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import _common  # noqa: F401 - puts backend/ on sys.path
import httpx
from _common import bench_database, header, pct
from sqlalchemy.engine import make_url
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import PASSWORD
from tests.faults.conftest import (
    Api,
    TcpProxy,
    backend_env,
    install_faultkit,
    produced,
    seq_values,
    via,
    wait_until,
)
from tests.live import Backend

KINDS = ("read", "write", "login", "health", "ws")
BOUNDS = {"health": 1.0}  # the rest: a JSON 503 within 3 s
FIRST_BOUND = 5.5  # right after the cut: the 5 s request deadline, and a margin for its answer
PLUGINS = 4


def ask(api: Api, kind: str, healthy: bool) -> tuple[float, str]:
    """One request of this kind: (seconds to its answer, what the answer was)."""
    t0 = time.perf_counter()
    if kind == "ws":
        try:
            with connect(api.ws_url(), open_timeout=15) as ws:
                if healthy:
                    return time.perf_counter() - t0, "open"
                ws.recv(timeout=15)
                return time.perf_counter() - t0, "message"
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else "none"
            return time.perf_counter() - t0, f"close {code}"
        except (OSError, TimeoutError) as exc:
            return time.perf_counter() - t0, type(exc).__name__
    if kind == "read":
        r = api.http.get("/api/v1/plugins")
    elif kind == "write":
        body = {"name": f"w-{uuid.uuid4().hex[:8]}", "type": "fault_seq", "enabled": False}
        r = api.http.post("/api/v1/plugins", json=body)
    elif kind == "login":
        r = api.http.post("/api/v1/auth/login", data={"username": "admin", "password": PASSWORD})
    else:
        r = api.http.get("/health")
    took = time.perf_counter() - t0
    json_503 = r.status_code == 503 and r.headers.get("content-type") == "application/json"
    return took, "503 json" if json_503 else str(r.status_code)


def measure(api: Api, state: str, rounds: int) -> dict[str, list[tuple[float, str]]]:
    """Each kind asked `rounds` times from now on; for an outage, also when `/health` knew
    (polled every 0.1 s beside the rounds)."""
    seen: dict[str, list[tuple[float, str]]] = {k: [] for k in KINDS}
    t0 = time.perf_counter()
    knew: list[float] = []
    done = threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=api.backend.url, timeout=5) as http:
            while not done.wait(0.1):
                if http.get("/health").status_code == 503:
                    knew.append(time.perf_counter() - t0)
                    return

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    for _ in range(rounds):
        for kind in KINDS:
            seen[kind].append(ask(api, kind, state == "healthy"))
        time.sleep(0.5)
    if state != "healthy":
        poller.join(15)  # an outage: keep looking for a while after the rounds
    done.set()
    poller.join(10)
    if state != "healthy":
        when = f"{knew[0]:.1f} s after the cut" if knew else "not within 15 s of the rounds"
        print(f"{state}: /health said degraded {when}", flush=True)
    return seen


def report(results: dict[str, dict[str, list[tuple[float, str]]]]) -> None:
    """Per state and request kind: the answers, the first round's time (right after the cut),
    p50 and max of the later rounds, and the bound each met or missed."""
    print(
        f"{'state':<8} {'request':<7} {'answers':<18} {'first ms':>9} {'p50 ms':>7} "
        f"{'max ms':>7} {'healthy p50':>12}  bound"
    )
    base = {k: pct([t for t, _ in results["healthy"][k]], 50) for k in KINDS}
    for state, seen in results.items():
        for kind in KINDS:
            first, *later = [t for t, _ in seen[kind]]
            later = later or [first]
            answers = ", ".join(f"{a} x{n}" for a, n in Counter(a for _, a in seen[kind]).items())
            bound = BOUNDS.get(kind, 3.0)
            first_bound = bound if kind == "health" else FIRST_BOUND
            if state == "healthy":
                verdict = ""
            else:
                met = first <= first_bound and max(later) <= bound
                verdict = f"first ≤ {first_bound:g} s, then ≤ {bound:g} s: " + (
                    "met" if met else "MISSED"
                )
            print(
                f"{state:<8} {kind:<7} {answers:<18} {first * 1000:9.0f} "
                f"{pct(later, 50) * 1000:7.0f} {max(later) * 1000:7.0f} "
                f"{base[kind] * 1000:12.0f}  {verdict}"
            )


def sigterm(backend: Backend) -> float:
    """Seconds from SIGTERM to the process gone."""
    assert backend.proc is not None
    t0 = time.perf_counter()
    backend.proc.send_signal(signal.SIGTERM)
    backend.proc.wait(30)
    took = time.perf_counter() - t0
    backend.stop()
    return took


async def run(rounds: int) -> None:
    header("outage")
    work = Path(tempfile.mkdtemp(prefix="unity-bench-outage-"))
    site = install_faultkit(work / "site")
    async with bench_database("outage") as url:
        target = make_url(url)
        proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
        env = backend_env(via(proxy, url), site, shutdown_timeout_seconds=3)
        backend = Backend(env, work / "a").start()
        try:
            backend.wait_healthy()
            api = Api(backend)
            ids = [api.create("fault_seq", interval_seconds=1) for _ in range(PLUGINS)]
            wait_until(lambda: all(produced(work / "a", i) for i in ids), 15, "the plugins")
            results = {"healthy": measure(api, "healthy", rounds)}
            proxy.cut()
            results["refused"] = measure(api, "refused", rounds)
            proxy.restore()
            wait_until(lambda: api.health()[0] == 200, 60, "recovery after the refused outage")
            proxy.silence()
            results["silent"] = measure(api, "silent", rounds)
            report(results)
            silent_exit = sigterm(backend)
            said = re.search(r"stopped with (\d+) samples unwritten", backend.logs())
            proxy.restore()

            backend = Backend(env, work / "a").start()  # the same data: its runs go on
            backend.wait_healthy()
            await asyncio.sleep(2)
            healthy_exit = sigterm(backend)
            made = sum(len(produced(work / "a", i)) for i in ids)
            stored = sum([len(await seq_values(url, i)) for i in ids])
            print(
                f"SIGTERM: {silent_exit:.2f} s with the database silent "
                f"(SHUTDOWN_TIMEOUT_SECONDS=3), {healthy_exit:.2f} s with it healthy. Samples: "
                f"{made} produced, {stored} stored, {made - stored} missing; the log said "
                f"{said[1] if said else 0} unwritten at the silent stop"
            )
        finally:
            backend.stop()
            proxy.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.rounds))


if __name__ == "__main__":
    main()
