"""The health of this backend replica: database, metrics writer, run recorder and Redis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.config import VERSION
from app.models.enums import HealthStatus
from app.schemas.health import HealthBody, WriterHealth

if TYPE_CHECKING:
    from app.state import AppState


async def check(state: AppState) -> HealthBody:
    """`healthy` with no reasons, else `degraded` with each; `database` says if it answers.

    The database part is the background probe's last result: /health answers at once even
    while the database hangs.
    """
    reasons = []
    probe = state.probe
    database = "down" if probe.ok is False else "ok"
    if database == "down":
        reasons.append(f"database not answering ({probe.error}); samples are being buffered")
    w = state.writer.stats
    if w.last_error and database == "ok":
        reasons.append(f"metrics writes failing: {w.last_error}")
    if state.recorder.last_error and database == "ok":
        reasons.append(f"run history not saved: {state.recorder.last_error}")
    if state.hub.redis_error:
        reasons.append(f"Redis unreachable: {state.hub.redis_error}")
    return HealthBody(
        status=HealthStatus.HEALTHY if not reasons else HealthStatus.DEGRADED,
        scheduler=state.scheduler.state,
        database=database,
        role=state.scheduler.role,
        version=VERSION,
        reason="; ".join(reasons) or None,
        writer=WriterHealth(
            buffered=w.buffered, written=w.written, dropped=w.dropped, last_error=w.last_error
        ),
        websocket_clients=len(state.hub.clients),
        database_checked_seconds_ago=_rounded(probe.checked_seconds_ago),
    )


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 2)
