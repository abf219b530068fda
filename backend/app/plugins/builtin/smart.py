"""The `smart` plugin: each disk's SMART health verdict, temperature, age and wear, via smartctl."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import Field, field_validator

from app.plugins.base import PluginError, Sample
from app.plugins.builtin._common import target_down
from app.plugins.builtin._shell import CommandResult, HostAccessConfig, HostToolsPlugin, Shell

_DEVICE = re.compile(r"^/dev/[A-Za-z0-9][A-Za-z0-9/_:.-]*$")
_DEVICE_TYPE = re.compile(r"^[a-z0-9][a-z0-9,_+-]{0,40}$")
MAX_DEVICES = 64
# smartctl's exit status is a bit mask (man smartctl, RETURN VALUES).
EXIT_BAD_COMMAND_LINE = 0x01
EXIT_OPEN_FAILED = 0x02
EXIT_DISK_FAILING = 0x08
# ATA attribute id -> (metric, unit): raw values that mean the same on every vendor.
ATA_ATTRIBUTES = {
    5: ("disk_reallocated_sectors", "count"),
    197: ("disk_pending_sectors", "count"),
    198: ("disk_offline_uncorrectable_sectors", "count"),
}


def _check_device(value: str) -> str:
    value = value.strip()
    if not _DEVICE.match(value) or ".." in value.split("/"):
        raise ValueError(f"{value!r} is not a device path like /dev/sda or /dev/nvme0")
    return value


class SmartConfig(HostAccessConfig):
    devices: list[str] = Field(
        [],
        title="Disks",
        description="Device paths to read, e.g. /dev/sda and /dev/nvme0. "
        "Empty: every disk `smartctl --scan-open` finds.",
        examples=[["/dev/sda", "/dev/nvme0"]],
        max_length=MAX_DEVICES,
    )
    device_type: str | None = Field(
        None,
        title="Device type",
        description="smartctl's -d option for the listed disks: sat for most USB "
        "enclosures, nvme, or megaraid,N behind a RAID card. Empty: smartctl decides.",
        examples=["sat"],
    )

    @field_validator("devices")
    @classmethod
    def _check_devices(cls, v: list[str]) -> list[str]:
        return [_check_device(d) for d in v]

    @field_validator("device_type")
    @classmethod
    def _check_type(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        if not _DEVICE_TYPE.match(v.strip()):
            raise ValueError("must be a smartctl device type such as sat, nvme or megaraid,0")
        return v.strip()


def _messages(doc: dict[str, Any]) -> str:
    msgs = (doc.get("smartctl") or {}).get("messages") or []
    return "; ".join(str(m.get("string", "")).strip() for m in msgs if isinstance(m, dict))


def load_json(result: CommandResult, what: str, where: str) -> dict[str, Any]:
    try:
        doc = json.loads(result.stdout)
    except ValueError as exc:
        text = (result.stderr or result.stdout).strip()[:200]
        raise PluginError(
            f"`{what}` on {where} did not print JSON (exit {result.exit_status}: {text}); "
            "smartctl 7.0 or newer is needed for --json"
        ) from exc
    if not isinstance(doc, dict) or "smartctl" not in doc:
        raise PluginError(
            f"`{what}` on {where} printed JSON that is not smartctl's; is smartctl really "
            "smartmontools?"
        )
    return doc


def open_failure(device: str, doc: dict[str, Any], shell: Shell) -> str:
    """The sentence for a disk smartctl could not open or identify."""
    msg = _messages(doc) or "no message"
    low = msg.lower()
    if "permission denied" in low or "operation not permitted" in low:
        if shell.remote:
            fix = (
                "turn on sudo for this plugin and allow `sudo -n smartctl` for the SSH user"
                if not shell.sudo
                else "check that the sudoers rule runs smartctl as root"
            )
        else:
            fix = (
                "Unity must run as root with the disk passed in: in docker-compose give the "
                f'backend `devices: ["{device}:{device}"]` and `cap_add: [SYS_RAWIO, '
                "SYS_ADMIN]`, or turn on sudo"
            )
        return f"smartctl may not open {device} on {shell.where} ({msg}): {fix}"
    if "no such device" in low or "no such file" in low:
        return (
            f"{device} does not exist on {shell.where} ({msg}); list the disks with "
            "`smartctl --scan` and fix the Disks setting"
        )
    if "unable to detect device type" in low:
        return (
            f"smartctl cannot tell what kind of disk {device} is on {shell.where}: set the "
            "device type (sat for most USB enclosures); virtual disks have no SMART at all"
        )
    if "unrecognized option" in low or "invalid argument" in low:
        return (
            f"smartctl on {shell.where} refused the options for {device} ({msg}): "
            "check the device type"
        )
    return f"smartctl could not read {device} on {shell.where}: {msg}"


def parse_device(doc: dict[str, Any], fallback_device: str) -> tuple[list[Sample], bool | None]:
    """Samples of one `smartctl --json -a` document, and the health verdict if it gave one."""
    dev = doc.get("device") or {}
    labels = {
        "device": str(dev.get("name") or fallback_device),
        "model": str(doc.get("model_name") or doc.get("scsi_model_name") or "unknown"),
        "serial": str(doc.get("serial_number") or "unknown"),
    }
    samples: list[Sample] = []

    def add(name: str, value: Any, unit: str, factor: float = 1.0) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            samples.append(Sample(name, float(value) * factor, unit, labels))

    passed = (doc.get("smart_status") or {}).get("passed")
    verdict = passed if isinstance(passed, bool) else None
    if verdict is not None:
        samples.append(Sample("disk_healthy", 1.0 if verdict else 0.0, "bool", labels))
    add("disk_temperature_celsius", (doc.get("temperature") or {}).get("current"), "celsius")
    add("disk_power_on_seconds", (doc.get("power_on_time") or {}).get("hours"), "seconds", 3600)
    add("disk_power_cycles_total", doc.get("power_cycle_count"), "count")
    table = (doc.get("ata_smart_attributes") or {}).get("table") or []
    for attr in table:
        if isinstance(attr, dict) and attr.get("id") in ATA_ATTRIBUTES:
            name, unit = ATA_ATTRIBUTES[attr["id"]]
            add(name, (attr.get("raw") or {}).get("value"), unit)
    nvme = doc.get("nvme_smart_health_information_log")
    if isinstance(nvme, dict):
        add("disk_endurance_used_percent", nvme.get("percentage_used"), "percent")
        add("disk_available_spare_percent", nvme.get("available_spare"), "percent")
        add("disk_media_errors_total", nvme.get("media_errors"), "count")
        add("disk_critical_warning", nvme.get("critical_warning"), "")
    return samples, verdict


def scan_devices(doc: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(device, type) pairs from `smartctl --scan-open --json`, checked like user input."""
    found: list[tuple[str, str | None]] = []
    for entry in doc.get("devices") or []:
        if not isinstance(entry, dict):
            continue
        name, type_ = str(entry.get("name", "")), entry.get("type")
        if not _DEVICE.match(name) or ".." in name.split("/"):
            continue  # never hand an odd string from the host back to a command line
        dtype = str(type_) if isinstance(type_, str) and _DEVICE_TYPE.match(type_) else None
        if (name, dtype) not in found:
            found.append((name, dtype))
    return found[:MAX_DEVICES]


class SmartPlugin(HostToolsPlugin[SmartConfig]):
    type = "smart"
    name = "Disk health (SMART)"
    description = (
        "Each disk's SMART health verdict, temperature, power-on time, reallocated and "
        "pending sectors and NVMe wear, read with smartctl on this machine or over SSH."
    )
    category = "system"
    Config = SmartConfig
    default_interval_seconds = 300
    default_timeout_seconds = 60

    async def collect_with(self, shell: Shell) -> list[Sample]:
        cfg = self.config
        if cfg.devices:
            targets = [(d, cfg.device_type) for d in cfg.devices]
        else:
            targets = await self._discover(shell)
        samples: list[Sample] = []
        problems: list[str] = []
        failing: list[str] = []
        for device, dtype in targets:
            argv = ["smartctl", "--json", "-a", *(["-d", dtype] if dtype else []), device]
            result = await shell.run(argv)
            shell.check_access("smartctl", result)
            doc = load_json(result, " ".join(argv), shell.where)
            status = int((doc.get("smartctl") or {}).get("exit_status", result.exit_status))
            if status & (EXIT_BAD_COMMAND_LINE | EXIT_OPEN_FAILED) and "device" not in doc:
                problems.append(open_failure(device, doc, shell))
                continue
            disk, verdict = parse_device(doc, device)
            samples += disk
            if verdict is False or (verdict is None and status & EXIT_DISK_FAILING):
                labels = disk[0].labels if disk else {"model": "?", "serial": "?"}
                failing.append(
                    f"disk {device} ({labels['model']}, serial {labels['serial']}) FAILS its "
                    "SMART health check: back up its data and replace it"
                )
        if failing or problems:
            reason = "; ".join(failing + problems)
            if not samples:
                raise PluginError(reason)
            raise target_down(self, reason, samples)
        return samples

    async def _discover(self, shell: Shell) -> list[tuple[str, str | None]]:
        argv = ["smartctl", "--scan-open", "--json"]
        result = await shell.run(argv)
        shell.check_access("smartctl", result)
        found = scan_devices(load_json(result, " ".join(argv), shell.where))
        if not found:
            hint = (
                "give the backend container the disks (docker-compose `devices:`) and SYS_RAWIO"
                if not shell.remote
                else "turn on sudo if the SSH user cannot open the disks"
            )
            raise PluginError(
                f"smartctl found no disks on {shell.where} (virtual machines and containers "
                f"without device access have none): {hint}, or list the disks under Disks"
            )
        return found


PLUGIN = SmartPlugin
