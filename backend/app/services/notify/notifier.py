"""The Notifier: delivers queued notices to Apprise URLs with retries and backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.egress import EgressDenied, policy, refuse_metadata
from app.core.errors import InvalidInput
from app.core.security import SecretBox
from app.db.session import Database
from app.models import AlertIncident, NotificationChannel, NotificationDelivery
from app.services.notify.grouping import Notice, compose, schedule

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
BATCH = 50


def utc_now() -> datetime:
    return datetime.now(UTC)


# Apprise schemes whose URL names the server Unity connects to (plain webhooks and
# self-hosted services); in the others the "host" is a token of a fixed cloud service.
SERVER_SCHEMES = frozenset(
    {
        *("json", "jsons", "xml", "xmls", "form", "forms", "apprise", "apprises"),
        *("ntfy", "ntfys", "gotify", "gotifys", "mmost", "mmosts", "rocket", "rockets"),
        *("matrix", "matrixs", "mqtt", "mqtts", "signal", "signals", "ncloud", "nclouds"),
    }
)


def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


async def egress_refusal(url: str, wait: float) -> str | None:
    """The SSRF policy on a channel URL, before Apprise connects: None, or why it is refused.

    A cloud metadata host is refused in any URL; for SERVER_SCHEMES, every address the host
    resolves to must pass CHECK_DENY_NETWORKS / CHECK_ALLOW_NETWORKS.
    """
    host = _host(url)
    if not host:
        return None
    try:
        refuse_metadata(host)
        if url.split("://", 1)[0].lower() in SERVER_SCHEMES:
            await policy().resolve(host, urlsplit(url).port or 443, wait)
    except EgressDenied as exc:
        return str(exc).replace("checks", "notifications")
    except (OSError, TimeoutError, ValueError):
        return None  # does not resolve here: Apprise reports that in its own words
    return None


def describe_url(url: str) -> str:
    """Apprise's name for the service behind a URL; InvalidInput when Apprise can't use it
    or it names a cloud metadata host."""
    import apprise  # only when a channel is saved or tested (house style 15)

    try:
        refuse_metadata(_host(url) or "")
    except EgressDenied as exc:
        raise InvalidInput(str(exc), fields={"url": "names a cloud metadata host"}) from None
    instance = apprise.Apprise.instantiate(url)
    if instance is None:
        scheme = url.split("://", 1)[0] if "://" in url else url[:20]
        raise InvalidInput(
            f"Apprise does not understand this URL (scheme {scheme!r}); use e.g. "
            "ntfy://topic, gotify://host/token, discord://webhook_id/token, "
            "mailto://user:password@example.org or json://host/path."
        )
    return str(getattr(instance, "service_name", "") or url.split("://", 1)[0])[:64]


def backoff(settings: Settings, attempts: int) -> float:
    """Seconds before retry number `attempts` (1 = the first retry): doubling, capped."""
    delay = settings.notify_retry_base_seconds * 2 ** max(attempts - 1, 0)
    return float(min(delay, settings.notify_retry_max_seconds))


def _send_blocking(url: str, title: str, body: str, notify_type: str, timeout: float) -> str | None:
    """One Apprise call (network I/O, runs in the notifier's thread pool): None or the error."""
    import apprise  # loads with the first notice sent

    client = apprise.Apprise(asset=apprise.AppriseAsset(app_id="Unity"))
    if not client.add(url):
        return "Apprise does not understand this channel's URL."
    result = client.notify(body=body, title=title, notify_type=notify_type, timeout=timeout)
    if bool(result):
        return None
    messages = []
    with contextlib.suppress(Exception):
        messages = [str(getattr(e, "message", e)) for e in result.logs()]
    detail = "; ".join(m for m in messages if m) or f"the service refused it ({result.status!r})"
    return detail[:1000]


@dataclass
class _Due:
    ids: list[int]  # the deliveries this one message carries
    url: str | None
    error: str | None
    title: str
    body: str
    notify_type: str


class Notifier:
    """Sends deliveries through Apprise off the event loop; failed ones are retried with backoff."""

    def __init__(
        self, db: Database, settings: Settings, box: SecretBox, clock: Clock = utc_now
    ) -> None:
        self.db = db
        self.settings = settings
        self.box = box
        self.clock = clock
        self.executor = ThreadPoolExecutor(settings.notify_threads, thread_name_prefix="notify")
        self.sent_total = 0
        self.failed_attempts_total = 0
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._closed = False

    # ----------------------------------------------------------------- lifecycle
    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self.executor.shutdown(wait=False, cancel_futures=True)

    def wake(self) -> None:
        """Deliver what is due now, in the background (new incidents should not wait for a tick)."""
        if self._closed:
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._drain(), name="notify-drain")

    async def idle(self) -> None:
        """Wait for a background drain started by `wake` (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait({self._task})

    async def _drain(self) -> None:
        while True:
            self._again = False
            try:
                await self.process_due()
            except Exception:
                log.exception("notification delivery failed")
            if not self._again:
                return

    # ----------------------------------------------------------------- sending
    async def send(self, url: str, title: str, body: str, notify_type: str = "info") -> str | None:
        """Send one message now; None on success, else a sentence saying what went wrong."""
        timeout = self.settings.notify_timeout_seconds
        if (refused := await egress_refusal(url, timeout)) is not None:
            return refused
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(
                loop.run_in_executor(
                    self.executor, _send_blocking, url, title, body, notify_type, timeout
                ),
                timeout + 5,
            )
        except TimeoutError:
            return f"The service did not answer within {timeout:g} s."
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"[:1000]

    async def process_due(self) -> int:
        """Attempt every pending delivery whose time has come, one message per channel (what
        came due together was grouped: a group window, quiet hours, a network outage);
        returns how many deliveries were attempted."""
        async with self._lock:
            now = self.clock()
            async with self.db.session() as session:
                rows = (
                    await session.execute(
                        select(
                            NotificationDelivery,
                            NotificationChannel,
                            AlertIncident.kind,
                            AlertIncident.plugin_name,
                        )
                        .join(NotificationChannel)
                        .outerjoin(
                            AlertIncident, AlertIncident.id == NotificationDelivery.incident_id
                        )
                        .where(
                            NotificationDelivery.status == "pending",
                            NotificationDelivery.next_attempt_at <= now,
                        )
                        .order_by(NotificationDelivery.next_attempt_at, NotificationDelivery.id)
                        .limit(BATCH)
                    )
                ).all()
                by_channel: dict[int, list[Any]] = {}
                for row in rows:
                    by_channel.setdefault(row[1].id, []).append(row)
                due = [self._prepare(group) for group in by_channel.values()]
            if not due:
                return 0
            outcomes = await asyncio.gather(
                *(self._attempt(d) for d in due), return_exceptions=True
            )
            now = self.clock()
            async with self.db.session() as session:
                for d, outcome in zip(due, outcomes, strict=True):
                    error = (
                        f"{type(outcome).__name__}: {outcome}"
                        if isinstance(outcome, BaseException)
                        else outcome
                    )
                    for delivery_id in d.ids:
                        delivery = await session.get(NotificationDelivery, delivery_id)
                        if delivery is not None:
                            self._record(delivery, error, now, len(d.ids))
                await session.commit()
            return sum(len(d.ids) for d in due)

    def _prepare(self, rows: list[Any]) -> _Due:
        channel: NotificationChannel = rows[0][1]
        url, error = None, None
        if not channel.enabled:
            error = "The channel is disabled."
        else:
            try:
                url = str(self.box.decrypt(channel.url_encrypted)["url"])
            except (ValueError, KeyError) as exc:
                error = f"The channel's URL cannot be read: {exc}"
        notices = [
            Notice(d.incident_id, d.kind, d.title, d.body, d.notify_type, kind == "health", name)
            for d, _c, kind, name in rows
        ]
        title, body, notify_type = compose(notices)
        return _Due([r[0].id for r in rows], url, error, title, body, notify_type)

    async def _attempt(self, due: _Due) -> str | None:
        if due.url is None:
            return due.error
        return await self.send(due.url, due.title, due.body, due.notify_type)

    def _record(
        self, delivery: NotificationDelivery, error: str | None, now: datetime, grouped: int = 1
    ) -> None:
        delivery.attempts += 1
        delivery.held = None
        extra = {
            "delivery_id": delivery.id,
            "channel_id": delivery.channel_id,
            "incident_id": delivery.incident_id,
            "attempt": delivery.attempts,
            "grouped": grouped,
        }
        if error is None:
            delivery.status, delivery.sent_at, delivery.last_error = "sent", now, None
            delivery.next_attempt_at = None
            self.sent_total += 1
            log.info("notification sent", extra=extra)
            return
        self.failed_attempts_total += 1
        delivery.last_error = error
        if delivery.attempts >= self.settings.notify_max_attempts:
            delivery.status, delivery.next_attempt_at = "failed", None
            log.error("notification failed, giving up: %s", error, extra=extra)
        else:
            delay = backoff(self.settings, delivery.attempts)
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            log.warning("notification failed, retrying in %.0fs: %s", delay, error, extra=extra)

    async def send_test(
        self, session: AsyncSession, channel: NotificationChannel
    ) -> NotificationDelivery:
        """Send a test message now (no retries) and log it like any other delivery."""
        now = self.clock()
        title = "Unity test notification"
        body = f"This is a test from Unity for the channel {channel.name!r}. It works."
        delivery = NotificationDelivery(
            channel_id=channel.id,
            incident_id=None,
            kind="test",
            title=title,
            body=body,
            notify_type="info",
            status="pending",
            attempts=0,
            created_at=now,
        )
        try:
            url = str(self.box.decrypt(channel.url_encrypted)["url"])
        except (ValueError, KeyError) as exc:
            error: str | None = f"The channel's URL cannot be read: {exc}"
        else:
            error = await self.send(url, title, body, "info")
        delivery.attempts = 1
        delivery.status = "sent" if error is None else "failed"
        delivery.sent_at = self.clock() if error is None else None
        delivery.last_error = error
        session.add(delivery)
        await session.commit()
        log.info("test notification %s", delivery.status, extra={"channel_id": channel.id})
        return delivery


async def enqueue(
    session: AsyncSession,
    channels: list[NotificationChannel],
    *,
    incident_id: int | None,
    kind: str,
    title: str,
    body: str,
    notify_type: str,
    severity: str | None,
    now: datetime,
    group_seconds: int,
) -> list[NotificationDelivery]:
    """Queue one delivery per channel, due when its quiet hours and group window say (the
    caller commits, then wakes the notifier). `group_seconds`: for channels that set none."""
    out = []
    for channel in channels:
        due, held = await schedule(session, channel, severity, now, group_seconds)
        d = NotificationDelivery(
            channel_id=channel.id,
            incident_id=incident_id,
            kind=kind,
            title=title[:300],
            body=body,
            notify_type=notify_type,
            severity=severity,
            held=held,
            status="pending",
            attempts=0,
            next_attempt_at=due,
            created_at=now,
        )
        session.add(d)
        out.append(d)
    return out
