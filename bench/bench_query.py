"""Query: GET /api/v1/metrics/query (24 h of one series, 500 points) next to the bare SQL.

10 million samples (1,000 series x 10,000 points, one every 17.28 s over the last 2 days) are
COPYed into the partitioned `samples` table of a fresh database. The real app then serves on a
loopback port (in-process uvicorn) and an admin token comes from first-run setup + login.

The bare SQL is not re-typed here: one API call is made with asyncpg's `Connection.fetch`
wrapped, which records the bucketing statement the service ran and its parameters; the
benchmark then runs exactly that statement through a plain asyncpg connection. For every call
i the API and the SQL read the same series, alternating which goes first, so machine load
(other work shares the 2 cores) hits both alike. The HTTP client is a minimal keep-alive
HTTP/1.1 client on the same loop, so the API figure is request-in to body-out plus loopback.
The loop is uvloop, as under `python -m app serve` (uvicorn's `loop="auto"` picks it).

Three more routes the benchmark adds to the app split the API's cost into parts, each measured
in the same loop as the rest:
- `/bench/http`, a plain Starlette route returning a fixed body: uvicorn, the middleware stack
  and routing, nothing else;
- `/bench/floor`, a FastAPI route that takes the same query parameters, runs the same statement
  on a dedicated asyncpg connection and encodes the points the same way, with no
  authentication, no pool and no lookups: the least a FastAPI route with this SQL costs;
- `/bench/starlette`, a plain Starlette route doing what the real route does (the sign-in cache,
  then `MetricsReader.query`) without FastAPI's parameter validation and dependency injection:
  what leaving FastAPI for this route would gain.

Issue 18's target 4 is printed as PASS/MISS lines: (a) the API within 1.5x of the bare FastAPI
route, (b) API p50 < 2 ms and p99 < 5 ms, (c) API p50 no slower than Prometheus: the same samples
are written as OpenMetrics, built into a TSDB by promtool and served by Debian's `prometheus` on a
loopback port (`_prometheus.py`); `query_range` of `avg_over_time(metric_N{n="N"}[<step>s])` at the
API's bucket step over the same 24 h is timed in the same loop, on its own keep-alive connection.
Prometheus gets the series the benchmark reads (BENCH_QUERY_PROM_SERIES=all writes every series;
promtool needs ~13 s per million samples here).

Two phases: raw only (before any roll-up: 24 h / 500 points reads ~5,000 raw rows), then after
a maintenance pass as production runs it every 5 minutes (the 1 m tier serves the range).

Environment: BENCH_QUERY_SERIES (default 1000), BENCH_QUERY_POINTS (default 10000 per series),
BENCH_QUERY_CALLS (default 50), BENCH_QUERY_PROM_SERIES (queried|all, default queried).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common
import _prometheus
import asyncpg
import httpx
import uvloop
from fastapi import APIRouter, Query, Request, Response
from pydantic import TypeAdapter
from sqlalchemy import text
from sqlalchemy.engine import make_url
from starlette.routing import Route

from app.db.session import Database
from app.main import create_app
from app.schemas.metrics import Point
from app.services.metrics.partitions import ensure_partitions

SERIES = int(os.environ.get("BENCH_QUERY_SERIES", "1000"))
POINTS = int(os.environ.get("BENCH_QUERY_POINTS", "10000"))
CALLS = int(os.environ.get("BENCH_QUERY_CALLS", "50"))
SPAN = timedelta(days=2)
SERIES_PER_COPY = 50
PROM_SERIES = os.environ.get("BENCH_QUERY_PROM_SERIES", "queried")


def queried(calls: int = CALLS) -> list[int]:
    return [1 + (i * 37) % SERIES for i in range(calls)]


def prom_series(now: datetime) -> Any:
    """The samples load() writes, as (name, labels, points) for Prometheus."""
    step, first = SPAN / POINTS, now - SPAN
    times = [(first + i * step).timestamp() for i in range(POINTS)]
    sids = range(1, SERIES + 1) if PROM_SERIES == "all" else sorted(set(queried()) | {1})
    for sid in sids:
        yield (
            f"metric_{sid}",
            {"n": str(sid)},
            [(ts, float((sid * 31 + i) % 1000)) for i, ts in enumerate(times)],
        )


async def add_series(apg: asyncpg.Connection, dsn: str, count: int, first: datetime) -> None:
    """`count` series metric_<id>{n="<id>"} under 10 plugins; partitions from `first` on."""
    await apg.execute(
        "INSERT INTO plugins (id, name, type, config, interval_seconds, timeout_seconds,"
        " enabled, created_at, updated_at) SELECT p, 'bench-' || p, 'system', '{}', 60, 5,"
        " false, now(), now() FROM generate_series(1, 10) p"
    )
    await apg.execute(
        "INSERT INTO series (id, plugin_id, name, unit, labels, labels_key) SELECT i,"
        " 1 + i % 10, 'metric_' || i, '%', json_build_object('n', i::text), 'n=' || i"
        " FROM generate_series(1, $1::int) i",
        count,
    )
    await apg.execute("SELECT setval('series_id_seq', $1)", count)
    db = Database(make_url(dsn).set(drivername="postgresql+asyncpg"))
    async with db.engine.connect() as conn:
        now = datetime.now(UTC)
        days = {(first + d * timedelta(days=1)).date() for d in range((now - first).days + 2)}
        await ensure_partitions(conn, days | {now.date()})
        await conn.commit()
    await db.dispose()


async def load(dsn: str, now: datetime) -> None:
    """1,000 series under 10 plugins, then 10 M rows by COPY (one transaction per 50 series)."""
    apg = await asyncpg.connect(dsn)
    try:
        step = SPAN / POINTS
        first = now - SPAN
        await add_series(apg, dsn, SERIES, first)
        times = [first + i * step for i in range(POINTS)]
        await apg.execute("SET synchronous_commit = off")
        t0 = time.perf_counter()
        for lo in range(1, SERIES + 1, SERIES_PER_COPY):
            sids = range(lo, min(lo + SERIES_PER_COPY, SERIES + 1))
            records = [
                (sid, ts, float((sid * 31 + i) % 1000))
                for sid in sids
                for i, ts in enumerate(times)
            ]
            async with apg.transaction():
                await apg.copy_records_to_table(
                    "samples", records=records, columns=["series_id", "ts", "value"]
                )
        n = await apg.fetchval("SELECT count(*) FROM samples")
        await apg.execute("ANALYZE samples")
        took = time.perf_counter() - t0
        print(f"   loaded {n:,} samples by COPY in {took:.1f} s ({n / took:,.0f}/s)", flush=True)
    finally:
        await apg.close()


FLOOR: dict[str, Any] = {}  # the statement /bench/floor runs, and its connection


def add_reference_routes(app: Any) -> None:
    """/bench/http, /bench/floor and /bench/starlette (see the module docstring)."""
    encode = TypeAdapter(list[Point]).dump_json
    router = APIRouter()

    @router.get("/bench/floor")
    async def floor(
        series_id: Annotated[list[int], Query()], start: datetime, end: datetime, points: int
    ) -> Response:
        args = list(FLOOR["params"])
        args[FLOOR["sid_index"]] = series_id[0]
        rows = await FLOOR["conn"].fetch(FLOOR["statement"], *args)
        return Response(encode([(b, v) for b, v in rows]), media_type="application/json")

    async def http(request: Request) -> Response:
        return Response(b"[]", media_type="application/json")

    async def starlette(request: Request) -> Response:
        state = request.app.state.unity
        token = request.headers["authorization"].removeprefix("Bearer ")
        if state.principals.get(token) is None:  # the real route would look the caller up
            return Response(status_code=401)
        q = request.query_params
        body = await state.reader.query(
            [int(sid) for sid in q.getlist("series_id")],
            datetime.fromisoformat(q["start"]),
            datetime.fromisoformat(q["end"]),
            int(q["points"]),
            "avg",
        )
        return Response(body, media_type="application/json")

    app.include_router(router)
    app.router.routes.insert(0, app.router.routes.pop())  # ahead of any catch-all
    app.router.routes.insert(0, Route("/bench/http", http))
    app.router.routes.insert(0, Route("/bench/starlette", starlette))


class HttpClient:
    """Just enough HTTP/1.1 (keep-alive, Content-Length bodies) to time a GET cheaply."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    async def connect(self) -> None:
        h, p = self.host.split(":")
        self.reader, self.writer = await asyncio.open_connection(h, int(p))

    async def get(self, path: str, token: str) -> tuple[int, bytes]:
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n"
            "Accept: application/json\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def admin_token(host: str) -> str:
    """First-run setup of an admin on the app at `host`, then its login token."""
    setup = HttpClient(host)
    await setup.connect()
    body = json.dumps({"username": "admin", "password": _common.PASSWORD})
    setup.writer.write(
        f"POST /api/v1/auth/setup HTTP/1.1\r\nHost: {host}\r\nContent-Type: "
        f"application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}".encode()
    )
    await setup.reader.readuntil(b"\r\n\r\n")
    setup.close()
    async with httpx.AsyncClient(base_url=f"http://{host}") as c:
        r = await c.post(
            "/api/v1/auth/login", data={"username": "admin", "password": _common.PASSWORD}
        )
        return str(r.json()["access_token"])


async def phase(
    name: str, host: str, token: str, dsn: str, now: datetime, prom: Any = None
) -> dict[str, Any]:
    start, end = now - timedelta(hours=24), now
    captured: list[tuple[str, Any]] = []
    fetch = asyncpg.Connection.fetch

    async def capture(conn: asyncpg.Connection, query: str, *args: Any, **kw: Any) -> Any:
        if "date_bin" in query:
            captured.append((query, args))
        return await fetch(conn, query, *args, **kw)

    def path(sid: int, route: str = "/api/v1/metrics/query") -> str:
        query = urlencode(
            {"series_id": sid, "start": start.isoformat(), "end": end.isoformat(), "points": 500}
        )
        return f"{route}?{query}"

    client = HttpClient(host)
    await client.connect()
    asyncpg.Connection.fetch = capture  # type: ignore[method-assign]
    try:
        status, body = await client.get(path(1), token)
    finally:
        asyncpg.Connection.fetch = fetch  # type: ignore[method-assign]
    assert status == 200, body
    result = json.loads(body)
    statement, params = captured[-1]
    sid_index = next(i for i, v in enumerate(params) if v == 1)
    apg = await asyncpg.connect(dsn)
    FLOOR.update(
        statement=statement, params=params, sid_index=sid_index, conn=await asyncpg.connect(dsn)
    )

    async def bare(sid: int) -> int:
        args = list(params)
        args[sid_index] = sid
        return len(await apg.fetch(statement, *args))

    step = result["bucket_seconds"]

    async def prometheus(sid: int) -> int:
        expr = f'avg_over_time(metric_{sid}{{n="{sid}"}}[{step}s])'
        return len((await prom.query_range(expr, start, end, step))[0]["values"])

    series_ids = queried()
    # What each figure requests; "sql" is the statement itself on a plain connection.
    routes: dict[str, Any] = {
        "api": path,
        "sql": None,
        **({"prom": None} if prom is not None else {}),
        "me": lambda sid: "/api/v1/auth/me",  # HTTP + sign-in, no metrics work
        "http": lambda sid: "/bench/http",
        "floor": lambda sid: path(sid, "/bench/floor"),
        "starlette": lambda sid: path(sid, "/bench/starlette"),
    }
    took: dict[str, list[float]] = {kind: [] for kind in routes}
    for i, sid in enumerate(series_ids[:5] + series_ids):  # the first five warm up
        for kind, route in routes.items() if i % 2 == 0 else reversed(routes.items()):
            t0 = time.perf_counter()
            if route is None:
                await (prometheus(sid) if kind == "prom" else bare(sid))
            else:
                status, body = await client.get(route(sid), token)
                assert status == 200, body
            if i >= 5:
                took[kind].append((time.perf_counter() - t0) * 1000)
    plan = await apg.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *params)
    await apg.close()
    await FLOOR["conn"].close()
    client.close()
    out = {
        "name": name,
        "resolution": result["resolution"],
        "bucket_seconds": result["bucket_seconds"],
        "points": len(result["series"][0]["points"]),
        **{f"{kind}_p50": _common.pct(values, 50) for kind, values in took.items()},
        "api_p99": _common.pct(took["api"], 99),
        "prom_p99": _common.pct(took.get("prom", []), 99),
        "sql_p99": _common.pct(took["sql"], 99),
        "plan": "\n".join("      " + r[0] for r in plan),
        "statement": statement,
    }
    sql = out["sql_p50"]
    print(
        f"   {name}: resolution {out['resolution']} ({out['bucket_seconds']} s buckets, "
        f"{out['points']} points); API p50 {out['api_p50']:.2f} ms p99 {out['api_p99']:.2f} ms; "
        f"bare SQL p50 {sql:.2f} ms p99 {out['sql_p99']:.2f} ms; "
        f"ratio {out['api_p50'] / sql:.2f}; load {_common.loadavg()}\n"
        f"      same loop, p50: GET /auth/me {out['me_p50']:.2f} ms; plain Starlette route, "
        f"fixed body {out['http_p50']:.2f} ms; bare FastAPI route with the same SQL "
        f"{out['floor_p50']:.2f} ms (ratio {out['floor_p50'] / sql:.2f}); the real work "
        f"(sign-in cache + MetricsReader) in a plain Starlette route {out['starlette_p50']:.2f} ms "
        f"(ratio {out['starlette_p50'] / sql:.2f})",
        flush=True,
    )
    if prom is not None:
        print(
            f"      Prometheus query_range (avg_over_time, {step} s step) p50 "
            f"{out['prom_p50']:.2f} ms p99 {out['prom_p99']:.2f} ms",
            flush=True,
        )
    return out


def target_lines(p: dict[str, Any]) -> list[str]:
    """Issue 18, target 4, for one phase: (a) vs the bare FastAPI route, (b) latency, (c) vs
    Prometheus."""

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    ratio = p["api_p50"] / p["floor_p50"]
    lines = [
        f"query target 4a [{p['name']}]: API p50 {p['api_p50']:.2f} ms / bare FastAPI route "
        f"{p['floor_p50']:.2f} ms = {ratio:.2f} (target <= 1.5) {verdict(ratio <= 1.5)}",
        f"query target 4b [{p['name']}]: API p50 {p['api_p50']:.2f} ms (< 2), p99 "
        f"{p['api_p99']:.2f} ms (< 5) {verdict(p['api_p50'] < 2 and p['api_p99'] < 5)}",
    ]
    if "prom_p50" in p:
        lines.append(
            f"query target 4c [{p['name']}]: API p50 {p['api_p50']:.2f} ms vs Prometheus "
            f"query_range p50 {p['prom_p50']:.2f} ms (target <=) "
            f"{verdict(p['api_p50'] <= p['prom_p50'])}"
        )
    else:
        lines.append(f"query target 4c [{p['name']}]: not measured (no prometheus/promtool)")
    return lines


async def main() -> None:
    _common.header("query")
    now = datetime.now(UTC).replace(microsecond=0)
    async with contextlib.AsyncExitStack() as stack:
        prom = None
        if _prometheus.available():
            workdir = Path(tempfile.mkdtemp(prefix="unity-bench-prom-"))
            stack.callback(shutil.rmtree, workdir, True)
            prom = _prometheus.Prometheus.from_series(prom_series(now), workdir)
            await stack.enter_async_context(prom)  # started now: it compacts during the load
            print(
                f"   Prometheus: {prom.samples:,} samples built into a TSDB in "
                f"{prom.build_seconds:.1f} s, {prom.size_bytes / 2**20:.1f} MB on disk",
                flush=True,
            )
        else:
            print("   Prometheus: /usr/bin/prometheus or promtool missing, target 4c skipped")
        await run(now, prom)


async def run(now: datetime, prom: Any) -> None:
    async with _common.bench_database("query") as dsn:
        await load(dsn, now)
        if prom is not None:
            blocks = await prom.settle()
            print(
                f"   Prometheus: {blocks} blocks loaded after its start-up compaction, "
                f"{prom.size_bytes / 2**20:.1f} MB on disk",
                flush=True,
            )
        url = make_url(dsn).set(drivername="postgresql+asyncpg")
        settings = _common.make_settings(
            url.render_as_string(hide_password=False),
            Path(tempfile.mkdtemp(prefix="unity-bench-")),
            # No scheduler: maintenance runs by hand below, never in the middle of a phase.
            scheduler_enabled=False,
        )
        app = create_app(settings)
        add_reference_routes(app)
        async with _common.serve_in_process(app) as host:
            token = await admin_token(host)
            raw = await phase("raw only", host, token, dsn, now, prom)
            t0 = time.perf_counter()
            report = await app.state.unity.maintenance.run()
            print(
                f"   maintenance pass: {time.perf_counter() - t0:.1f} s, "
                f"{report.get('rolled_1m')} 1 m rows, {report.get('rolled_1h')} 1 h rows",
                flush=True,
            )
            async with app.state.unity.db.engine.connect() as conn:
                await conn.execute(text("ANALYZE samples_1m"))
                await conn.execute(text("ANALYZE samples_1h"))
                await conn.commit()
            rolled = await phase("with roll-ups", host, token, dsn, now, prom)
    if os.environ.get("BENCH_VERBOSE"):
        for p in (raw, rolled):
            print(f"   {p['name']} statement: {p['statement']}\n{p['plan']}")
    ratio = rolled["api_p50"] / rolled["sql_p50"]
    raw_ratio = raw["api_p50"] / raw["sql_p50"]
    print(
        f"query: API p50 {rolled['api_p50']:.2f} ms (p99 {rolled['api_p99']:.2f}), bare SQL p50 "
        f"{rolled['sql_p50']:.2f} ms (p99 {rolled['sql_p99']:.2f}), ratio {ratio:.2f} "
        f"(target <= 1.5) with roll-ups [{rolled['resolution']}]; a bare FastAPI route running "
        f"the same SQL: ratio {rolled['floor_p50'] / rolled['sql_p50']:.2f}; the real work "
        f"outside FastAPI: ratio {rolled['starlette_p50'] / rolled['sql_p50']:.2f}; raw only: "
        f"API p50 {raw['api_p50']:.2f} ms, SQL p50 {raw['sql_p50']:.2f} ms, ratio {raw_ratio:.2f}"
    )
    for line in target_lines(rolled) + target_lines(raw):
        print(line)


if __name__ == "__main__":
    uvloop.run(main())
