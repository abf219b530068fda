"""Uptime roll-ups: run history and maintenance folded into hourly and daily state durations.

Each run stands for its plugin's state from its start until the next run starts: up for a
success, down for an error or timeout. A run covers at most two intervals; after that, and
before a plugin's first run, the time is unknown ("no data": Unity was not running or not
checking), and so is the time the connectivity canary was down (Unity's own network was out,
so a failed check proves nothing). Maintenance windows override all three. A cursor records how
far run history has been folded; each pass adds the durations of [cursor, now - SETTLE) to the
hourly and daily rows, so a 365-day figure for every plugin is a sum over at most 365 rows each.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased

from app.db.session import Database
from app.models import PluginInstance, PluginRun, UptimeCursor, UptimeDaily, UptimeHourly
from app.models.enums import RunStatus
from app.services.alerts import maintenance, network

log = logging.getLogger(__name__)

CURSOR = "runs"
SETTLE = timedelta(seconds=90)  # runs still being recorded are not folded yet
CHUNK = timedelta(hours=6)  # one transaction folds at most this much (backfill after a pause)
MAX_PASSES = 200  # per tick: 50 days of backfill, then the next tick goes on
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
KINDS = ("up", "down", "maintenance", "unknown")
STATE_OF_RUN: dict[str, str] = {
    RunStatus.SUCCESS: "up",
    RunStatus.ERROR: "down",
    RunStatus.TIMEOUT: "down",
}

Segment = tuple[datetime, datetime, str]


def floor_hour(ts: datetime) -> datetime:
    return ts.replace(minute=0, second=0, microsecond=0)


def floor_day(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class Durations:
    up_s: float = 0.0
    down_s: float = 0.0
    maintenance_s: float = 0.0
    unknown_s: float = 0.0

    def add(self, kind: str, seconds: float) -> None:
        setattr(self, f"{kind}_s", getattr(self, f"{kind}_s") + seconds)

    def merge(self, other: Durations) -> None:
        for kind in KINDS:
            self.add(kind, getattr(other, f"{kind}_s"))

    @property
    def percent(self) -> float | None:
        """Time up ÷ time observed up or down; None when nothing was observed."""
        seen = self.up_s + self.down_s
        return round(100.0 * self.up_s / seen, 4) if seen > 0 else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "up_s": round(self.up_s, 3),
            "down_s": round(self.down_s, 3),
            "maintenance_s": round(self.maintenance_s, 3),
            "unknown_s": round(self.unknown_s, 3),
            "percent": self.percent,
        }


def timeline(
    runs: list[tuple[datetime, str]], lo: datetime, hi: datetime, max_gap: timedelta
) -> list[Segment]:
    """Segments covering [lo, hi): each run's state until the next run (at most max_gap)."""
    out: list[Segment] = []
    cur = lo
    for i, (start, status) in enumerate(runs):
        end = runs[i + 1][0] if i + 1 < len(runs) else hi
        s, e = max(start, cur), min(end, start + max_gap, hi)
        if s >= hi:
            break
        if s > cur:
            out.append((cur, s, "unknown"))
            cur = s
        if e > s:
            out.append((s, e, STATE_OF_RUN.get(status, "unknown")))
            cur = e
    if cur < hi:
        out.append((cur, hi, "unknown"))
    return out


def _merged(spans: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def with_maintenance(
    segments: list[Segment], spans: Iterable[tuple[datetime, datetime]]
) -> list[Segment]:
    """The same time, with every part inside a maintenance span relabelled maintenance."""
    return relabel(segments, spans, "maintenance")


def relabel(
    segments: list[Segment], spans: Iterable[tuple[datetime, datetime]], label: str
) -> list[Segment]:
    """The same time, with every part inside one of the spans relabelled `label`."""
    merged = _merged(spans)
    if not merged:
        return segments
    out: list[Segment] = []
    for s, e, state in segments:
        cur = s
        for ms, me in merged:
            if me <= cur or ms >= e:
                continue
            if ms > cur:
                out.append((cur, ms, state))
            out.append((max(ms, cur), min(me, e), label))
            cur = min(me, e)
        if cur < e:
            out.append((cur, e, state))
    return out


def by_bucket(
    segments: list[Segment], floor: Callable[[datetime], datetime], step: timedelta
) -> dict[datetime, Durations]:
    out: dict[datetime, Durations] = {}
    for s, e, state in segments:
        cur = s
        while cur < e:
            bucket = floor(cur)
            nxt = min(e, bucket + step)
            out.setdefault(bucket, Durations()).add(state, (nxt - cur).total_seconds())
            cur = nxt
    return out


def fold_plugin(
    runs: list[tuple[datetime, str]],
    lo: datetime,
    hi: datetime,
    interval_seconds: int,
    spans: Iterable[tuple[datetime, datetime]] = (),
    offline: Iterable[tuple[datetime, datetime]] = (),
) -> list[Segment]:
    """One plugin's labelled time in [lo, hi). While Unity's own network was down (`offline`,
    the canary's outages) a check's result says nothing about it: that time is unknown.
    Planned maintenance wins over both."""
    max_gap = timedelta(seconds=2 * max(interval_seconds, 1))
    return with_maintenance(relabel(timeline(runs, lo, hi, max_gap), offline, "unknown"), spans)


class UptimeRollup:
    """The scheduled job (leader only) that folds run history into the uptime tables."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock
        ins = sqlite_insert if db.is_sqlite else pg_insert
        self._upserts: dict[type, Any] = {}
        for model, key in ((UptimeHourly, "hour"), (UptimeDaily, "day")):
            stmt = ins(model)
            table = model.__table__
            add = {f"{k}_s": table.c[f"{k}_s"] + getattr(stmt.excluded, f"{k}_s") for k in KINDS}
            if model is UptimeDaily:  # the running totals grow by the same increment
                for k in KINDS:
                    add[f"cum_{k}_s"] = table.c[f"cum_{k}_s"] + getattr(stmt.excluded, f"{k}_s")
            self._upserts[model] = stmt.on_conflict_do_update(
                index_elements=["plugin_id", key], set_=add
            )

    async def run(self) -> None:
        try:
            for _ in range(MAX_PASSES):
                if not await self.step():
                    return
        except Exception as exc:  # the next tick tries again from the same cursor
            log.warning("uptime roll-up failed: %s", exc)

    async def step(self) -> bool:
        """Fold one chunk; True when there is more to fold."""
        limit = self.clock() - SETTLE
        async with self.db.session() as session:
            cursor = await session.get(UptimeCursor, CURSOR)
            if cursor is None:
                first = await session.scalar(select(func.min(PluginRun.started_at)))
                start = floor_hour(first) if first is not None else limit
                cursor = UptimeCursor(name=CURSOR, position=min(start, limit))
                session.add(cursor)
            lo = cursor.position
            hi = min(limit, lo + CHUNK)
            if hi <= lo:
                await session.commit()
                return False
            hourly, daily = await self._fold(session, lo, hi)
            for model, rows in ((UptimeHourly, hourly), (UptimeDaily, daily)):
                for i in range(0, len(rows), 1000):
                    await session.execute(self._upserts[model], rows[i : i + 1000])
            cursor.position = hi
            await session.commit()
        return hi < limit

    async def _fold(
        self, session: Any, lo: datetime, hi: datetime
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        before = aliased(PluginRun)
        last_start = (
            select(before.started_at)
            .where(before.plugin_id == PluginInstance.id, before.started_at < lo)
            .order_by(before.started_at.desc())
            .limit(1)
            .scalar_subquery()
        )
        last_status = (
            select(before.status)
            .where(before.plugin_id == PluginInstance.id, before.started_at < lo)
            .order_by(before.started_at.desc())
            .limit(1)
            .scalar_subquery()
        )
        plugins = (
            await session.execute(
                select(
                    PluginInstance.id,
                    PluginInstance.interval_seconds,
                    PluginInstance.created_at,
                    last_start,
                    last_status,
                )
            )
        ).all()
        runs: dict[int, list[tuple[datetime, str]]] = {}
        for pid, start, status in await session.execute(
            select(PluginRun.plugin_id, PluginRun.started_at, PluginRun.status)
            .where(PluginRun.started_at >= lo, PluginRun.started_at < hi)
            .order_by(PluginRun.plugin_id, PluginRun.started_at)
        ):
            runs.setdefault(pid, []).append((start, status))
        windows = await maintenance.windows_between(session, lo, hi)
        spans = maintenance.by_plugin(windows, [p[0] for p in plugins], lo, hi)
        offline = await network.outages_between(session, lo, hi)
        hourly: list[dict[str, Any]] = []
        daily: dict[tuple[int, datetime], Durations] = {}
        for pid, interval, created, prev_start, prev_status in plugins:
            start = max(lo, created)
            if start >= hi:
                continue
            history = runs.get(pid, [])
            if prev_start is not None:
                history = [(prev_start, prev_status), *history]
            segments = fold_plugin(history, start, hi, interval, spans.get(pid, ()), offline)
            for hour, d in by_bucket(segments, floor_hour, HOUR).items():
                hourly.append({"plugin_id": pid, "hour": hour, **_cols(d)})
                daily.setdefault((pid, floor_day(hour)), Durations()).merge(d)
        return hourly, await self._with_totals(session, lo, plugins, daily)

    async def _with_totals(
        self,
        session: Any,
        lo: datetime,
        plugins: list[Any],
        daily: dict[tuple[int, datetime], Durations],
    ) -> list[dict[str, Any]]:
        """Daily rows with their running totals, from each plugin's latest row before them.

        The cursor only moves forward, so a plugin's latest row is on lo's day or the day
        before (older only if it had no time folded since; then it is looked up alone).
        """
        recent = floor_day(lo) - DAY
        latest: dict[int, UptimeDaily] = {}
        for row in await session.scalars(
            select(UptimeDaily).where(UptimeDaily.day >= recent).order_by(UptimeDaily.day)
        ):
            latest[row.plugin_id] = row
        created = {p[0]: p[2] for p in plugins}
        base: dict[int, Durations] = {}
        out = []
        for (pid, day), d in sorted(daily.items()):
            if pid not in base:
                row = latest.get(pid)
                if row is None and created[pid] < recent:
                    row = await session.scalar(
                        select(UptimeDaily)
                        .where(UptimeDaily.plugin_id == pid)
                        .order_by(UptimeDaily.day.desc())
                        .limit(1)
                    )
                base[pid] = Durations(*(_cum(row, k) for k in KINDS))
            cum = base[pid]
            cum.merge(d)
            totals = {f"cum_{k}_s": getattr(cum, f"{k}_s") for k in KINDS}
            out.append({"plugin_id": pid, "day": day, **_cols(d), **totals})
        return out


def _cum(row: UptimeDaily | None, kind: str) -> float:
    return float(getattr(row, f"cum_{kind}_s")) if row is not None else 0.0


def _cols(d: Durations) -> dict[str, float]:
    return {f"{k}_s": getattr(d, f"{k}_s") for k in KINDS}
