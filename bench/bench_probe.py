"""Remote probe cost: a probe running N `tcp` checks for the hub, beside the hub running them itself.

One hub (`python -m app serve`, SQLite in a temp DATA_DIR) and one probe (`python -m app probe`,
plain http on loopback) as real processes; N `tcp` instances (10 s) against a loopback
listener in this process. Two windows of `--seconds` each, sampled together:
- probe: the N plugins assigned to the probe's location only; the probe runs them, spools and
  pushes them (gzip batches every 2 s) and the hub ingests them;
- baseline (same run): the same N plugins moved to the hub (`locations: ["hub"]`); the probe,
  now with nothing assigned, idles and heartbeats.
CPU seconds from /proc/PID/stat (utime + stime), RSS from /proc/PID/status at the window's end.

    cd backend && .venv/bin/python ../bench/bench_probe.py [--plugins 100] [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

BACKEND = Path(__file__).resolve().parents[1] / "backend"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def call(base: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)  # noqa: S310
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310  # nosec B310
        raw = r.read()
    return json.loads(raw) if raw else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def window(pids: dict[str, int], seconds: float) -> dict[str, tuple[float, float]]:
    before = {k: cpu_seconds(p) for k, p in pids.items()}
    time.sleep(seconds)
    return {k: ((cpu_seconds(p) - before[k]) / seconds * 100, rss_mb(p)) for k, p in pids.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--plugins", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    _common.header(f"bench_probe: {args.plugins} tcp checks at 10 s, {args.seconds:g} s windows")
    target = socket.socket()
    target.bind(("127.0.0.1", 0))
    target.listen(1024)
    tport = target.getsockname()[1]

    def accept() -> None:  # a real service answers: accept and close, so no backlog builds up
        while True:
            try:
                conn, _ = target.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    tmp = Path(tempfile.mkdtemp(prefix="bench-probe-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATA_DIR": str(tmp / "hub"), "LOG_LEVEL": "warning"}
    env.pop("DATABASE_URL", None)
    hub = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=BACKEND,
        env=env,
    )
    probe: subprocess.Popen[bytes] | None = None
    try:
        for _ in range(600):
            try:
                call(base, "GET", "/health")
                break
            except OSError:
                time.sleep(0.2)
        password = "bench-password-123456"
        call(base, "POST", "/api/v1/auth/setup", {"username": "admin", "password": password})
        login = urllib.request.Request(
            base + "/api/v1/auth/login",
            data=f"username=admin&password={password}".encode(),
            method="POST",
        )
        with urllib.request.urlopen(login, timeout=30) as r:  # noqa: S310  # nosec B310
            admin = json.loads(r.read())["access_token"]
        token = call(
            base, "POST", "/api/v1/tokens",
            {"name": "bench", "scope": "probe", "location": "bench"}, admin,
        )["token"]
        ids = [
            call(
                base, "POST", "/api/v1/plugins",
                {
                    "name": f"tcp {i}", "type": "tcp", "interval_seconds": 10,
                    "config": {"host": "127.0.0.1", "port": tport}, "locations": ["bench"],
                },
                admin,
            )["id"]
            for i in range(args.plugins)
        ]
        probe = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "app", "probe", "--hub", base, "--location", "bench",
             "--spool-dir", str(tmp / "spool")],
            cwd=BACKEND,
            env={**env, "DATA_DIR": str(tmp / "probe"), "PROBE_TOKEN": token},
        )
        time.sleep(15)  # it heartbeats, fetches its assignments and starts its loops
        pids = {"hub": hub.pid, "probe": probe.pid}
        remote = window(pids, args.seconds)
        (listing,) = call(base, "GET", "/api/v1/probes", token=admin)
        for pid in ids:
            call(base, "PATCH", f"/api/v1/plugins/{pid}", {"locations": ["hub"]}, admin)
        time.sleep(15)  # the probe notices (next heartbeat) and stops its loops
        local = window(pids, args.seconds)
        print(f"results delivered by the probe in the first window and before: "
              f"{listing['results_total']}, dropped {listing['dropped_total']}")
        print(f"{'window':<38} {'hub CPU %':>10} {'hub RSS MB':>11} {'probe CPU %':>12} "
              f"{'probe RSS MB':>13}")
        for name, w in (
            (f"{args.plugins} checks on the probe", remote),
            (f"baseline: {args.plugins} checks on the hub", local),
        ):
            print(f"{name:<38} {w['hub'][0]:>10.1f} {w['hub'][1]:>11.0f} "
                  f"{w['probe'][0]:>12.1f} {w['probe'][1]:>13.0f}")
    finally:
        for p in (probe, hub):
            if p is not None:
                p.terminate()
                p.wait(30)


if __name__ == "__main__":
    main()
