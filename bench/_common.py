"""Shared helpers for the benchmarks: paths, throw-away PostgreSQL databases, settings, stats.

Every bench script starts with `import _common` (this directory is on sys.path when a script
runs), which puts backend/ on sys.path so `import app` works from any working directory.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# UNITY_BENCH_BACKEND points the benchmarks at another checkout's backend (A/B experiments).
BACKEND = Path(os.environ.get("UNITY_BENCH_BACKEND", ROOT / "backend")).resolve()
if str(BACKEND) not in sys.path:
    sys.path.insert(0, str(BACKEND))

import asyncpg  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from tests.live import free_port, serve_in_process  # noqa: E402,F401 - shared with the tests

PG_ADMIN_URL = os.environ.get("UNITY_BENCH_PG", "postgresql://root@127.0.0.1:5432/postgres")
PASSWORD = "correct-horse-battery"  # noqa: S105 - a throw-away bench account


def pg_dsn(database: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


async def pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def bench_database(tag: str) -> AsyncIterator[str]:
    """A fresh database `unity_bench_<tag>_<hex>` migrated by Alembic; dropped afterwards."""
    from app.db.migrate import migrate
    from app.db.session import Database

    name = f"unity_bench_{tag}_{uuid.uuid4().hex[:8]}"
    await pg_admin(f'CREATE DATABASE "{name}"')
    try:
        db = Database(make_url(pg_dsn(name)).set(drivername="postgresql+asyncpg"))
        try:
            await migrate(db.engine)
        finally:
            await db.dispose()
        yield pg_dsn(name)
    finally:
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Any:
    from app.core.config import Settings

    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "encryption_key": Fernet.generate_key().decode(),
        "jwt_secret_key": "bench-jwt-secret-" + "x" * 40,
        "log_level": "warning",
        "create_default_plugin": False,
        "frontend_dist": data_dir / "no-dist",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank on the sorted values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} x {cpu}, Python {platform.python_version()}"


def header(name: str) -> None:
    print(f"== {name}: {machine()}; load average {loadavg()}", flush=True)
