"""Uptime: GET /api/v1/uptime?window=365d for 1,000 plugins, next to the bare SQL it stands for.

A fresh PostgreSQL database gets 1,000 plugins and a year of daily roll-ups for each
(366,000 `uptime_daily` rows with their running totals, COPYed). The real app serves on a
loopback port (in-process uvicorn, the scheduler off so nothing else runs) and an admin token
comes from first-run setup + login.

Measured in the same loop, alternating which goes first so machine load hits both alike:
- the API: `GET /api/v1/uptime?window=365d` over HTTP/1.1 keep-alive (httpx), all 1,000
  plugins with up/down/maintenance/unknown seconds and the percentage, JSON out;
- the bare SQL: the rows the API reads (each plugin's running totals today and the day before
  the window, and its name) joined on a plain asyncpg connection (no ORM, no JSON): the floor;
- the bare SQL summing each plugin's 365 daily rows: what the running totals save.
The same is then done on SQLite (the embedded default), with the bare SQL through sqlite3.

Target (issue 19): the API's p50 < 50 ms. Environment: BENCH_UPTIME_PLUGINS (default 1000),
BENCH_UPTIME_DAYS (default 365), BENCH_UPTIME_CALLS (default 50).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common
import asyncpg
import httpx

from app.main import create_app

PLUGINS = int(os.environ.get("BENCH_UPTIME_PLUGINS", "1000"))
DAYS = int(os.environ.get("BENCH_UPTIME_DAYS", "365"))
CALLS = int(os.environ.get("BENCH_UPTIME_CALLS", "50"))
TARGET_MS = 50.0

# The floor for the API's reads: both days' running totals of every plugin, and the names.
BARE_SQL = """
SELECT p.id, p.name, e.cum_up_s - coalesce(s.cum_up_s, 0), e.cum_down_s - coalesce(s.cum_down_s, 0),
       e.cum_maintenance_s - coalesce(s.cum_maintenance_s, 0),
       e.cum_unknown_s - coalesce(s.cum_unknown_s, 0)
FROM plugins p JOIN uptime_daily e ON e.plugin_id = p.id AND e.day = {today}
LEFT JOIN uptime_daily s ON s.plugin_id = p.id AND s.day = {before}
ORDER BY p.id
"""
# What the running totals save: summing a year of daily rows per plugin.
SUM_SQL = """
SELECT p.id, p.name, coalesce(sum(d.up_s), 0), coalesce(sum(d.down_s), 0),
       coalesce(sum(d.maintenance_s), 0), coalesce(sum(d.unknown_s), 0)
FROM plugins p LEFT JOIN uptime_daily d ON d.plugin_id = p.id AND d.day > {before}
GROUP BY p.id, p.name ORDER BY p.id
"""


def rows(now: datetime) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    plugins = [(i, f"plugin-{i}", "tcp", now - timedelta(days=DAYS)) for i in range(1, PLUGINS + 1)]
    daily = []
    for pid in range(1, PLUGINS + 1):
        cum = [0.0, 0.0, 0.0, 0.0]
        for d in range(DAYS, -1, -1):  # the day before the window too, oldest first
            down = float((pid * 7 + d * 13) % 600)
            parts = (86400.0 - down - 60, down, 60.0, 0.0)
            cum = [c + x for c, x in zip(cum, parts, strict=True)]
            daily.append((pid, today - timedelta(days=d), *parts, *cum))
    return plugins, daily


COLUMNS = [
    "plugin_id", "day", "up_s", "down_s", "maintenance_s", "unknown_s",
    "cum_up_s", "cum_down_s", "cum_maintenance_s", "cum_unknown_s",
]  # fmt: skip


async def measure(*fns: Any) -> list[list[float]]:
    """Each function CALLS times, rotating which goes first; ms per call, per function."""
    out: list[list[float]] = [[] for _ in fns]
    for i in range(CALLS + 5):
        for j in range(len(fns)):
            k = (i + j) % len(fns)
            t0 = time.perf_counter()
            await fns[k]()
            if i >= 5:  # the first calls warm caches and prepared statements
                out[k].append((time.perf_counter() - t0) * 1000)
    return out


async def api_client(app: Any, host: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=f"http://{host}", timeout=30)
    body = {"username": "admin", "password": _common.PASSWORD}
    r = await client.post("/api/v1/auth/setup", json=body)
    r.raise_for_status()
    r = await client.post("/api/v1/auth/login", data=body)
    r.raise_for_status()
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client


def report(db: str, timings: list[list[float]], count: int) -> None:
    api_ms, sql_ms, sum_ms = timings
    print(f"{db}: {count} plugins x {DAYS} days, {CALLS} calls each")
    for label, ms in (
        ("API  GET /api/v1/uptime?window=365d", api_ms),
        ("bare SQL, the same two rows each   ", sql_ms),
        ("bare SQL, summing 365 rows each    ", sum_ms),
    ):
        p50, p99 = _common.pct(ms, 50), _common.pct(ms, 99)
        print(f"  {label}  p50 {p50:8.2f} ms   p99 {p99:8.2f} ms")
    p50, s50 = _common.pct(api_ms, 50), _common.pct(sql_ms, 50)
    verdict = "PASS" if p50 < TARGET_MS else "MISS"
    print(f"  {verdict}: API p50 {p50:.2f} ms (target < {TARGET_MS:.0f} ms), {p50 / s50:.1f}x SQL")


async def check(client: httpx.AsyncClient) -> int:
    r = await client.get("/api/v1/uptime", params={"window": "365d"})
    r.raise_for_status()
    items = r.json()["items"]
    assert len(items) == PLUGINS and items[0]["percent"] is not None, items[:1]
    return len(items)


async def postgres(now: datetime) -> None:
    plugins, daily = rows(now)
    async with _common.bench_database("uptime") as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.executemany(
                "INSERT INTO plugins (id, name, type, created_at, updated_at, config,"
                " interval_seconds, timeout_seconds, enabled) VALUES ($1, $2, $3, $4, $4, '{}',"
                " 60, 30, true)",
                plugins,
            )
            await conn.execute("SELECT setval('plugins_id_seq', $1)", PLUGINS)
            await conn.copy_records_to_table("uptime_daily", records=daily, columns=COLUMNS)
            await conn.execute(
                "INSERT INTO uptime_cursors (name, position, updated_at) VALUES ('runs', $1, $1)",
                now,
            )
            await conn.execute("VACUUM ANALYZE")
            today = now.replace(hour=0, minute=0, second=0, microsecond=0)
            before = today - timedelta(days=DAYS)
            stmt = await conn.prepare(BARE_SQL.format(today="$1", before="$2"))
            summed = await conn.prepare(SUM_SQL.format(before="$1"))

            async def bare() -> None:
                assert len(await stmt.fetch(today, before)) == PLUGINS

            async def bare_sum() -> None:
                assert len(await summed.fetch(before)) == PLUGINS

            with tempfile.TemporaryDirectory() as tmp:
                settings = _common.make_settings(dsn, Path(tmp), scheduler_enabled=False)
                app = create_app(settings)
                async with _common.serve_in_process(app) as host:
                    client = await api_client(app, host)
                    count = await check(client)

                    async def api() -> None:
                        r = await client.get("/api/v1/uptime", params={"window": "365d"})
                        assert r.status_code == 200

                    timings = await measure(api, bare, bare_sum)
                    await client.aclose()
            report("PostgreSQL", timings, count)
        finally:
            await conn.close()


def stamp(ts: datetime) -> str:
    """A UTC time as SQLAlchemy stores it in SQLite (naive, with microseconds)."""
    return ts.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


async def sqlite(now: datetime) -> None:
    plugins, daily = rows(now)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "homelab.db"
        settings = _common.make_settings(f"sqlite:///{path}", Path(tmp), scheduler_enabled=False)
        app = create_app(settings)
        async with _common.serve_in_process(app) as host:
            with sqlite3.connect(path) as con:
                naive = [(p[0], p[1], p[2], stamp(p[3])) for p in plugins]
                con.executemany(
                    "INSERT INTO plugins (id, name, type, created_at, updated_at, config,"
                    " interval_seconds, timeout_seconds, enabled) VALUES (?, ?, ?, ?, ?4, '{}',"
                    " 60, 30, 1)",
                    naive,
                )
                con.executemany(
                    "INSERT INTO uptime_daily VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(r[0], stamp(r[1]), *r[2:]) for r in daily],
                )
                con.execute(
                    "INSERT INTO uptime_cursors (name, position, updated_at) VALUES ('runs', ?, ?1)",
                    (stamp(now),),
                )
                con.execute("ANALYZE")
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            today, before = stamp(midnight), stamp(midnight - timedelta(days=DAYS))
            con = sqlite3.connect(path)

            async def bare() -> None:
                sql = BARE_SQL.format(today="?", before="?")
                assert len(con.execute(sql, (today, before)).fetchall()) == PLUGINS

            async def bare_sum() -> None:
                sql = SUM_SQL.format(before="?")
                assert len(con.execute(sql, (before,)).fetchall()) == PLUGINS

            client = await api_client(app, host)
            count = await check(client)

            async def api() -> None:
                r = await client.get("/api/v1/uptime", params={"window": "365d"})
                assert r.status_code == 200

            timings = await measure(api, bare, bare_sum)
            await client.aclose()
            con.close()
    report("SQLite", timings, count)


async def main() -> None:
    _common.header("uptime")
    now = datetime.now(UTC)
    await postgres(now)
    await sqlite(now)


if __name__ == "__main__":
    asyncio.run(main())
