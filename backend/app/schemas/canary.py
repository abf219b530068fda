"""The connectivity canary as the API shows it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.models.enums import CanaryState
from app.schemas.common import ORM, UTCTime


class CanaryTargetOut(BaseModel):
    target: str = Field(description='As configured: "gateway", host or host:port.')
    address: str | None = Field(description="What was probed (None: no default route).")
    ok: bool
    detail: str
    checked_at: UTCTime


class CanaryOutageOut(ORM):
    id: int
    started_at: UTCTime
    ended_at: UTCTime | None = Field(description="None: Unity's network is still down.")
    detail: str
    announced: bool = Field(description='The "Unity lost its network" notice was queued.')


class CanaryOut(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "enabled": True,
                    "state": "up",
                    "since": "2026-01-10T08:00:00Z",
                    "checked_at": "2026-01-10T09:30:00Z",
                    "failures": 0,
                    "hold_notifications": True,
                    "targets": [
                        {
                            "target": "gateway",
                            "address": "192.168.1.1:53",
                            "ok": True,
                            "detail": "connected",
                            "checked_at": "2026-01-10T09:30:00Z",
                        }
                    ],
                    "outages": [],
                }
            ]
        }
    }

    enabled: bool = Field(description="CANARY_TARGETS is not empty.")
    state: CanaryState = Field(description="down while an outage is open (on any replica).")
    since: UTCTime | None
    checked_at: UTCTime | None = Field(description="Last round on this replica (the leader's).")
    failures: int = Field(description="Rounds in a row in which no target answered.")
    hold_notifications: bool = Field(description="Alerts wait for the network (configurable).")
    targets: list[CanaryTargetOut]
    outages: list[CanaryOutageOut] = Field(description="The latest outages, newest first.")
