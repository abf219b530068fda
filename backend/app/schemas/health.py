"""GET /health's body: the seed's `status` and `scheduler`, plus the details that help."""

from __future__ import annotations

from pydantic import BaseModel, Field


class WriterHealth(BaseModel):
    buffered: int
    written: int
    dropped: int
    last_error: str | None


class HealthBody(BaseModel):
    status: str
    scheduler: str
    database: str = Field(description="`ok` or `down`: the last background check's result.")
    role: str
    version: str
    reason: str | None = None
    writer: WriterHealth
    websocket_clients: int
    database_checked_seconds_ago: float | None = Field(
        None, description="Age of that check; checks run every DB_PROBE_SECONDS."
    )
