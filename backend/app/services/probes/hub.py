"""The hub's side of remote probes: assignments, result intake, per-location and K-of-N health.

A plugin runs where its `locations` say (None: the hub only). Each location's latest outcome is
a `plugin_locations` row; the plugin's own health is then derived from them: "down" when at
least K (`down_quorum`, default 1) of its N locations see it down, "degraded" when fewer do.
A probe silent for SILENT_AFTER heartbeat intervals counts as a location that sees it down, so
a dead probe is alertable through the same health rules.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import Forbidden, InvalidInput, Unauthorized
from app.core.security import API_TOKEN_PREFIX, SecretBox, hash_api_token
from app.models import ApiToken, PluginHealth, PluginInstance, PluginLocation, Probe, User
from app.models.enums import HealthStatus, RunStatus
from app.plugins.base import Sample
from app.plugins.registry import PluginRegistry
from app.services.auth import principals
from app.services.plugins import discovery
from app.services.plugins.health import Health, health_event, next_health

log = logging.getLogger(__name__)

HUB = "hub"
PROBE_SCOPE = "probe"
SILENT_AFTER = 3  # heartbeat intervals without a word: the probe is down
LOCATION_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def check_location(name: str) -> str:
    if not LOCATION_RE.fullmatch(name):
        raise InvalidInput(
            f"Location {name!r} is not a valid name: use 1-64 lowercase letters, digits, "
            "'-' or '_', starting with a letter or digit (e.g. \"vps-1\")."
        )
    return name


def locations_of(plugin: PluginInstance) -> list[str]:
    return list(plugin.locations or [HUB])


def is_remote(plugin: PluginInstance) -> bool:
    """Assigned to any location besides the hub: health comes from the locations then."""
    return any(loc != HUB for loc in locations_of(plugin))


def check_assignment(locations: list[str] | None, down_quorum: int | None) -> None:
    locs = locations or [HUB]
    for loc in locs:
        check_location(loc)
    if len(set(locs)) != len(locs):
        raise InvalidInput("Each location may be listed once in `locations`.")
    if down_quorum is not None and not 1 <= down_quorum <= len(locs):
        raise InvalidInput(
            f'`down_quorum` (K of "down from at least K of N locations") must be between 1 and '
            f"the number of locations ({len(locs)}); got {down_quorum}."
        )


def probe_silent(probe: Probe | None, now: datetime) -> bool:
    """True when a probe that did check in has not done so for SILENT_AFTER intervals."""
    if probe is None or probe.last_seen_at is None:
        return False
    return now - probe.last_seen_at > timedelta(seconds=SILENT_AFTER * probe.heartbeat_seconds)


def probe_status(probe: Probe | None, now: datetime) -> str:
    if probe is None or probe.last_seen_at is None:
        return "never"
    return "down" if probe_silent(probe, now) else "up"


# ----------------------------------------------------------------- who is calling
@dataclass(frozen=True)
class ProbeCaller:
    token_id: int
    location: str


async def identify_probe(
    session: AsyncSession, settings: Settings, token: str | None
) -> ProbeCaller:
    """The probe behind a bearer token: it must be an API token scoped to "probe".

    Any other valid credential (a user's) gets 403 with what to use instead; an invalid one 401.
    """
    if not token:
        raise Unauthorized("Send the probe token as `Authorization: Bearer <token>`.")
    api_token = None
    if token.startswith(API_TOKEN_PREFIX):
        api_token = await session.scalar(
            select(ApiToken).where(ApiToken.token_hash == hash_api_token(token))
        )
        if api_token is None:
            raise Unauthorized("This probe token is unknown or was revoked.")
    if api_token is None or api_token.scope != PROBE_SCOPE or not api_token.location:
        if api_token is None:
            await principals.identify(session, settings, token)  # 401 unless a user's
        raise Forbidden(
            "Only a probe token may call the probe endpoints; an admin creates one with "
            'POST /api/v1/tokens {"name": …, "scope": "probe", "location": …}.'
        )
    if api_token.expires_at and api_token.expires_at <= datetime.now(UTC):
        raise Unauthorized("This probe token has expired; create a new one.")
    owner = await session.get(User, api_token.user_id)
    if owner is None or owner.disabled:
        raise Unauthorized("The account that created this probe token is gone or disabled.")
    return ProbeCaller(api_token.id, api_token.location)


# ----------------------------------------------------------------- assignments
async def assignments(
    session: AsyncSession, box: SecretBox, location: str
) -> tuple[list[dict[str, Any]], str]:
    """The enabled plugins assigned to `location`, secrets included, and a tag of the set.

    Only these plugins' secrets are ever decrypted for a probe: the filter comes first.
    """
    out: list[dict[str, Any]] = []
    for plugin in await session.scalars(
        select(PluginInstance).where(PluginInstance.enabled.is_(True)).order_by(PluginInstance.id)
    ):
        if location == HUB or location not in locations_of(plugin):
            continue
        secrets = box.decrypt(plugin.secrets) if plugin.secrets else {}
        out.append(
            {
                "id": plugin.id,
                "name": plugin.name,
                "type": plugin.type,
                "config": {**discovery.without_marker(plugin.config), **secrets},
                "interval_seconds": plugin.interval_seconds,
                "timeout_seconds": plugin.timeout_seconds,
                "updated_at": plugin.updated_at.isoformat(),
            }
        )
    return out, _tag([(a["id"], a["updated_at"]) for a in out])


def _tag(pairs: list[tuple[int, str]]) -> str:
    return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()[:16]


async def assignments_tag(session: AsyncSession, location: str) -> str:
    """The etag of `assignments`, without decrypting anything (every heartbeat asks for it)."""
    rows = await session.execute(
        select(PluginInstance.id, PluginInstance.updated_at, PluginInstance.locations)
        .where(PluginInstance.enabled.is_(True))
        .order_by(PluginInstance.id)
    )
    return _tag(
        [
            (pid, updated.isoformat())
            for pid, updated, locs in rows.all()
            if location != HUB and location in (locs or [HUB])
        ]
    )


async def heartbeat(
    session: AsyncSession, location: str, seconds: int, version: str, spooled: int, dropped: int
) -> Probe:
    probe = await session.get(Probe, location)
    if probe is None:
        probe = Probe(location=location, dropped_total=0, results_total=0)
        session.add(probe)
        log.info("probe checked in for the first time", extra={"location": location})
    elif probe_silent(probe, datetime.now(UTC)):
        log.info("probe is back after a silence", extra={"location": location})
    if dropped > (probe.dropped_total or 0):
        log.warning(
            "probe dropped %d results while the hub was unreachable (its spool was full or "
            "they were too old)",
            dropped - (probe.dropped_total or 0),
            extra={"location": location},
        )
    probe.last_seen_at = datetime.now(UTC)
    probe.heartbeat_seconds, probe.version = seconds, version[:64]
    probe.spooled, probe.dropped_total = spooled, dropped
    await session.commit()
    return probe


# ----------------------------------------------------------------- results
class SampleSink(Protocol):
    def submit(self, plugin_id: int, ts: datetime, samples: list[Sample]) -> object: ...


@dataclass
class Outcome:
    plugin_id: int
    started_at: datetime
    finished_at: datetime
    status: str
    error: str | None
    duration_ms: float | None
    samples: list[Sample]


def _apply(
    row: PluginLocation,
    ok: bool,
    error: str | None,
    at: datetime,
    settings: Settings,
    down_after: int | None,
) -> None:
    health = Health(
        row.plugin_id,
        row.status or HealthStatus.UNKNOWN,
        row.consecutive_failures or 0,
        row.last_run_at,
        row.last_success_at,
        row.last_error,
    )
    next_health(health, ok, error, at, settings, down_after)
    row.status, row.consecutive_failures = health.status, health.consecutive_failures
    row.last_run_at, row.last_success_at = health.last_run_at, health.last_success_at
    row.last_error = health.last_error


async def record(
    session: AsyncSession,
    settings: Settings,
    registry: PluginRegistry,
    writer: SampleSink,
    location: str,
    outcomes: Iterable[Outcome],
    batch_key: str | None = None,
) -> tuple[int, int, set[int]]:
    """Store results from `location`; (accepted, ignored, plugin ids touched).

    `batch_key` (the probe's Idempotency-Key) is kept as the probe's last batch; see `seen_batch`.

    A result for a plugin that is gone or no longer assigned here is ignored, not refused:
    a spool must drain after a reassignment. Samples carry a `location` label.
    """
    todo = sorted(outcomes, key=lambda o: o.started_at)
    ids = {o.plugin_id for o in todo}
    plugins = {
        p.id: p
        for p in await session.scalars(select(PluginInstance).where(PluginInstance.id.in_(ids)))
    }
    rows = {
        r.plugin_id: r
        for r in await session.scalars(
            select(PluginLocation).where(
                PluginLocation.plugin_id.in_(ids), PluginLocation.location == location
            )
        )
    }
    accepted = ignored = 0
    touched: set[int] = set()
    for o in todo:
        plugin = plugins.get(o.plugin_id)
        if plugin is None or location not in locations_of(plugin):
            ignored += 1
            continue
        accepted += 1
        touched.add(plugin.id)
        labelled = [
            Sample(s.name, s.value, s.unit, {**s.labels, "location": location}) for s in o.samples
        ]
        writer.submit(plugin.id, o.started_at, labelled)
        row = rows.get(plugin.id)
        if row is None:
            row = PluginLocation(plugin_id=plugin.id, location=location, consecutive_failures=0)
            session.add(row)
            rows[plugin.id] = row
        if row.last_run_at is not None and o.finished_at <= row.last_run_at:
            continue  # an older result than the one shown: its samples count, not its status
        entry = registry.get(plugin.type)
        down_after = entry.cls.failures_until_down if entry and entry.cls else None
        _apply(row, o.status == RunStatus.SUCCESS, o.error, o.finished_at, settings, down_after)
        row.duration_ms, row.sample_count = o.duration_ms, len(o.samples)
    if location != HUB and (accepted or batch_key):
        probe = await session.get(Probe, location)
        if probe is not None:
            probe.results_total = (probe.results_total or 0) + accepted
            probe.last_batch = batch_key or probe.last_batch
    await session.flush()
    return accepted, ignored, touched


async def seen_batch(session: AsyncSession, location: str, batch_key: str | None) -> bool:
    """This batch is the last one taken from `location`: the hub stored it, the answer was lost
    on the way back (the uplink broke), and the probe, which keeps a batch until it gets a 200,
    sent it again. A probe sends its batches one at a time, oldest first, so the last key is all
    there is to remember."""
    if not batch_key:
        return False
    probe = await session.get(Probe, location)
    return probe is not None and probe.last_batch == batch_key


# ----------------------------------------------------------------- K of N
def derive(
    plugin: PluginInstance,
    rows: dict[str, PluginLocation],
    probes: dict[str, Probe],
    now: datetime,
) -> tuple[str, str | None]:
    """The plugin's status from its locations' latest outcomes, and why when not healthy."""
    locs = locations_of(plugin)
    down: list[str] = []
    degraded: list[str] = []
    healthy = 0
    for loc in locs:
        row = rows.get(loc)
        if loc != HUB and probe_silent(probes.get(loc), now):
            down.append(f"{loc}: its probe is silent")
        elif row is None or row.status == HealthStatus.UNKNOWN:
            continue
        elif row.status == HealthStatus.DOWN:
            down.append(f"{loc}: {row.last_error or 'down'}")
        elif row.status == HealthStatus.DEGRADED:
            degraded.append(f"{loc}: {row.last_error or 'failing'}")
        else:
            healthy += 1
    k = min(plugin.down_quorum or 1, len(locs))
    if len(down) >= k:
        status = HealthStatus.DOWN
    elif down or degraded:
        status = HealthStatus.DEGRADED
    elif healthy:
        status = HealthStatus.HEALTHY
    else:
        return HealthStatus.UNKNOWN, None
    if status == HealthStatus.HEALTHY:
        return status, None
    return status, f"down from {len(down)} of {len(locs)} locations (K={k}); " + "; ".join(
        down + degraded
    )


async def refresh_health(
    session: AsyncSession, plugin_ids: Iterable[int], now: datetime | None = None
) -> list[dict[str, Any]]:
    """Re-derive the health of these (multi-location) plugins; the events of those that changed.

    The caller commits, then publishes the events.
    """
    now = now or datetime.now(UTC)
    ids = set(plugin_ids)
    if not ids:
        return []
    probes = {p.location: p for p in await session.scalars(select(Probe))}
    by_plugin: dict[int, dict[str, PluginLocation]] = {}
    for r in await session.scalars(select(PluginLocation).where(PluginLocation.plugin_id.in_(ids))):
        by_plugin.setdefault(r.plugin_id, {})[r.location] = r
    healths = {
        h.plugin_id: h
        for h in await session.scalars(select(PluginHealth).where(PluginHealth.plugin_id.in_(ids)))
    }
    events: list[dict[str, Any]] = []
    for plugin in await session.scalars(select(PluginInstance).where(PluginInstance.id.in_(ids))):
        if not is_remote(plugin):
            continue
        rows = by_plugin.get(plugin.id, {})
        status, why = derive(plugin, rows, probes, now)
        health = healths.get(plugin.id)
        if health is None:
            health = PluginHealth(plugin_id=plugin.id, consecutive_failures=0)
            session.add(health)
        runs = [r.last_run_at for r in rows.values() if r.last_run_at]
        oks = [r.last_success_at for r in rows.values() if r.last_success_at]
        health.last_run_at = max(runs) if runs else None
        health.last_success_at = max(oks) if oks else None
        health.consecutive_failures = max(
            (r.consecutive_failures or 0 for r in rows.values()), default=0
        )
        if why:
            health.last_error = why
        if health.status != status:
            health.status, health.changed_at = status, now
            events.append(
                health_event(
                    Health(
                        plugin.id,
                        status,
                        health.consecutive_failures,
                        health.last_run_at,
                        health.last_success_at,
                        health.last_error,
                        now,
                    )
                )
            )
    return events
