"""The `smart` plugin: the real smartctl binary here, recorded outputs of real drives, and SSH.

This machine has no SMART-capable disk, so the real binary is exercised on its error paths
(no disks found, no such device, unknown device type, permission denied); the parsing of
healthy and failing drives uses smartctl outputs of real drives kept in fixtures/smartctl/.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.plugins.base import PluginContext, PluginError
from app.plugins.builtin import _shell
from app.plugins.builtin._shell import LocalShell
from app.plugins.builtin.smart import SmartPlugin, parse_device, scan_devices

from .conftest import collect
from .ssh_commands import command_server
from .system_tools import require

FIXTURES = Path(__file__).parent / "fixtures" / "smartctl"
HDD = "sata_hdd_wdc_wd140edfz.json"
SSD = "sata_ssd_samsung_mz7wd240.json"
NVME = "nvme_intel_ssdpeknw010t8.json"
FAILING = "failing_hdd_hitachi_hds721050.json"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def make(tmp_path, **config) -> SmartPlugin:
    return SmartPlugin(SmartPlugin.Config(**config), PluginContext(5, tmp_path))


def by_name(samples) -> dict[str, float]:
    return {s.name: s.value for s in samples}


@pytest.fixture
def smartctl() -> str:
    return require("smartctl", "smartmontools")


# --- parsing real drives ---------------------------------------------------------------


def test_sata_hdd():
    samples, verdict = parse_device(json.loads(fixture(HDD)), "/dev/x")
    assert verdict is True
    assert by_name(samples) == {
        "disk_healthy": 1,
        "disk_temperature_celsius": 32,
        "disk_power_on_seconds": 1730 * 3600,
        "disk_power_cycles_total": 9,
        "disk_reallocated_sectors": 0,
        "disk_pending_sectors": 0,
        "disk_offline_uncorrectable_sectors": 0,
    }
    assert samples[0].labels == {
        "device": "/dev/sdb",
        "model": "WDC WD140EDFZ-11A0VA0",
        "serial": "9RK1XXXX",
    }
    units = {s.name: s.unit for s in samples}
    assert units["disk_healthy"] == "bool" and units["disk_power_on_seconds"] == "seconds"


def test_sata_ssd():
    samples, verdict = parse_device(json.loads(fixture(SSD)), "/dev/x")
    v = by_name(samples)
    assert verdict is True and v["disk_healthy"] == 1
    assert v["disk_temperature_celsius"] == 27
    assert v["disk_power_on_seconds"] == 84619 * 3600
    assert v["disk_reallocated_sectors"] == 0
    assert "disk_pending_sectors" not in v  # this SSD does not report attribute 197
    assert samples[0].labels["model"] == "SAMSUNG MZ7WD240HAFV-00003"


def test_nvme():
    samples, verdict = parse_device(json.loads(fixture(NVME)), "/dev/x")
    v = by_name(samples)
    assert verdict is True
    assert v["disk_endurance_used_percent"] == 0
    assert v["disk_available_spare_percent"] == 100
    assert v["disk_media_errors_total"] == 0
    assert v["disk_temperature_celsius"] == 36
    assert v["disk_power_on_seconds"] == 2401 * 3600
    assert "disk_reallocated_sectors" not in v
    assert samples[0].labels["serial"] == "BTNH93710FS91P0B"


def test_failing_drive():
    samples, verdict = parse_device(json.loads(fixture(FAILING)), "/dev/x")
    v = by_name(samples)
    assert verdict is False and v["disk_healthy"] == 0
    assert v["disk_reallocated_sectors"] == 1975
    assert v["disk_pending_sectors"] == 8


def test_scan_output_is_checked_like_user_input():
    doc = {
        "smartctl": {},
        "devices": [
            {"name": "/dev/sda", "type": "sat"},
            {"name": "/dev/nvme0", "type": "nvme"},
            {"name": "/dev/sda; reboot", "type": "sat"},
            {"name": "/dev/../etc/passwd", "type": "sat"},
            {"name": "/dev/sdb", "type": "--evil"},
        ],
    }
    assert scan_devices(doc) == [("/dev/sda", "sat"), ("/dev/nvme0", "nvme"), ("/dev/sdb", None)]


# --- the real smartctl binary on this machine ------------------------------------------


async def test_real_smartctl_finds_no_disks_here(tmp_path, smartctl):
    scan = subprocess.run([smartctl, "--scan-open", "--json"], capture_output=True, text=True)
    if json.loads(scan.stdout).get("devices"):
        pytest.skip("this machine has SMART-capable disks; the no-disk sentence cannot show")
    with pytest.raises(PluginError, match=r"smartctl found no disks on this host .*devices:"):
        await make(tmp_path).collect_data()


async def test_real_smartctl_missing_device(tmp_path, smartctl):
    # smartctl knows /dev/sdX names, so it tries to open this one (and finds nothing).
    plugin = make(tmp_path, devices=["/dev/sdzz"])
    with pytest.raises(PluginError) as err:
        await plugin.collect_data()
    assert str(err.value).startswith("/dev/sdzz does not exist on this host")
    assert "smartctl --scan" in str(err.value)


async def test_real_smartctl_device_that_is_not_a_disk(tmp_path, smartctl):
    with pytest.raises(PluginError, match=r"cannot tell what kind of disk /dev/null is"):
        await make(tmp_path, devices=["/dev/null"]).collect_data()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a device node and drop to nobody")
async def test_real_smartctl_permission_denied_says_how_to_pass_the_disk(tmp_path, smartctl):
    require("runuser", "util-linux")
    # A root-only block device node (loop0's numbers), opened by smartctl as nobody.
    node = Path(f"/dev/unity-test-disk-{os.getpid()}")
    os.mknod(node, 0o600 | stat.S_IFBLK, os.makedev(7, 0))
    try:
        plugin = make(tmp_path, devices=[str(node)], device_type="sat")
        shell = LocalShell(10, sudo=False)
        shell.prefix = ["runuser", "-u", "nobody", "--"]
        with pytest.raises(PluginError) as err:
            await plugin.collect_with(shell)
    finally:
        node.unlink()
    text = str(err.value)
    assert text.startswith(f"smartctl may not open {node} on this host")
    assert "Permission denied" in text and "cap_add" in text and "devices:" in text


async def test_missing_smartctl_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(_shell, "SBIN_PATH", str(tmp_path))
    with pytest.raises(
        PluginError, match=r"smartctl is not installed on this host .*smartmontools"
    ):
        await make(tmp_path, devices=["/dev/sda"]).collect_data()


# --- over SSH, with sudo ----------------------------------------------------------------

SCAN = json.dumps(
    {
        "smartctl": {"exit_status": 0},
        "devices": [
            {"name": "/dev/sda", "type": "sat"},
            {"name": "/dev/sdc", "type": "sat"},
            {"name": "/dev/nvme0", "type": "nvme"},
        ],
    }
)


def disk_answers(prefix: str = "sudo -n ") -> dict[str, tuple[int, str, str]]:
    return {
        f"{prefix}smartctl --scan-open --json": (0, SCAN, ""),
        f"{prefix}smartctl --json -a -d sat /dev/sda": (0, fixture(SSD), ""),
        f"{prefix}smartctl --json -a -d sat /dev/sdc": (216, fixture(FAILING), ""),
        f"{prefix}smartctl --json -a -d nvme /dev/nvme0": (0, fixture(NVME), ""),
    }


@pytest.fixture
async def ssh_disks(ssh_keys):
    async with command_server(ssh_keys["host"], disk_answers()) as server:
        yield server


async def test_over_ssh_with_sudo_a_failing_disk_fails_the_run(tmp_path, ssh_disks):
    plugin = make(tmp_path, **ssh_disks.config(use_sudo=True))
    samples, reason = await collect(plugin)
    healthy = {s.labels["device"]: s.value for s in samples if s.name == "disk_healthy"}
    # The NVMe fixture's recorded device name is the publisher's placeholder.
    assert healthy == {"/dev/sda": 1, "/dev/sdc": 0, "/dev/testfoobarpass": 1}
    assert reason == (
        "disk /dev/sdc (Hitachi HDS721050DLE630, serial MSK423Y20S3HBC) FAILS its SMART "
        "health check: back up its data and replace it"
    )
    assert ssh_disks.commands[0] == "sudo -n smartctl --scan-open --json"
    assert (tmp_path / "ssh" / "known_hosts").exists()  # pinned like the ssh plugin does


async def test_over_ssh_healthy_disks_pass(tmp_path, ssh_disks):
    plugin = make(tmp_path, **ssh_disks.config(use_sudo=True, devices=["/dev/sda"]))
    plugin.config.device_type = "sat"
    samples, reason = await collect(plugin)
    assert reason is None and by_name(samples)["disk_healthy"] == 1


async def test_sudo_asking_for_a_password_says_how_to_allow_it(tmp_path, ssh_keys):
    answers = {
        "sudo -n smartctl --scan-open --json": (1, "", "sudo: a password is required\n"),
    }
    async with command_server(ssh_keys["host"], answers) as server:
        with pytest.raises(
            PluginError, match=r"sudo on 127\.0\.0\.1 asked for a password.*NOPASSWD"
        ):
            await make(tmp_path, **server.config(use_sudo=True)).collect_data()


async def test_permission_denied_over_ssh_suggests_sudo(tmp_path, ssh_keys):
    denied = json.dumps(
        {
            "smartctl": {
                "exit_status": 2,
                "messages": [
                    {
                        "string": "Smartctl open device: /dev/sda failed: Permission denied",
                        "severity": "error",
                    }
                ],
            }
        }
    )
    answers = {"smartctl --json -a /dev/sda": (2, denied, "")}
    async with command_server(ssh_keys["host"], answers) as server:
        with pytest.raises(PluginError, match=r"may not open /dev/sda on 127.0.0.1 .*turn on sudo"):
            await make(tmp_path, **server.config(devices=["/dev/sda"])).collect_data()


async def test_missing_smartctl_over_ssh(tmp_path, ssh_keys):
    async with command_server(ssh_keys["host"], {}) as server:
        with pytest.raises(PluginError, match=r"smartctl is not installed on 127.0.0.1"):
            await make(tmp_path, **server.config()).collect_data()


async def test_output_that_is_not_json(tmp_path, ssh_keys):
    answers = {"smartctl --scan-open --json": (1, "smartctl 6.2: unknown option --json\n", "")}
    async with command_server(ssh_keys["host"], answers) as server:
        with pytest.raises(PluginError, match=r"did not print JSON .*7.0 or newer"):
            await make(tmp_path, **server.config()).collect_data()


async def test_wrong_ssh_password_and_unreachable_host(tmp_path, ssh_disks):
    config = ssh_disks.config(password="wrong")
    with pytest.raises(PluginError, match=r"SSH login as monitor@127.0.0.1 was refused"):
        await make(tmp_path, **config).collect_data()
    await ssh_disks.close()
    with pytest.raises(PluginError, match=f"cannot connect to 127.0.0.1:{ssh_disks.port} over SSH"):
        await make(tmp_path, **ssh_disks.config()).collect_data()


@pytest.mark.parametrize(
    "config",
    [
        {"devices": ["sda"]},
        {"devices": ["/dev/sda; reboot"]},
        {"devices": ["/dev/../etc/shadow"]},
        {"device_type": "-d sat"},
        {"host": "nas.lan"},
        {"host": "nas.lan", "username": "u"},
        {"host": "nas.lan", "username": "u", "password": "p", "key_file": "/etc/key"},
    ],
)
def test_bad_config_is_refused(config):
    with pytest.raises(ValidationError):
        SmartPlugin.Config(**config)


def test_secrets():
    assert set(SmartPlugin.secret_fields()) == {"password", "private_key", "private_key_passphrase"}


# --- the health change, through the API as a user sees it --------------------------------


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'homelab.db'}"


async def test_a_disk_that_starts_failing_turns_the_plugin_degraded(client, admin, ssh_keys):
    command = "smartctl --json -a /dev/sda"
    async with command_server(ssh_keys["host"], {command: (0, fixture(SSD), "")}) as server:
        r = await client.post(
            "/api/v1/plugins",
            json={
                "name": "nas disks",
                "type": "smart",
                "config": server.config(devices=["/dev/sda"]),
                "interval_seconds": 3600,
            },
            headers=admin,
        )
        assert r.status_code == 201, r.text
        assert r.json()["config"]["password"] == "********"
        pid = r.json()["id"]
        run = (await client.post(f"/api/v1/plugins/{pid}/run", headers=admin)).json()
        assert run["status"] == "success", run

        server.answers[command] = (216, fixture(FAILING), "")
        run = (await client.post(f"/api/v1/plugins/{pid}/run", headers=admin)).json()
        assert run["status"] == "error"
        assert "FAILS its SMART health check" in run["error"]
        health = (await client.get(f"/api/v1/plugins/{pid}/health", headers=admin)).json()
        assert health["status"] == "degraded"
