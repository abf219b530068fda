"""Notification channels: CRUD of encrypted Apprise URLs, their delivery log, key rotation."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import InvalidInput
from app.core.security import SecretBox
from app.db.queries import commit_unique, get_or_not_found, paginate
from app.models import NotificationChannel, NotificationDelivery
from app.plugins.base import SECRET_MASK
from app.schemas.alerts import ChannelOut
from app.services.notify.grouping import quiet_until, zone
from app.services.notify.notifier import describe_url, utc_now

log = logging.getLogger(__name__)


def view(channel: NotificationChannel, now: datetime | None = None) -> ChannelOut:
    """A channel as the API shows it: the URL, which holds the credentials, always masked."""
    return ChannelOut(
        id=channel.id,
        name=channel.name,
        url=SECRET_MASK,
        service=channel.service,
        enabled=channel.enabled,
        send_resolved=channel.send_resolved,
        group_seconds=channel.group_seconds,
        quiet_start=channel.quiet_start,
        quiet_end=channel.quiet_end,
        quiet_timezone=channel.quiet_timezone or "UTC",
        quiet_except_critical=channel.quiet_except_critical,
        quiet_now=quiet_until(channel, now or utc_now()) is not None,
        created_at=channel.created_at,
        updated_at=channel.updated_at,
    )


def check_quiet(start: str | None, end: str | None, timezone: str) -> None:
    """Quiet hours are both times or neither, two different times, in a known time zone."""
    fields: dict[str, str] = {}
    if (start is None) != (end is None):
        missing = "quiet_end" if end is None else "quiet_start"
        fields[missing] = "set both quiet_start and quiet_end, or neither"
    elif start is not None and start == end:
        fields["quiet_end"] = "must differ from quiet_start"
    try:
        zone(timezone)
    except ValueError as exc:
        fields["quiet_timezone"] = str(exc)
    if fields:
        raise InvalidInput(
            "Quiet hours need a start and an end time (HH:MM) and an IANA time zone: "
            + "; ".join(f"{k}: {v}" for k, v in fields.items())
            + ".",
            fields=fields,
        )


async def list_channels(session: AsyncSession) -> list[NotificationChannel]:
    return list(await session.scalars(select(NotificationChannel).order_by(NotificationChannel.id)))


async def get_channel(session: AsyncSession, channel_id: int) -> NotificationChannel:
    return await get_or_not_found(
        session,
        NotificationChannel,
        channel_id,
        f"No notification channel with id {channel_id}; list them with GET /api/v1/channels.",
    )


async def create_channel(
    session: AsyncSession,
    box: SecretBox,
    *,
    name: str,
    url: str,
    enabled: bool,
    send_resolved: bool,
    group_seconds: int | None = None,
    quiet_start: str | None = None,
    quiet_end: str | None = None,
    quiet_timezone: str = "UTC",
    quiet_except_critical: bool = True,
) -> NotificationChannel:
    service = describe_url(url)
    check_quiet(quiet_start, quiet_end, quiet_timezone)
    channel = NotificationChannel(
        name=name,
        url_encrypted=box.encrypt({"url": url}),
        service=service,
        enabled=enabled,
        send_resolved=send_resolved,
        group_seconds=group_seconds,
        quiet_start=quiet_start,
        quiet_end=quiet_end,
        quiet_timezone=quiet_timezone,
        quiet_except_critical=quiet_except_critical,
    )
    session.add(channel)
    await commit_unique(session, "A channel", name)
    log.info("notification channel created", extra={"channel_id": channel.id, "service": service})
    return channel


async def update_channel(
    session: AsyncSession, box: SecretBox, channel: NotificationChannel, changes: dict[str, Any]
) -> NotificationChannel:
    url = changes.get("url")
    if url is not None and url != SECRET_MASK:
        channel.service = describe_url(url)
        channel.url_encrypted = box.encrypt({"url": url})
    for field in ("name", "enabled", "send_resolved", "quiet_except_critical", "quiet_timezone"):
        if changes.get(field) is not None:
            setattr(channel, field, changes[field])
    for field in ("group_seconds", "quiet_start", "quiet_end"):  # null clears these
        if field in changes:
            setattr(channel, field, changes[field])
    check_quiet(channel.quiet_start, channel.quiet_end, channel.quiet_timezone)
    await commit_unique(session, "A channel", channel.name)
    log.info("notification channel updated", extra={"channel_id": channel.id})
    return channel


async def delete_channel(session: AsyncSession, channel: NotificationChannel) -> None:
    await session.delete(channel)
    await session.commit()
    log.info("notification channel deleted", extra={"channel_id": channel.id})


async def list_deliveries(
    session: AsyncSession, channel_id: int, limit: int, offset: int, status: str | None = None
) -> tuple[list[NotificationDelivery], int]:
    where = [NotificationDelivery.channel_id == channel_id]
    if status:
        where.append(NotificationDelivery.status == status)
    return await paginate(
        session,
        NotificationDelivery,
        *where,
        order_by=(NotificationDelivery.created_at.desc(), NotificationDelivery.id.desc()),
        limit=limit,
        offset=offset,
    )


async def rotate_channel_urls(session: AsyncSession, box: SecretBox) -> int:
    """Re-encrypt every channel URL under the newest key (for `python -m app rotate-key`)."""
    count = 0
    for channel in await session.scalars(select(NotificationChannel)):
        try:
            channel.url_encrypted = box.rotate(channel.url_encrypted)
        except ValueError as exc:
            raise ValueError(
                f"notification channel {channel.id} ({channel.name!r}): {exc}; nothing was changed"
            ) from None
        count += 1
    return count
