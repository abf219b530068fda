"""Noticing changes between runs that deserve a line on the timeline: reboots, container
restarts, OOM kills and image changes, renewed certificates. Each watcher keeps what the
previous run saw; the first run only sets the baseline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.models.enums import EventKind
from app.plugins.base import Plugin

# A boot time that moves by less than this is clock jitter (uptime and "now" are read apart).
BOOT_JITTER = timedelta(seconds=60)
# An expiry date that moves forward by more than this is a new certificate.
RENEWAL_STEP = timedelta(days=1)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


class RebootWatch:
    """A host rebooted when its boot time (now - uptime) moves forward."""

    def __init__(self) -> None:
        self.boot: datetime | None = None

    def observe(self, plugin: Plugin, uptime_seconds: float, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        boot = now - timedelta(seconds=uptime_seconds)
        before, self.boot = self.boot, boot
        if before is None or boot - before <= BOOT_JITTER:
            return
        plugin.emit_event(
            EventKind.HOST_REBOOTED,
            f"host rebooted at {_iso(boot)} (uptime reset to {uptime_seconds:.0f} s)",
            details={"booted_at": _iso(boot), "previous_boot_at": _iso(before)},
            at=boot,
        )


class CertificateWatch:
    """A certificate was renewed when its expiry date jumps forward."""

    def __init__(self) -> None:
        self.not_after: dict[str, datetime] = {}

    def observe(self, plugin: Plugin, host: str, not_after: datetime) -> None:
        before = self.not_after.get(host)
        self.not_after[host] = not_after
        if before is None or not_after - before <= RENEWAL_STEP:
            return
        plugin.emit_event(
            EventKind.CERTIFICATE_RENEWED,
            f"TLS certificate of {host} renewed: expires {_iso(not_after)} "
            f"instead of {_iso(before)}",
            labels={"host": host},
            details={"not_after": _iso(not_after), "previous_not_after": _iso(before)},
        )


@dataclass
class _Seen:
    id: str
    started_at: str
    image: str
    image_name: str
    oom_killed: bool
    restart_count: int


class ContainerWatch:
    """Per container name: a new start time is a restart, a new image id an image change
    (the container was recreated from another image), OOMKilled turning true an OOM kill."""

    def __init__(self) -> None:
        self.seen: dict[str, _Seen] = {}

    def observe(self, plugin: Plugin, name: str, info: dict[str, Any]) -> None:
        state = info.get("State") or {}
        now = _Seen(
            id=str(info.get("Id", "")),
            started_at=str(state.get("StartedAt") or ""),
            image=str(info.get("Image") or ""),
            image_name=str((info.get("Config") or {}).get("Image") or ""),
            oom_killed=bool(state.get("OOMKilled")),
            restart_count=int(info.get("RestartCount") or 0),
        )
        before = self.seen.get(name)
        self.seen[name] = now
        if before is None:
            return
        labels = {"container": name}
        if now.image != before.image:
            plugin.emit_event(
                EventKind.CONTAINER_IMAGE_CHANGED,
                f"{name}: image changed to {now.image_name or '?'} "
                f"({_short(before.image)} → {_short(now.image)})",
                labels=labels,
                details={
                    "image": now.image,
                    "previous_image": before.image,
                    "image_name": now.image_name,
                    "previous_image_name": before.image_name,
                },
            )
        elif now.started_at and now.started_at != before.started_at:
            recreated = now.id != before.id
            plugin.emit_event(
                EventKind.CONTAINER_RESTARTED,
                f"{name} {'recreated and started' if recreated else 'restarted'} "
                f"at {now.started_at}",
                labels=labels,
                details={
                    "started_at": now.started_at,
                    "previous_started_at": before.started_at,
                    "restart_count": now.restart_count,
                    "recreated": recreated,
                },
            )
        if now.oom_killed and not (before.oom_killed and now.started_at == before.started_at):
            plugin.emit_event(
                EventKind.CONTAINER_OOM_KILLED,
                f"{name} was killed for running out of memory",
                labels=labels,
                details={"started_at": now.started_at},
            )


def _short(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12] or "?"
