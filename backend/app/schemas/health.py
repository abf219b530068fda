"""GET /health's body: the seed's `status` and `scheduler`, plus the details that help."""

from __future__ import annotations

from pydantic import BaseModel


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
