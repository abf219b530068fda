"""The `storage_pools` plugin: real zfs-fuse pools on files, recorded mdadm/btrfs/OpenZFS outputs.

ZFS runs for real where /dev/fuse is usable (Debian's zfs-fuse daemon, file-backed pools
made and destroyed by the test). zfs-fuse's zpool is the old one (no -p, no frag), so the
OpenZFS format is checked on recorded outputs served by a real SSH server, as are mdadm
and btrfs, which need kernel arrays and filesystems a test cannot make here.
"""

from __future__ import annotations

import calendar
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.plugins.base import PluginContext, PluginError
from app.plugins.builtin._storage import parse_mdstat, parse_zpool_status
from app.plugins.builtin.storage_pools import StoragePoolsPlugin
from tests.live import stop_process

from .conftest import collect
from .ssh_commands import command_server, start_command_server
from .system_tools import require, tail

FIXTURES = Path(__file__).parent / "fixtures" / "storage"
ZPOOL_LIST = "zpool list -Hp -o name,size,alloc,free,frag,cap,health"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def make(tmp_path, **config) -> StoragePoolsPlugin:
    return StoragePoolsPlugin(StoragePoolsPlugin.Config(**config), PluginContext(4, tmp_path))


def get(samples, name, **labels):
    found = [s for s in samples if s.name == name and dict(s.labels) == labels]
    assert len(found) == 1, f"{name}{labels}: {[s for s in samples if s.name == name]}"
    return found[0]


# --- parsers on recorded outputs ---------------------------------------------------------


def test_mdstat_states():
    arrays = {a.name: a for a in parse_mdstat(fixture("mdstat.txt"))}
    assert not arrays["md3"].degraded and arrays["md3"].level == "raid6"
    assert arrays["md3"].size_bytes == 5853468288 * 1024
    assert arrays["md6"].degraded and arrays["md6"].sync_action == "recovery"
    assert arrays["md6"].sync_percent == 8.5
    assert not arrays["md8"].degraded and arrays["md8"].sync_action == "resync"
    assert arrays["md7"].degraded and (arrays["md7"].disks_up, arrays["md7"].disks_expected) == (
        3,
        4,
    )
    assert arrays["md9"].sync_action == "pending" and arrays["md9"].sync_percent is None
    assert arrays["md11"].level == "raid1" and not arrays["md11"].degraded
    assert arrays["md4"].degraded  # inactive
    assert arrays["md219"].spares == 3 and arrays["md219"].level == "unknown"


def test_openzfs_status_errors_and_scrub_time():
    from app.plugins.builtin._storage import ZfsPool

    pool = ZfsPool("tank", None, None, None, None, None, "ONLINE")
    parse_zpool_status(fixture("zpool_status_openzfs.txt"), {"tank": pool})
    assert (pool.read_errors, pool.write_errors, pool.checksum_errors) == (0, 1, 0)
    assert pool.data_errors == 0
    assert pool.last_scrub == calendar.timegm((2023, 1, 17, 18, 12, 0, 0, 0, 0))
    assert pool.status.startswith("One or more devices has experienced")


# --- over SSH: OpenZFS, mdadm and btrfs as a NAS shows them --------------------------------


def nas_answers(mdstat: str = "mdstat_healthy.txt", btrfs: bool = True):
    mounts = "/dev/sda2 /srv btrfs rw,relatime 0 0\n" if btrfs else ""
    return {
        ZPOOL_LIST: (0, fixture("zpool_list_Hp.txt"), ""),
        "zpool status -p": (0, fixture("zpool_status_openzfs.txt"), ""),
        "cat /proc/mdstat": (0, fixture(mdstat), ""),
        "cat /proc/mounts": (0, "proc /proc proc rw 0 0\n" + mounts, ""),
        "btrfs device stats /srv": (0, fixture("btrfs_device_stats.txt"), ""),
    }


async def test_nas_over_ssh_reports_all_three_and_fails_on_btrfs_errors(tmp_path, ssh_keys):
    async with command_server(ssh_keys["host"], nas_answers()) as server:
        plugin = make(tmp_path, **server.config(scrub_max_age_days=0))
        samples, reason = await collect(plugin)
    pool = {"pool": "tank"}
    assert get(samples, "zfs_pool_healthy", **pool).value == 1
    assert get(samples, "zfs_pool_size_bytes", **pool).value == 19998441472000
    assert get(samples, "zfs_pool_capacity_percent", **pool).value == 43
    assert get(samples, "zfs_pool_fragmentation_percent", **pool).value == 3
    assert get(samples, "zfs_pool_write_errors", **pool).value == 1
    assert get(samples, "zfs_pool_scrub_age_seconds", **pool).unit == "seconds"
    md = {"array": "md0", "level": "raid1"}
    assert get(samples, "md_array_healthy", **md).value == 1
    assert get(samples, "md_array_disks_active", **md).value == 2
    bad = {"mount": "/srv", "device": "/dev/sdb2"}
    assert get(samples, "btrfs_device_corruption_errors", **bad).value == 12
    assert get(samples, "btrfs_device_read_errors", mount="/srv", device="/dev/sda2").value == 0
    assert reason == (
        "btrfs device /dev/sdb2 on /srv has errors (corruption_errs 12, read_io_errs 3): "
        "check the disk; after fixing, reset with `btrfs device stats -z /srv`"
    )


async def test_degraded_md_array_and_overdue_scrub_fail_the_run(tmp_path, ssh_keys):
    async with command_server(ssh_keys["host"], nas_answers("mdstat.txt", btrfs=False)) as server:
        samples, reason = await collect(make(tmp_path, **server.config()))
    assert get(samples, "md_array_sync_percent", array="md6", level="raid1").value == 8.5
    assert get(samples, "md_array_degraded", array="md7", level="raid6").value == 1
    assert reason is not None
    assert "ZFS pool tank was last scrubbed" in reason and "zpool scrub tank" in reason
    assert (
        "md array md6 (raid1) is degraded: 1/2 disks, recovery at 8.5 %; "
        "see `mdadm --detail /dev/md6`" in reason
    )
    assert "md array md7 (raid6) is degraded: 3/4 disks" in reason


async def test_btrfs_without_root_says_to_use_sudo(tmp_path, ssh_keys):
    answers = nas_answers()
    answers["btrfs device stats /srv"] = (
        1,
        "",
        "ERROR: getting device info for /srv failed: Operation not permitted\n",
    )
    async with command_server(ssh_keys["host"], answers) as server:
        with pytest.raises(PluginError, match=r"btrfs device stats /srv` on 127.0.0.1 needs root"):
            await make(tmp_path, **server.config(zfs=False, mdadm=False)).collect_data()


async def test_missing_btrfs_tool_says_what_to_install(tmp_path, ssh_keys):
    answers = nas_answers()
    del answers["btrfs device stats /srv"]
    async with command_server(ssh_keys["host"], answers) as server:
        with pytest.raises(PluginError, match=r"btrfs is not installed on 127.0.0.1 .*btrfs-progs"):
            await make(tmp_path, **server.config(zfs=False)).collect_data()


async def test_nothing_to_check_is_a_clear_error(tmp_path, ssh_keys):
    answers = {
        "cat /proc/mdstat": (1, "", "cat: /proc/mdstat: No such file or directory\n"),
        "cat /proc/mounts": (0, "proc /proc proc rw 0 0\n", ""),
    }
    async with command_server(ssh_keys["host"], answers) as server:
        with pytest.raises(PluginError, match="no ZFS pool, mdadm array or btrfs filesystem found"):
            await make(tmp_path, **server.config()).collect_data()


async def test_malformed_zpool_output(tmp_path, ssh_keys):
    answers = nas_answers()
    answers[ZPOOL_LIST] = (0, "tank 1 2 3\n", "")
    async with command_server(ssh_keys["host"], answers) as server:
        with pytest.raises(PluginError, match=r"`zpool list` on 127.0.0.1 printed something"):
            await make(tmp_path, **server.config()).collect_data()


async def test_malformed_mdstat_and_btrfs_output_say_what_to_do(tmp_path, ssh_keys):
    answers = nas_answers()
    answers["cat /proc/mdstat"] = (0, "this is not mdstat\n", "")
    async with command_server(ssh_keys["host"], answers) as server:
        with pytest.raises(PluginError) as err:
            await make(tmp_path, **server.config(zfs=False, btrfs=False)).collect_data()
    assert str(err.value).startswith("/proc/mdstat on 127.0.0.1 is in an unexpected format")
    assert str(err.value).endswith(
        "run `cat /proc/mdstat` there to see it, or turn off Linux software RAID in this "
        "plugin if the host has no md arrays"
    )
    answers = nas_answers()
    answers["btrfs device stats /srv"] = (0, "[/dev/sda2] write_io_errs  many\n", "")
    async with command_server(ssh_keys["host"], answers) as server:
        with pytest.raises(PluginError, match=r"unexpected .*update btrfs-progs .*turn off btrfs"):
            await make(tmp_path, **server.config(zfs=False, mdadm=False)).collect_data()


async def test_wrong_ssh_password_and_unreachable_host(tmp_path, ssh_keys):
    server = await start_command_server(ssh_keys["host"], nas_answers())
    try:
        config = server.config(password="wrong")
        with pytest.raises(PluginError, match=r"SSH login as \S+@127.0.0.1 was refused"):
            await make(tmp_path, **config).collect_data()
    finally:
        await server.close()
    with pytest.raises(PluginError) as err:
        await make(tmp_path, **server.config()).collect_data()
    assert str(err.value).startswith(f"cannot connect to 127.0.0.1:{server.port} over SSH")
    assert str(err.value).endswith(
        "check the host name, the port and that the SSH server runs there"
    )


async def test_zpool_without_permission(tmp_path, ssh_keys):
    answers = nas_answers()
    answers[ZPOOL_LIST] = (1, "", "Permission denied the ZFS utilities must be run as root.\n")
    async with command_server(ssh_keys["host"], answers) as server:
        with pytest.raises(PluginError, match=r"may not read the pools .*turn on sudo"):
            await make(tmp_path, **server.config()).collect_data()


async def test_this_machine_has_nothing_to_check(tmp_path):
    mounts = Path("/proc/mounts").read_text()
    if Path("/proc/mdstat").exists() or " btrfs " in mounts or ZFS_SOCKET.exists():
        pytest.skip("this machine has md, btrfs or a running ZFS")
    with pytest.raises(PluginError) as err:
        await make(tmp_path).collect_data()
    assert str(err.value).startswith(
        "no ZFS pool, mdadm array or btrfs filesystem found on this host"
    )


async def test_zfs_not_running_is_skipped_not_an_error(tmp_path, ssh_keys):
    answers = nas_answers()
    answers[ZPOOL_LIST] = (
        1,
        "",
        "The ZFS modules are not loaded.\nTry running '/sbin/modprobe zfs' as root to load them.\n",
    )
    async with command_server(ssh_keys["host"], answers) as server:
        samples, _ = await collect(make(tmp_path, **server.config()))
    assert not [s for s in samples if s.name.startswith("zfs_")]
    assert get(samples, "md_array_healthy", array="md0", level="raid1").value == 1


def test_bad_config_is_refused():
    with pytest.raises(ValidationError):
        StoragePoolsPlugin.Config(host="nas.lan", username="u")
    with pytest.raises(ValidationError):
        StoragePoolsPlugin.Config(scrub_max_age_days=-1)


# --- real ZFS (zfs-fuse) on file-backed pools --------------------------------------------

ZFS_SOCKET = Path("/var/run/zfs/zfs_socket")


@dataclass
class ZfsFuse:
    zpool: str
    pool: str
    files: list[Path]

    def zpool_cmd(self, *args: str) -> str:
        proc = subprocess.run([self.zpool, *args], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout


@pytest.fixture
def zfs_fuse(tmp_path: Path) -> Iterator[ZfsFuse]:
    daemon = require("zfs-fuse", "zfs-fuse")
    zpool = require("zpool", "zfs-fuse")
    if not os.access("/dev/fuse", os.R_OK | os.W_OK) or os.geteuid() != 0:
        # Not a missing package: this machine cannot run FUSE. The recorded outputs remain.
        pytest.skip("zfs-fuse needs root and a usable /dev/fuse")
    if ZFS_SOCKET.exists():
        pytest.skip("a zfs-fuse daemon is already running on this machine; not touching it")
    log = tmp_path / "zfs-fuse.log"
    proc = subprocess.Popen(
        [daemon, "--no-daemon", "--no-kstat-mount", "-m", "16"],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    pool = f"unitytest{os.getpid()}"
    files = [tmp_path / "disk1.img", tmp_path / "disk2.img"]
    created = False
    try:
        deadline = time.monotonic() + 15
        while not ZFS_SOCKET.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"zfs-fuse did not start:\n{tail(log)}")
            time.sleep(0.1)
        for f in files:
            with f.open("wb") as fh:
                fh.truncate(128 * 1024 * 1024)
        made = subprocess.run(
            [zpool, "create", "-m", "none", pool, "mirror", *map(str, files)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert made.returncode == 0, made.stderr
        created = True
        yield ZfsFuse(zpool, pool, files)
    finally:
        if created:
            subprocess.run([zpool, "destroy", "-f", pool], capture_output=True, timeout=60)
        stop_process(proc, 30, 10)


async def test_real_zfs_pool_goes_degraded_and_is_scrubbed(tmp_path, zfs_fuse):
    plugin = make(tmp_path, mdadm=False, btrfs=False)
    samples, reason = await collect(plugin)
    pool = {"pool": zfs_fuse.pool}
    assert reason is None
    assert get(samples, "zfs_pool_healthy", **pool).value == 1
    size = get(samples, "zfs_pool_size_bytes", **pool).value
    assert 100 * 1024**2 < size <= 128 * 1024**2  # "123M": the old zpool rounds
    assert get(samples, "zfs_pool_capacity_percent", **pool).value < 5
    assert not [s for s in samples if s.name == "zfs_pool_scrub_age_seconds"]  # never scrubbed

    zfs_fuse.zpool_cmd("scrub", zfs_fuse.pool)
    deadline = time.monotonic() + 30
    while "scrub completed" not in zfs_fuse.zpool_cmd("status", zfs_fuse.pool):
        assert time.monotonic() < deadline, "scrub did not finish"
        time.sleep(0.2)
    zfs_fuse.zpool_cmd("offline", zfs_fuse.pool, str(zfs_fuse.files[1]))

    samples, reason = await collect(plugin)
    assert get(samples, "zfs_pool_healthy", **pool).value == 0
    assert 0 <= get(samples, "zfs_pool_scrub_age_seconds", **pool).value < 120
    assert reason is not None
    assert reason.startswith(f"ZFS pool {zfs_fuse.pool} is DEGRADED (One or more devices")
    assert reason.endswith(f"see `zpool status {zfs_fuse.pool}`")
