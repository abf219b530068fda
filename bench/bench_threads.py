"""Per-thread CPU and context switches of Unity at 1 s host sampling, A/B beside the floor.

Starts the floor (`_floor_app.py`) and one Unity per `--backend` directory (as `make run` does:
`python -m app serve`, SQLite default, fresh DATA_DIR), all at once; puts each Unity's host
plugin at 1 s with `top_processes: 0` (the floor's values) and the floor at 1 s; then, over
one `--seconds` window for all of them together, reads every thread's utime + stime and
voluntary + involuntary context switches from /proc/PID/task/TID/{stat,status}, and, when
`perf` is installed and allowed, `perf stat --per-thread -e task-clock,context-switches`.

    cd backend && .venv/bin/python ../bench/bench_threads.py --seconds 40 \\
        --backend /tmp/base/backend --backend .
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import _common
from bench_footprint import CLK_TCK, Floor, first_run, host_plugin, say, set_config, set_timing

from tests.live import stop_process


def start_unity(backend: Path, data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _common.free_port()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env |= {"PYTHONPATH": str(backend), "DATA_DIR": str(data), "LOG_LEVEL": "info"}
    env["CANARY_TARGETS"] = ""
    data.mkdir(parents=True)
    log = (data / "backend.log").open("wb")
    proc = subprocess.Popen(  # noqa: S603 - our own backend
        [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=backend,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return proc, f"http://127.0.0.1:{port}"


def threads(pid: int) -> dict[str, tuple[float, int, int]]:
    """name#tid -> (CPU seconds, voluntary, involuntary context switches)."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            head, _, rest = (task / "stat").read_text().rpartition(")")
            name = head.partition("(")[2]
            f = rest.split()
            cpu = (int(f[11]) + int(f[12])) / CLK_TCK
            status = dict(
                line.split(":\t", 1) for line in (task / "status").read_text().splitlines()
            )
            out[f"{name}#{task.name}"] = (
                cpu,
                int(status["voluntary_ctxt_switches"]),
                int(status["nonvoluntary_ctxt_switches"]),
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--settle", type=float, default=10)
    args = parser.parse_args()
    _common.header("threads")
    tmp = Path(tempfile.mkdtemp(prefix="unity-bench-threads-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, tmp, True)
        floor = Floor(tmp, 1)
        stack.callback(floor.stop)
        pids = {"floor": floor.proc.pid}
        for i, backend in enumerate(args.backend):
            proc, url = start_unity(backend.resolve(), tmp / f"u{i}")
            stack.callback(stop_process, proc)
            deadline = time.monotonic() + 90
            while True:
                with contextlib.suppress(Exception):
                    c = first_run(url)
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(url)
                time.sleep(0.5)
            stack.callback(c.close)
            host = host_plugin(c)
            set_timing(c, host["id"], 1, 1)
            set_config(c, host, top_processes=0)
            pids[f"unity:{backend}"] = proc.pid
        floor.wait_ready()
        time.sleep(args.settle)
        say(f"window {args.seconds:.0f} s, all at 1 s")
        perf = None
        if perf_exe := shutil.which("perf"):
            targets = ",".join(str(p) for p in pids.values())
            events = "task-clock,context-switches"
            perf = subprocess.Popen(  # noqa: S603
                [
                    perf_exe,
                    "stat",
                    "--per-thread",
                    "-e",
                    events,
                    "-p",
                    targets,
                    "--",
                    "sleep",
                    str(args.seconds),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        before = {name: threads(pid) for name, pid in pids.items()}
        t0 = time.monotonic()
        time.sleep(args.seconds)
        took = time.monotonic() - t0
        after = {name: threads(pid) for name, pid in pids.items()}
        for name in pids:
            print(f"\n{name}: per second of wall time ({took:.1f} s window, /proc)")
            total: dict[str, float] = defaultdict(float)
            for key, (cpu, vol, inv) in sorted(after[name].items()):
                b = before[name].get(key, (0.0, 0, 0))
                d = ((cpu - b[0]) / took * 1000, (vol - b[1]) / took, (inv - b[2]) / took)
                total["cpu"] += d[0]
                total["cs"] += d[1] + d[2]
                print(f"  {key:28} {d[0]:7.2f} ms CPU  {d[1]:6.1f} vol + {d[2]:5.1f} invol cs")
            print(f"  {'total':28} {total['cpu']:7.2f} ms CPU  {total['cs']:6.1f} cs")
        if perf is not None:
            _, err = perf.communicate(timeout=args.seconds + 30)
            print("\nperf stat --per-thread (whole window):")
            lines = [ln for ln in err.splitlines() if "task-clock" in ln or "context-sw" in ln]
            print("\n".join(lines) if lines else err[-2000:])
        print("\npids: " + ", ".join(f"{n}={p}" for n, p in pids.items()))


if __name__ == "__main__":
    main()
