"""Push (heartbeat) monitors: tokens (hashed, encrypted copy), incoming calls and their limits.

A token is 192 random bits shown as URL-safe text. The table holds its SHA-256 (what a call is
looked up by: an equality match on the digest, which leaks nothing usable about the token) and a
Fernet copy so an admin can read the URL again; a token never appears in a log line or an error.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import InvalidInput, NotFound, TooManyRequests
from app.core.security import SecretBox, hash_api_token
from app.db.session import Database
from app.models import PluginInstance, PushMonitor
from app.models.enums import SchedulerRole
from app.plugins.base import Sample, validate_samples
from app.plugins.builtin.push import Heartbeat
from app.services.auth.login_limits import RateLimiter

if TYPE_CHECKING:
    from app.services.metrics.writer import MetricsWriter
    from app.services.plugins.scheduler import PluginScheduler

log = logging.getLogger(__name__)

PUSH_TYPE = "push"
MAX_BODY_BYTES = 64 * 1024
MAX_SAMPLES = 100
MAX_MSG = 500
NO_MONITOR = "No push monitor answers to this URL; copy it again from the plugin's page."


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


@dataclass
class PushToken:
    plugin_id: int
    token: str
    url_path: str
    rotated_at: datetime
    last_push_at: datetime | None
    last_status: str | None
    last_msg: str | None
    push_count: int


def _check_push_plugin(plugin: PluginInstance) -> None:
    if plugin.type != PUSH_TYPE:
        raise InvalidInput(
            f"Plugin {plugin.id} is a {plugin.type!r} plugin; only push plugins have a push URL."
        )


def _view(monitor: PushMonitor, token: str) -> PushToken:
    return PushToken(
        plugin_id=monitor.plugin_id,
        token=token,
        url_path=f"/api/v1/push/{token}",
        rotated_at=monitor.rotated_at,
        last_push_at=monitor.last_push_at,
        last_status=monitor.last_status,
        last_msg=monitor.last_msg,
        push_count=monitor.push_count,
    )


async def show_token(session: AsyncSession, box: SecretBox, plugin: PluginInstance) -> PushToken:
    """The plugin's push URL; the first call for a new push plugin makes its token."""
    _check_push_plugin(plugin)
    monitor = await session.get(PushMonitor, plugin.id)
    if monitor is None:
        return await rotate_token(session, box, plugin)
    return _view(monitor, str(box.decrypt(monitor.token_encrypted)["token"]))


async def rotate_token(session: AsyncSession, box: SecretBox, plugin: PluginInstance) -> PushToken:
    """A new token; the old URL stops working at once."""
    _check_push_plugin(plugin)
    token = new_token()
    now = datetime.now(UTC)
    monitor = await session.get(PushMonitor, plugin.id)
    if monitor is None:
        monitor = PushMonitor(plugin_id=plugin.id, created_at=now, push_count=0)
        session.add(monitor)
    monitor.token_hash = hash_api_token(token)
    monitor.token_encrypted = box.encrypt({"token": token})
    monitor.rotated_at = now
    await session.commit()
    log.info("push token issued", extra={"plugin_id": plugin.id})
    return _view(monitor, token)


def parse_samples(body: Any) -> list[Sample]:
    """`[{"name", "value", "unit"?, "labels"?}]` from a push call's JSON body."""
    if not isinstance(body, list):
        raise InvalidInput('The body must be a JSON list like [{"name": "x", "value": 1}].')
    if len(body) > MAX_SAMPLES:
        raise InvalidInput(f"The body has {len(body)} samples; at most {MAX_SAMPLES} per call.")
    out = []
    for i, item in enumerate(body):
        if not isinstance(item, dict) or "name" not in item or "value" not in item:
            raise InvalidInput(f'Sample {i} needs "name" and "value".')
        labels = item.get("labels") or {}
        if not isinstance(labels, dict):
            raise InvalidInput(f"Sample {i}: labels must be an object of strings.")
        out.append(
            Sample(str(item["name"]), item["value"], str(item.get("unit") or ""), dict(labels))
        )
    try:
        return validate_samples(out, MAX_SAMPLES)
    except ValueError as exc:
        raise InvalidInput(f"{exc}.") from None


class PushGate:
    """Takes push calls: rate limits, the lookup, bookkeeping, and a prompt re-check."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        writer: MetricsWriter,
        scheduler: PluginScheduler,
    ) -> None:
        self.db = db
        self.settings = settings
        self.writer = writer
        self.scheduler = scheduler
        self.limiter = RateLimiter()
        self._checks: set[asyncio.Task[Any]] = set()

    def _limit(self, key: str, limit: int, what: str) -> None:
        wait = self.limiter.retry_after(key, limit)
        if wait > 0:
            seconds = int(wait) + 1
            raise TooManyRequests(
                f"Too many push calls {what}; try again in {seconds} seconds.",
                headers={"Retry-After": str(seconds)},
            )
        self.limiter.hit(key)

    async def receive(
        self,
        token: str,
        address: str,
        status: str,
        msg: str | None,
        ping_ms: float | None,
        samples: list[Sample],
    ) -> int:
        """Record one call; returns the plugin id. Unknown, rotated or disabled: NotFound."""
        self._limit("ip:" + address, self.settings.push_rate_per_minute_ip, "from your address")
        digest = hash_api_token(token)
        now = datetime.now(UTC)
        async with self.db.session() as session:
            row = (
                await session.execute(
                    select(PushMonitor, PluginInstance.enabled)
                    .join(PluginInstance, PluginInstance.id == PushMonitor.plugin_id)
                    .where(PushMonitor.token_hash == digest)
                )
            ).first()
            if row is None or not row[1]:
                raise NotFound(NO_MONITOR)
            monitor = row[0]
            self._limit("token:" + digest, self.settings.push_rate_per_minute, "for this monitor")
            monitor.last_push_at = now
            monitor.last_status = status
            monitor.last_msg = (msg or "")[:MAX_MSG] or None
            monitor.last_ping_ms = ping_ms
            monitor.push_count = (monitor.push_count or 0) + 1
            plugin_id = monitor.plugin_id
            await session.commit()
        if samples:
            self.writer.submit(plugin_id, now, samples)
        self._check_soon(plugin_id)
        return plugin_id

    def _check_soon(self, plugin_id: int) -> None:
        """Let health follow the call now rather than at the next scheduled check."""
        if self.scheduler.role != SchedulerRole.LEADER:
            return  # the leader's next check picks the call up from the table
        task = asyncio.get_running_loop().create_task(self.scheduler.run(plugin_id, "push"))
        self._checks.add(task)
        task.add_done_callback(self._checks.discard)

    async def stop(self) -> None:
        """Let prompted checks finish (cancelled mid-run, they would leave a record open)."""
        if self._checks:
            await asyncio.wait(self._checks, timeout=2)


def heartbeat_reader(db: Database, plugin_id: int) -> Callable[[], Awaitable[Heartbeat | None]]:
    """What a push plugin instance calls on each check: its monitor's last call."""

    async def read() -> Heartbeat | None:
        async with db.session(read_only=True) as session:
            monitor = await session.get(PushMonitor, plugin_id)
            if monitor is None:
                return None
            return Heartbeat(
                since=monitor.rotated_at,
                last_push_at=monitor.last_push_at,
                last_status=monitor.last_status,
                last_msg=monitor.last_msg,
                last_ping_ms=monitor.last_ping_ms,
            )

    return read


async def rotate_push_tokens(session: AsyncSession, box: SecretBox) -> int:
    """Re-encrypt every push token's copy under the newest key (`python -m app rotate-key`)."""
    count = 0
    for monitor in await session.scalars(select(PushMonitor)):
        try:
            monitor.token_encrypted = box.rotate(monitor.token_encrypted)
        except ValueError as exc:
            raise ValueError(
                f"push token of plugin {monitor.plugin_id}: {exc}; nothing was changed"
            ) from None
        count += 1
    return count
