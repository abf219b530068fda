"""Small helpers shared by the built-in plugins (not a plugin module itself)."""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from collections.abc import Collection, Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from app.core.egress import EgressDenied, policy, refuse_metadata
from app.plugins.base import Plugin, PluginError, Sample

log = logging.getLogger("app.plugins.builtin")

# Pseudo and read-only image filesystems: their "usage" says nothing about a host's storage.
# Names are filesystem types (psutil) or df's device column, which shows the type for these.
PSEUDO_FILESYSTEMS = (
    "tmpfs",
    "devtmpfs",
    "devfs",
    "udev",
    "shm",
    "none",
    "overlay",
    "squashfs",
    "iso9660",
    "proc",
    "sysfs",
    "efivarfs",
    "cgroup",
    "cgroup2",
    "nsfs",
    "autofs",
    "ramfs",
)
# Kernel and runtime trees: never user data, whatever filesystem is mounted there.
PSEUDO_MOUNT_ROOTS = ("/dev", "/proc", "/sys", "/run", "/snap")
# Desktop automounters put real disks (USB drives, SD cards) here, inside /run.
REMOVABLE_MEDIA_ROOT = "/run/media/"


def is_pseudo_filesystem(
    name: str, mount: str, names: Collection[str] = PSEUDO_FILESYSTEMS
) -> bool:
    """The one rule both host plugins (local and over SSH) use to leave a mount out."""
    if name in names:
        return True
    if mount.startswith(REMOVABLE_MEDIA_ROOT):
        return False
    return any(mount == root or mount.startswith(root + "/") for root in PSEUDO_MOUNT_ROOTS)


_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$")


def validate_host(value: str) -> str:
    """Accept a DNS name or an IP address; refuse URLs, spaces and option-like strings, and
    a cloud metadata name or address (the SSRF policy's part that needs no DNS)."""
    value = value.strip()
    try:
        value = str(ipaddress.ip_address(value.strip("[]")))
    except ValueError:
        if not _HOSTNAME.match(value):
            raise ValueError(
                "must be a host name (e.g. nas.lan) or an IP address, without scheme, port or path"
            ) from None
    try:
        refuse_metadata(value)
    except EgressDenied as exc:
        raise ValueError(str(exc).rstrip(".")) from None
    return value


async def policy_address(host: str, port: int, wait: float) -> str:
    """The SSRF policy (CHECK_DENY_NETWORKS, CHECK_ALLOW_NETWORKS, metadata) on every address
    `host` resolves to, before a check connects: EgressDenied when one is refused. Answers
    the first address, or `host` itself when it does not resolve here (the check's own
    connection then reports that in its words)."""
    try:
        return (await policy().resolve(host, port, wait))[0]
    except (OSError, TimeoutError):
        return host


async def allowed_target(plugin: Plugin, host: str, port: int, wait: float) -> str:
    """policy_address(); a refused address takes the check down with the policy's sentence."""
    try:
        return await policy_address(host, port, wait)
    except EgressDenied as exc:
        raise target_down(plugin, str(exc).rstrip("."), [up_sample(False)]) from None


# A config field holding a DNS name or an IP address, checked by `validate_host`.
HostName = Annotated[str, AfterValidator(validate_host)]


def TimeoutField(default: float, le: float, description: str, title: str = "Timeout (s)") -> Any:
    """A config field for a plugin's timeout in seconds: above 0, at most `le`."""
    return Field(default, title=title, description=description, gt=0, le=le)


def elapsed_ms(start: float) -> float:
    """Milliseconds since a `time.perf_counter()` reading."""
    return (time.perf_counter() - start) * 1000.0


def up_sample(is_up: bool, labels: Mapping[str, str] | None = None) -> Sample:
    return Sample("up", 1.0 if is_up else 0.0, "bool", dict(labels or {}))


def target_down(plugin: Plugin, reason: str, samples: list[Sample]) -> PluginError:
    """The error to raise for a target that is down: `reason` becomes the run's error.

    The run then counts against the plugin's health, while `samples` (`up` = 0 and
    whatever was still measured) are stored and charted. The reason is logged once here.
    """
    log.warning(
        "plugin target down: %s",
        reason,
        extra={"plugin_id": plugin.ctx.plugin_id, "plugin_type": plugin.type},
    )
    return PluginError(reason, samples=samples)


# What to check, appended to the sentence of a target that could not be reached.
NO_ANSWER_HINT = "check that the host is up and that no firewall drops the port"
RESOLVE_HINT = "check the host name, or use its IP address"
ROUTE_HINT = "check the address and that this machine has a route to it"


def describe_exc(exc: BaseException) -> str:
    """A short sentence for an exception whose str() may be empty (timeouts often are)."""
    text = str(exc).strip()
    return text or type(exc).__name__
