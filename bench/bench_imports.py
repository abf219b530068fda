"""Where idle memory goes: RSS growth as the server's imports load, one step at a time (issue 18).

Each step is imported into this one fresh interpreter in order, so a step's figure is what it
adds on top of the steps before it. The last row before Unity's own modules is the stack the
architecture names (FastAPI, SQLAlchemy's async engine, APScheduler) with nothing of Unity's.

    cd backend && .venv/bin/python ../bench/bench_imports.py
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[1] / "backend"
sys.path.insert(0, str(BACKEND))

STEPS: list[tuple[str, list[str]]] = [
    ("ssl, asyncio", ["ssl", "asyncio"]),
    ("pydantic", ["pydantic"]),
    ("starlette, FastAPI", ["starlette.applications", "fastapi"]),
    ("uvicorn", ["uvicorn"]),
    ("psutil (the bare FastAPI + psutil floor)", ["psutil"]),
    ("SQLAlchemy core + async ORM", ["sqlalchemy", "sqlalchemy.ext.asyncio"]),
    (
        "aiosqlite, its dialect, APScheduler (the mandated stack)",
        ["aiosqlite", "sqlalchemy.dialects.sqlite.aiosqlite", "apscheduler.schedulers.asyncio"],
    ),
    ("Unity: settings, models", ["app.core.config", "app.models"]),
    (
        "Unity: metrics writer, plugin scheduler",
        ["app.services.metrics.writer", "app.services.plugins.scheduler"],
    ),
    ("Unity: routes, schemas, app factory", ["app.api.plugins", "app.main"]),
]


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]}")
    total = rss_mb()
    print(f"{'the interpreter':58s} {'':>8s} {total:7.1f} MB")
    for name, modules in STEPS:
        for module in modules:
            importlib.import_module(module)
        gc.collect()
        now = rss_mb()
        print(f"{name:58s} {now - total:+7.1f} MB {now:7.1f} MB")
        total = now
    print(f"{len(sys.modules)} modules loaded")


if __name__ == "__main__":
    main()
