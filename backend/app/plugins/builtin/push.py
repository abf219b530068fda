"""The `push` plugin: a heartbeat monitor that a job calls; down when no call came in time.

A job (cron, backup, systemd timer) calls `GET|POST /api/v1/push/<token>`; each scheduled run
of this plugin only checks how long ago the last call was and what it said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import Field

from app.plugins.base import Plugin, PluginConfig, PluginError, Sample
from app.plugins.builtin._common import up_sample


class PushConfig(PluginConfig):
    heartbeat_interval_seconds: int = Field(
        300,
        title="Expected every (s)",
        description="How often the job calls its push URL, e.g. 3600 for an hourly cron job.",
        ge=10,
        le=31 * 86400,
    )
    grace_seconds: int = Field(
        60,
        title="Grace (s)",
        description="Extra time allowed after the interval before the monitor goes down.",
        ge=0,
        le=7 * 86400,
    )


@dataclass(frozen=True)
class Heartbeat:
    """The last call a push monitor received, as the check needs it."""

    since: datetime  # when waiting began: the token's creation (or rotation)
    last_push_at: datetime | None = None
    last_status: str | None = None
    last_msg: str | None = None
    last_ping_ms: float | None = None


def judge(cfg: PushConfig, beat: Heartbeat | None, now: datetime) -> list[Sample]:
    """Samples for a heartbeat that is on time; PluginError saying why it is late or down."""
    allowed = cfg.heartbeat_interval_seconds + cfg.grace_seconds
    if beat is None:
        raise PluginError(
            "No push URL yet: open the plugin (or GET /api/v1/plugins/{id}/push-token) to get one.",
            [up_sample(False)],
        )
    if beat.last_push_at is None:
        waited = (now - beat.since).total_seconds()
        if waited <= allowed:
            return []  # waiting for the first call: neither up nor down yet
        raise PluginError(
            f"No call received yet; expected within {allowed} s of creating the push URL.",
            [up_sample(False)],
        )
    age = max(0.0, (now - beat.last_push_at).total_seconds())
    samples = [Sample("push_age_seconds", age, "s")]
    if beat.last_ping_ms is not None:
        samples.append(Sample("push_ping_ms", beat.last_ping_ms, "ms"))
    if age > allowed:
        raise PluginError(
            f"No call for {age:.0f} s; expected every {cfg.heartbeat_interval_seconds} s "
            f"with {cfg.grace_seconds} s grace.",
            [up_sample(False), *samples],
        )
    if beat.last_status == "down":
        why = f": {beat.last_msg}" if beat.last_msg else ""
        raise PluginError(f"The job reported down{why}", [up_sample(False), *samples])
    return [up_sample(True), *samples]


class PushPlugin(Plugin[PushConfig]):
    type = "push"
    name = "Push (heartbeat)"
    description = (
        "A secret URL that a cron job, backup or script calls when it ran; "
        "down when no call arrives within the interval plus grace."
    )
    category = "other"
    Config = PushConfig
    default_interval_seconds = 60
    default_timeout_seconds = 10
    failures_until_down = 1

    async def collect_data(self) -> list[Sample]:
        beat = await self.ctx.heartbeat() if self.ctx.heartbeat is not None else None
        return judge(self.config, beat, datetime.now(UTC))


PLUGIN = PushPlugin
