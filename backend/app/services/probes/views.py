"""What the API shows of probes: each probe's check-ins, and a plugin's result per location."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import PluginHealth, PluginInstance, PluginLocation, Probe, Series
from app.models.enums import HealthStatus
from app.schemas.probes import LatestValue, LocationOut, PluginLocations, ProbeOut
from app.services.probes.hub import HUB, locations_of, probe_status


async def list_probes(session: AsyncSession) -> list[ProbeOut]:
    """Every probe that checked in, and every location a plugin names that none serves yet."""
    now = datetime.now(UTC)
    probes = {p.location: p for p in await session.scalars(select(Probe))}
    counts: dict[str, int] = {}
    for plugin in await session.scalars(
        select(PluginInstance).where(PluginInstance.enabled.is_(True))
    ):
        for loc in locations_of(plugin):
            if loc != HUB:
                counts[loc] = counts.get(loc, 0) + 1
    out = []
    for loc in sorted(set(probes) | set(counts)):
        p = probes.get(loc)
        out.append(
            ProbeOut(
                location=loc,
                status=probe_status(p, now),
                last_seen_at=p.last_seen_at if p else None,
                heartbeat_seconds=p.heartbeat_seconds if p else None,
                version=p.version if p else "",
                spooled=p.spooled if p else 0,
                dropped_total=p.dropped_total if p else 0,
                results_total=p.results_total if p else 0,
                plugins=counts.get(loc, 0),
            )
        )
    return out


async def plugin_locations(session: AsyncSession, plugin: PluginInstance) -> PluginLocations:
    now = datetime.now(UTC)
    locs = locations_of(plugin)
    rows = {
        r.location: r
        for r in await session.scalars(
            select(PluginLocation).where(PluginLocation.plugin_id == plugin.id)
        )
    }
    probes = {p.location: p for p in await session.scalars(select(Probe))}
    latest: dict[str, list[LatestValue]] = {loc: [] for loc in locs}
    for s in await session.scalars(
        select(Series).where(Series.plugin_id == plugin.id).order_by(Series.name, Series.id)
    ):
        labels = dict(s.labels or {})
        loc = labels.pop("location", HUB)
        if loc in latest:
            latest[loc].append(
                LatestValue(
                    name=s.name, unit=s.unit, labels=labels, value=s.last_value, ts=s.last_ts
                )
            )
    health = await session.get(PluginHealth, plugin.id)
    items = []
    for loc in locs:
        row = rows.get(loc)
        if row is None and loc == HUB and len(locs) == 1 and health is not None:
            # A hub-only plugin: its own health is the hub's view.
            status, failures = health.status, health.consecutive_failures
            last_run, last_ok, error = health.last_run_at, health.last_success_at, health.last_error
            duration = None
        elif row is None:
            status, failures, last_run, last_ok, error, duration = (
                HealthStatus.UNKNOWN,
                0,
                None,
                None,
                None,
                None,
            )
        else:
            status, failures = row.status, row.consecutive_failures
            last_run, last_ok, error = row.last_run_at, row.last_success_at, row.last_error
            duration = row.duration_ms
        items.append(
            LocationOut(
                location=loc,
                status=HealthStatus(status),
                probe_status="hub" if loc == HUB else probe_status(probes.get(loc), now),
                consecutive_failures=failures,
                last_run_at=last_run,
                last_success_at=last_ok,
                last_error=error,
                duration_ms=duration,
                latest=latest[loc],
            )
        )
    return PluginLocations(
        plugin_id=plugin.id,
        down_quorum=plugin.down_quorum or 1,
        status=HealthStatus(health.status if health else HealthStatus.UNKNOWN),
        locations=items,
    )
