"""GET /health: public liveness and readiness, in the seed's shape plus the details that help."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import text

from app.api.deps import StateDep
from app.core.config import VERSION

router = APIRouter(tags=["health"])


class WriterHealth(BaseModel):
    buffered: int
    written: int
    dropped: int
    last_error: str | None


class HealthBody(BaseModel):
    status: str
    scheduler: str
    database: str
    role: str
    version: str
    reason: str | None = None
    writer: WriterHealth
    websocket_clients: int


@router.get(
    "/health",
    response_model=HealthBody,
    responses={503: {"model": HealthBody, "description": "The database is unreachable"}},
    summary="Health of this backend replica",
)
async def health(state: StateDep, response: Response) -> dict[str, Any]:
    reasons = []
    database = "ok"
    try:
        async with state.db.engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), 3)
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
    if database != "ok":
        response.status_code = 503
    return {
        "status": "healthy" if not reasons else "degraded",
        "scheduler": state.scheduler.state,
        "database": database,
        "role": state.scheduler.role,
        "version": VERSION,
        "reason": "; ".join(reasons) or None,
        "writer": {
            "buffered": w.buffered,
            "written": w.written,
            "dropped": w.dropped,
            "last_error": w.last_error,
        },
        "websocket_clients": len(state.hub.clients),
    }
