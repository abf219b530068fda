"""The `system` plugin against the real host: values match what psutil and the kernel say."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import namedtuple

import psutil
import pytest
from pydantic import ValidationError

from app.plugins.base import PluginContext, validate_samples
from app.plugins.builtin import system
from app.plugins.builtin._common import is_pseudo_filesystem
from app.plugins.builtin.system import SystemPlugin


def by_name(samples, name):
    return [s for s in samples if s.name == name]


def one(samples, name, **labels):
    found = [s for s in samples if s.name == name and dict(s.labels) == labels]
    assert len(found) == 1, f"expected one {name}{labels}, got {found}"
    return found[0]


def make(tmp_path, **config):
    return SystemPlugin(SystemPlugin.Config(**config), PluginContext(1, tmp_path))


async def test_first_run_reports_cpu_memory_disk_load_uptime(tmp_path):
    plugin = make(tmp_path)
    samples = validate_samples(await plugin.collect_data(), 10_000)

    cpu = one(samples, "cpu_percent")
    assert cpu.unit == "percent" and 0.0 <= cpu.value <= 100.0
    cores = [s for s in by_name(samples, "cpu_percent") if "core" in s.labels]
    assert sorted(s.labels["core"] for s in cores) == sorted(
        str(i) for i in range(psutil.cpu_count())
    )

    total = one(samples, "memory_total")
    assert total.unit == "bytes" and total.value == psutil.virtual_memory().total
    used = one(samples, "memory_used")
    assert 0 < used.value < total.value
    assert 0 < one(samples, "memory_percent").value < 100

    root = one(samples, "disk_total", mount="/")
    assert root.unit == "bytes"
    assert root.value == psutil.disk_usage("/").total
    assert one(samples, "disk_percent", mount="/").unit == "percent"

    loads = {s.labels["period"]: s.value for s in by_name(samples, "load_average")}
    assert set(loads) == {"1m", "5m", "15m"}
    assert loads["1m"] == pytest.approx(os.getloadavg()[0], abs=2.0)

    uptime = one(samples, "uptime")
    assert uptime.unit == "seconds"
    assert uptime.value == pytest.approx(time.time() - psutil.boot_time(), abs=5)
    procs = one(samples, "process_count")
    assert procs.unit == "count" and procs.value >= 1

    # Rates need a previous reading: the first run has none (documented in PLUGINS.md).
    assert not by_name(samples, "disk_read_rate")
    assert not by_name(samples, "network_receive_rate")


async def test_second_run_reports_network_rate_for_traffic_we_made(tmp_path):
    plugin = make(tmp_path, exclude_interfaces=[], per_core=False)
    await plugin.collect_data()

    payload = 8 * 1024 * 1024
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def sink():
        conn, _ = server.accept()
        with conn:
            while conn.recv(1 << 16):
                pass

    t = threading.Thread(target=sink)
    t.start()
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.sendall(b"x" * payload)
    t.join()
    server.close()
    time.sleep(0.2)

    samples = await plugin.collect_data()
    elapsed = time.monotonic() - start
    lo_rx = one(samples, "network_receive_rate", interface="lo")
    assert lo_rx.unit == "bytes/s"
    # At least our payload went through lo during (at most) this window plus the first run.
    assert lo_rx.value >= payload / (elapsed + 5)
    assert one(samples, "disk_write_rate").unit == "bytes/s"
    assert one(samples, "disk_read_rate").value >= 0
    assert not [s for s in by_name(samples, "cpu_percent") if s.labels]  # per_core off


async def test_lo_is_skipped_by_default_and_prefix_patterns_work(tmp_path):
    plugin = make(tmp_path, exclude_interfaces=["l*", "eth*"])
    await plugin.collect_data()
    samples = await plugin.collect_data()
    ifaces = {s.labels["interface"] for s in by_name(samples, "network_receive_rate")}
    assert "lo" not in ifaces and not any(i.startswith("eth") for i in ifaces)


async def test_mount_filter(tmp_path):
    samples = await make(tmp_path, mounts=["/"]).collect_data()
    assert {s.labels["mount"] for s in by_name(samples, "disk_used")} == {"/"}
    samples = await make(tmp_path, mounts=["/does-not-exist"]).collect_data()
    assert not by_name(samples, "disk_used")


async def test_temperatures_and_fans_are_reported_per_sensor(tmp_path, monkeypatch):
    # No sensor chip exists on the machines running these tests (a laptop or NAS has them),
    # so psutil's answer is given here in its documented shape.
    Temp = namedtuple("Temp", "label current high critical")
    Fan = namedtuple("Fan", "label current")
    monkeypatch.setattr(
        system.psutil,
        "sensors_temperatures",
        lambda: {"coretemp": [Temp("Package id 0", 51.0, 80, 100), Temp("", 47.5, 80, 100)]},
        raising=False,
    )
    monkeypatch.setattr(
        system.psutil,
        "sensors_fans",
        lambda: {"nct6798": [Fan("", 1021), Fan("cpu_fan", 0)]},
        raising=False,
    )
    samples = await make(tmp_path).collect_data()
    hot = one(samples, "temperature_celsius", chip="coretemp", sensor="Package id 0")
    assert hot.value == 51.0
    t2 = one(samples, "temperature_celsius", chip="coretemp", sensor="temp2")
    assert t2.unit == "celsius" and t2.value == 47.5
    fan = one(samples, "fan_rpm", chip="nct6798", fan="fan1")
    assert fan.unit == "rpm" and fan.value == 1021
    assert one(samples, "fan_rpm", chip="nct6798", fan="cpu_fan").value == 0
    samples = await make(tmp_path, temperatures=False).collect_data()
    assert not by_name(samples, "temperature_celsius") and not by_name(samples, "fan_rpm")


def test_config_refuses_unknown_keys():
    with pytest.raises(ValidationError, match="percore"):
        SystemPlugin.Config(percore=True)


def test_real_disks_under_run_media_are_kept_and_runtime_trees_are_not() -> None:
    assert not is_pseudo_filesystem("ext4", "/run/media/alice/backup")
    assert not is_pseudo_filesystem("vfat", "/media/usb")
    assert is_pseudo_filesystem("ext4", "/run/user/1000/doc")
    assert is_pseudo_filesystem("tmpfs", "/mnt/scratch")
