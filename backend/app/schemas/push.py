"""Push (heartbeat) monitors on the wire: the answer to a call and the admin's token view."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.schemas.common import ORM, UTCTime


class PushOk(BaseModel):
    ok: bool = True


class PushTokenOut(ORM):
    plugin_id: int
    token: str = Field(description="The secret; anyone holding it can report for this plugin.")
    url_path: str = Field(description="Append to Unity's base URL, e.g. http://unity:8000.")
    rotated_at: UTCTime
    last_push_at: UTCTime | None
    last_status: str | None
    last_msg: str | None
    push_count: int
