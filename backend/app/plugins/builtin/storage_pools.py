"""The `storage_pools` plugin: ZFS pools, mdadm arrays and btrfs device errors, here or over SSH."""

from __future__ import annotations

import time

from pydantic import Field

from app.plugins.base import PluginError, Sample
from app.plugins.builtin._common import describe_exc, target_down
from app.plugins.builtin._shell import (
    NOT_FOUND,
    CommandResult,
    HostAccessConfig,
    HostToolsPlugin,
    Shell,
)
from app.plugins.builtin._storage import (
    ZfsPool,
    btrfs_mounts,
    parse_btrfs_stats,
    parse_mdstat,
    parse_zpool_list,
    parse_zpool_status,
)

ZPOOL_LIST = ["zpool", "list", "-Hp", "-o", "name,size,alloc,free,frag,cap,health"]
# zpool before OpenZFS 0.7 (and zfs-fuse) knows neither -p nor the frag property.
ZPOOL_LIST_OLD = ["zpool", "list", "-H", "-o", "name,size,alloc,free,cap,health"]
# zpool's words when ZFS is installed but not running (OpenZFS module, zfs-fuse daemon).
ZFS_NOT_RUNNING = ("modules are not loaded", "failed to initialize ZFS library")
BTRFS_ERRORS = {
    "write_io_errs": "btrfs_device_write_errors",
    "read_io_errs": "btrfs_device_read_errors",
    "flush_io_errs": "btrfs_device_flush_errors",
    "corruption_errs": "btrfs_device_corruption_errors",
    "generation_errs": "btrfs_device_generation_errors",
}


class StoragePoolsConfig(HostAccessConfig):
    zfs: bool = Field(True, title="ZFS pools", description="Check ZFS pools (zpool).")
    mdadm: bool = Field(
        True, title="Linux software RAID", description="Check mdadm arrays (/proc/mdstat)."
    )
    btrfs: bool = Field(
        True,
        title="btrfs",
        description="Check the device error counters of mounted btrfs filesystems "
        "(needs root or sudo).",
    )
    scrub_max_age_days: int = Field(
        35,
        title="Scrub overdue after (days)",
        description="A ZFS pool whose last scrub finished longer ago fails the run; 0 = never.",
        ge=0,
        le=3650,
    )


class StoragePoolsPlugin(HostToolsPlugin[StoragePoolsConfig]):
    type = "storage_pools"
    name = "Storage pools (ZFS, mdadm, btrfs)"
    description = (
        "Health, capacity, errors and scrub age of ZFS pools, degraded and rebuilding mdadm "
        "arrays, and btrfs device error counters, on this machine or over SSH."
    )
    category = "system"
    Config = StoragePoolsConfig
    default_interval_seconds = 120
    default_timeout_seconds = 60

    async def collect_with(self, shell: Shell) -> list[Sample]:
        cfg = self.config
        samples: list[Sample] = []
        problems: list[str] = []
        found = False
        if cfg.zfs:
            pools = await self._zfs(shell)
            found = found or pools is not None
            for pool in pools or []:
                samples += self._zfs_samples(pool, problems)
        if cfg.mdadm:
            arrays = await self._mdadm(shell, samples, problems)
            found = found or arrays
        if cfg.btrfs:
            found = await self._btrfs(shell, samples, problems) or found
        if not found:
            raise PluginError(
                f"no ZFS pool, mdadm array or btrfs filesystem found on {shell.where} "
                "(zpool is missing or ZFS is not running, /proc/mdstat lists no array and no "
                "btrfs is mounted)"
            )
        if problems:
            raise target_down(self, "; ".join(problems), samples)
        return samples

    # --- ZFS ----------------------------------------------------------------------------

    async def _run(self, shell: Shell, argv: list[str], tool: str) -> CommandResult:
        result = await shell.run(argv)
        shell.check_access(tool, result)
        return result

    async def _zfs(self, shell: Shell) -> list[ZfsPool] | None:
        """The pools, or None when this host has no zpool command at all."""
        result = await shell.run(ZPOOL_LIST)
        if result.exit_status == NOT_FOUND and "sudo" not in result.stderr:
            return None
        shell.check_access("zpool", result)
        with_frag = True
        if result.exit_status != 0 and "invalid option" in result.stderr:
            with_frag = False
            result = await self._run(shell, ZPOOL_LIST_OLD, "zpool")
        if result.exit_status != 0:
            if any(text in result.stderr for text in ZFS_NOT_RUNNING):
                return None  # tools installed, ZFS itself not running: no pools to watch
            raise PluginError(self._zfs_failure(shell, result))
        try:
            pools = parse_zpool_list(result.stdout, with_frag)
        except ValueError as exc:
            raise PluginError(
                f"`zpool list` on {shell.where} printed something unexpected "
                f"({describe_exc(exc)}); run `zpool list -Hp` there to see it, update the ZFS "
                "tools there or turn off ZFS pools in this plugin"
            ) from exc
        if pools:
            status = await self._run(shell, ["zpool", "status", "-p"], "zpool")
            if status.exit_status != 0 and "invalid option" in status.stderr:
                status = await self._run(shell, ["zpool", "status"], "zpool")
            if status.exit_status != 0:
                raise PluginError(self._zfs_failure(shell, status))
            parse_zpool_status(status.stdout, {p.name: p for p in pools})
        return pools

    @staticmethod
    def _zfs_failure(shell: Shell, result: CommandResult) -> str:
        err = (result.stderr or result.stdout).strip()[:300]
        if "permission denied" in err.lower() or "/dev/zfs" in err:
            return (
                f"zpool on {shell.where} may not read the pools ({err}): run Unity as root, "
                "give the container /dev/zfs, or turn on sudo"
            )
        if "connect" in err.lower() or "daemon" in err.lower():
            return f"zpool on {shell.where} cannot reach ZFS ({err}): is the ZFS service running?"
        return (
            f"zpool on {shell.where} failed (exit {result.exit_status}): {err}; run `zpool status` "
            "there to see why, or turn off ZFS pools in this plugin"
        )

    def _zfs_samples(self, pool: ZfsPool, problems: list[str]) -> list[Sample]:
        labels = {"pool": pool.name}
        out = [Sample("zfs_pool_healthy", 1.0 if pool.health == "ONLINE" else 0.0, "bool", labels)]
        for name, value, unit in (
            ("zfs_pool_size_bytes", pool.size, "bytes"),
            ("zfs_pool_allocated_bytes", pool.allocated, "bytes"),
            ("zfs_pool_free_bytes", pool.free, "bytes"),
            ("zfs_pool_capacity_percent", pool.capacity, "percent"),
            ("zfs_pool_fragmentation_percent", pool.fragmentation, "percent"),
        ):
            if value is not None:
                out.append(Sample(name, value, unit, labels))
        out += [
            Sample("zfs_pool_read_errors", float(pool.read_errors), "count", labels),
            Sample("zfs_pool_write_errors", float(pool.write_errors), "count", labels),
            Sample("zfs_pool_checksum_errors", float(pool.checksum_errors), "count", labels),
            Sample("zfs_pool_data_errors", float(pool.data_errors), "count", labels),
        ]
        age = None
        if pool.last_scrub is not None:
            age = max(0.0, time.time() - pool.last_scrub)
            out.append(Sample("zfs_pool_scrub_age_seconds", age, "seconds", labels))
        if pool.health != "ONLINE":
            problems.append(
                f"ZFS pool {pool.name} is {pool.health}"
                + (f" ({pool.status})" if pool.status else "")
                + f": see `zpool status {pool.name}`"
            )
        elif pool.data_errors or pool.checksum_errors:
            problems.append(
                f"ZFS pool {pool.name} has {pool.checksum_errors} checksum and "
                f"{pool.data_errors} data errors: see `zpool status -v {pool.name}`"
            )
        max_days = self.config.scrub_max_age_days
        if max_days and age is not None and age > max_days * 86400:
            problems.append(
                f"ZFS pool {pool.name} was last scrubbed {age / 86400:.0f} days ago: "
                f"run `zpool scrub {pool.name}` (and schedule it)"
            )
        return out

    # --- mdadm --------------------------------------------------------------------------

    async def _mdadm(self, shell: Shell, samples: list[Sample], problems: list[str]) -> bool:
        result = await shell.run(["cat", "/proc/mdstat"])
        if result.exit_status != 0:
            return False  # no md driver loaded: nothing to report
        try:
            arrays = parse_mdstat(result.stdout)
        except ValueError as exc:
            raise PluginError(
                f"/proc/mdstat on {shell.where} is in an unexpected format "
                f"({describe_exc(exc)}); run `cat /proc/mdstat` there to see it, or turn off "
                "Linux software RAID in this plugin if the host has no md arrays"
            ) from exc
        for md in arrays:
            labels = {"array": md.name, "level": md.level}
            samples.append(Sample("md_array_healthy", 0.0 if md.degraded else 1.0, "bool", labels))
            samples.append(Sample("md_array_degraded", 1.0 if md.degraded else 0.0, "bool", labels))
            if md.size_bytes is not None:
                samples.append(Sample("md_array_size_bytes", md.size_bytes, "bytes", labels))
            if md.disks_expected is not None and md.disks_up is not None:
                samples.append(Sample("md_array_disks", float(md.disks_expected), "count", labels))
                samples.append(Sample("md_array_disks_active", float(md.disks_up), "count", labels))
            samples.append(Sample("md_array_disks_failed", float(md.failed), "count", labels))
            samples.append(Sample("md_array_disks_spare", float(md.spares), "count", labels))
            syncing = md.sync_percent is not None
            samples.append(Sample("md_array_syncing", 1.0 if syncing else 0.0, "bool", labels))
            if md.sync_percent is not None:
                samples.append(Sample("md_array_sync_percent", md.sync_percent, "percent", labels))
            if md.degraded:
                what = f"{md.disks_up}/{md.disks_expected} disks" if md.disks_up else md.state
                rebuild = (
                    f", {md.sync_action} at {md.sync_percent:g} %"
                    if md.sync_percent is not None
                    else ""
                )
                problems.append(
                    f"md array {md.name} ({md.level}) is degraded: {what}"
                    + (f", {md.failed} failed" if md.failed else "")
                    + f"{rebuild}; see `mdadm --detail /dev/{md.name}`"
                )
        return bool(arrays)

    # --- btrfs --------------------------------------------------------------------------

    async def _btrfs(self, shell: Shell, samples: list[Sample], problems: list[str]) -> bool:
        mounts_out = await shell.run(["cat", "/proc/mounts"])
        mounts = btrfs_mounts(mounts_out.stdout) if mounts_out.exit_status == 0 else []
        for mount in mounts:
            result = await self._run(shell, ["btrfs", "device", "stats", mount], "btrfs")
            if result.exit_status != 0 and not result.stdout.strip():
                err = result.stderr.strip()[:300]
                if "not permitted" in err or "ermission denied" in err:
                    raise PluginError(
                        f"`btrfs device stats {mount}` on {shell.where} needs root ({err}): "
                        "turn on sudo or run Unity as root"
                    )
                raise PluginError(
                    f"`btrfs device stats {mount}` on {shell.where} failed: {err}; run it there "
                    "to see why, or turn off btrfs in this plugin"
                )
            try:
                devices = parse_btrfs_stats(result.stdout)
            except ValueError as exc:
                raise PluginError(
                    f"`btrfs device stats {mount}` on {shell.where} printed something "
                    f"unexpected ({describe_exc(exc)}); update btrfs-progs there (5.x or later) "
                    "or turn off btrfs in this plugin"
                ) from exc
            for device, stats in devices.items():
                labels = {"mount": mount, "device": device}
                for key, metric in BTRFS_ERRORS.items():
                    if key in stats:
                        samples.append(Sample(metric, float(stats[key]), "count", labels))
                bad = {k: v for k, v in stats.items() if v}
                if bad:
                    problems.append(
                        f"btrfs device {device} on {mount} has errors ("
                        + ", ".join(f"{k} {v}" for k, v in sorted(bad.items()))
                        + f"): check the disk; after fixing, reset with `btrfs device stats -z "
                        f"{mount}`"
                    )
        return bool(mounts)


PLUGIN = StoragePoolsPlugin
