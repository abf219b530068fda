"""The health of this backend replica: database, metrics writer, run recorder and Redis."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import text

from app.core.config import VERSION
from app.models.enums import HealthStatus
from app.schemas.health import HealthBody, WriterHealth

if TYPE_CHECKING:
    from app.state import AppState

DB_CHECK_SECONDS = 3


async def check(state: AppState) -> HealthBody:
    """`healthy` with no reasons, else `degraded` with each; `database` says if it answers."""
    reasons = []
    database = "ok"
    try:
        async with state.db.engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), DB_CHECK_SECONDS)
    except Exception as exc:
        database = "unreachable"
        reasons.append(f"database unreachable ({type(exc).__name__}); samples are being buffered")
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
    )
