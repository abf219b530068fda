"""Top processes, temperatures and fans of both host plugins (system locally, ssh remotely).

Processes are this machine's real ones: a busy shell started by the test, read through
psutil, through /proc and over a real SSH server on loopback that runs the real commands.
No sensor chip exists here, so `sensors -j` answers come from fixtures in lm-sensors' layout
(see fixtures/sensors/README.md).
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
from pathlib import Path

import psutil
import pytest
from pydantic import ValidationError

from app.main import create_app
from app.plugins.base import HostPaths, PluginContext, PluginError, validate_samples
from app.plugins.builtin._host import (
    MAX_TOP_PROCESSES,
    ProcessReading,
    parse_net_dev,
    parse_proc_pid_stat,
    parse_sensors_json,
    top_process_samples,
)
from app.plugins.builtin.ssh import SshPlugin
from app.plugins.builtin.system import SystemPlugin
from tests.conftest import make_settings

from .conftest import SSH_PASSWORD, SSH_USER

SENSORS = Path(__file__).parent / "fixtures" / "sensors"
NET_DEV = Path(__file__).parent / "fixtures" / "procfs" / "net_dev"
BURNER = "unity-burner"


def labelled(samples, name):
    return {s.labels["process"]: s.value for s in samples if s.name == name}


@pytest.fixture
def burner(tmp_path):
    """A shell spinning on one core, named `unity-burner` (the name comes from the link)."""
    link = tmp_path / BURNER
    link.symlink_to("/bin/sh")
    proc = subprocess.Popen(
        [f"./{BURNER}", "-c", "while :; do :; done", "secret-arg"], cwd=tmp_path
    )
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


async def _spent_a_tick(pid: int) -> None:
    """Wait until the process has used one more clock tick of CPU (a loaded machine can keep
    a spinning process off the CPU for a while); bounded, no timing asserted."""
    start = _cpu_ticks(pid)
    for _ in range(200):
        if _cpu_ticks(pid) > start:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the burner got no CPU for 10 s")


def make_system(tmp_path, host: HostPaths | None = None, **config):
    return SystemPlugin(SystemPlugin.Config(**config), PluginContext(1, tmp_path, host=host))


def make_ssh(tmp_path, port, **config):
    cfg = {"host": "127.0.0.1", "port": port, "username": SSH_USER, "password": SSH_PASSWORD}
    return SshPlugin(SshPlugin.Config(**cfg, **config), PluginContext(7, tmp_path))


# --- parsing -------------------------------------------------------------------------------


def test_proc_pid_stat_lines_match_what_psutil_reads():
    me = psutil.Process()
    text = Path(f"/proc/{me.pid}/stat").read_text()
    # A name with spaces and parentheses must not shift the fields.
    tricky = text.replace(f"({me.name()})", "(a (b) c)")
    ticks, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    for line, name in ((text, me.name()), (tricky, "a (b) c")):
        reading = parse_proc_pid_stat(line, ticks, page)[me.pid]
        assert reading.key == name
        assert reading.memory_bytes == pytest.approx(me.memory_info().rss, rel=0.2)
        times = me.cpu_times()
        assert reading.cpu_seconds <= times.user + times.system + 0.01


def test_top_processes_group_by_name_and_stay_bounded():
    prev = {pid: ProcessReading(f"p{pid % 30}", 1.0, 1.0, 0.0) for pid in range(60)}
    cur = {
        pid: ProcessReading(f"p{pid % 30}", 1.0, 1.0 + pid / 100, pid * 1e6) for pid in range(60)
    }
    cur[1000] = ProcessReading("fresh", 5.0, 99.0, 1.0)  # first seen: memory, no CPU yet
    cur[5] = ProcessReading("p5", 2.0, 50.0, 5e6)  # pid reused since: no CPU either
    samples = top_process_samples(prev, cur, 2.0, 3)
    cpu = labelled(samples, "process_cpu_percent")
    mem = labelled(samples, "process_memory_bytes")
    assert set(cpu) == set(mem) and 3 <= len(cpu) <= 6
    # p29 = pids 29 and 59: (0.29 + 0.59) CPU seconds in 2 s
    assert cpu["p29"] == pytest.approx(44.0)
    assert mem["p29"] == (29 + 59) * 1e6
    assert cpu.get("fresh", 0.0) == 0.0
    p5 = top_process_samples(prev, cur, 2.0, 30)
    assert labelled(p5, "process_cpu_percent")["p5"] == pytest.approx(17.5)  # pid 35 only
    assert top_process_samples(prev, cur, 2.0, 0) == []


@pytest.mark.parametrize(
    ("fixture", "temps", "fans"),
    [
        ("intel-nct6798-nvme.json", 8, 2),
        ("raspberry-pi-4.json", 1, 0),
        ("amd-k10temp-amdgpu.json", 4, 1),
    ],
)
def test_sensors_json_gives_temperatures_and_fans_only(fixture, temps, fans):
    samples = parse_sensors_json((SENSORS / fixture).read_text())
    assert len([s for s in samples if s.name == "temperature_celsius"]) == temps
    assert len([s for s in samples if s.name == "fan_rpm"]) == fans
    assert {s.unit for s in samples} <= {"celsius", "rpm"}


def test_sensors_json_values_and_labels():
    samples = parse_sensors_json((SENSORS / "intel-nct6798-nvme.json").read_text())
    got = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in samples}
    chip = ("chip", "coretemp-isa-0000")
    assert got[("temperature_celsius", (chip, ("sensor", "Package id 0")))] == 47.0
    nvme = ("chip", "nvme-pci-0100")
    assert got[("temperature_celsius", (nvme, ("sensor", "Composite")))] == 36.85
    fans = ("chip", "nct6798-isa-0290")
    assert got[("fan_rpm", (fans, ("fan", "fan2")))] == 1021.0
    assert got[("fan_rpm", (fans, ("fan", "fan1")))] == 0.0  # a stopped fan is a value


# --- the system plugin ---------------------------------------------------------------------


async def test_system_reports_the_busiest_processes_by_name(tmp_path, burner):
    # The machine is shared, so the spinning shell is among the top 20, not necessarily first.
    plugin = make_system(tmp_path, top_processes=MAX_TOP_PROCESSES)
    samples = validate_samples(await plugin.collect_data(), 10_000)  # two readings, 0.25 s
    cpu = labelled(samples, "process_cpu_percent")
    assert BURNER in cpu and cpu[BURNER] > 0
    assert set(cpu) == set(labelled(samples, "process_memory_bytes"))
    samples = await make_system(tmp_path, top_processes=3).collect_data()
    assert 3 <= len(labelled(samples, "process_cpu_percent")) <= 6
    assert not any("secret-arg" in name for name in cpu)  # names only: no arguments leak
    assert next(s for s in samples if s.name == "process_cpu_percent").unit == "percent"


async def test_system_reads_processes_at_most_every_scan_period(tmp_path, burner, monkeypatch):
    # At a 1 s interval the /proc/<pid> scan runs every PROCESS_SCAN_SECONDS, not every run;
    # the runs between keep every other value. The clock is the plugin's own record of its
    # last scan, moved back by hand: nothing here depends on how fast the machine is.
    from app.plugins.builtin import system

    monkeypatch.setattr(system, "PROCESS_SCAN_SECONDS", 3600.0)
    plugin = make_system(tmp_path, top_processes=MAX_TOP_PROCESSES)
    assert BURNER in labelled(await plugin.collect_data(), "process_cpu_percent")
    # A run within the same clock tick as the last sees no CPU time pass and rightly reports no
    # cpu_percent (a gap, not a made-up 0); a run a second later always sees ticks pass.
    await _spent_a_tick(burner.pid)
    between = await plugin.collect_data()
    assert not labelled(between, "process_cpu_percent")
    assert not labelled(between, "process_memory_bytes")
    assert {"cpu_percent", "memory_used", "load_average"} <= {s.name for s in between}
    at, readings = plugin._procs
    plugin._procs = (at - 3600.0, readings)  # the period has passed
    await _spent_a_tick(burner.pid)  # so its CPU since the last scan is above zero
    cpu = labelled(await plugin.collect_data(), "process_cpu_percent")
    # CPU % over the time since the last scan (an hour, as far as the plugin knows): the
    # spinning shell used well under 1 % of one core over that.
    assert BURNER in cpu and 0 < cpu[BURNER] < 1


async def test_system_command_lines_only_when_enabled(tmp_path, burner):
    plugin = make_system(tmp_path, top_processes=MAX_TOP_PROCESSES, process_command_lines=True)
    samples = await plugin.collect_data()
    assert any("secret-arg" in key for key in labelled(samples, "process_memory_bytes"))
    plugin = make_system(tmp_path, top_processes=0)
    assert not labelled(await plugin.collect_data(), "process_memory_bytes")


@pytest.mark.parametrize("bad", [-1, 21, 1000])
def test_top_processes_is_bounded(bad):
    with pytest.raises(ValidationError, match="top_processes"):
        SystemPlugin.Config(top_processes=bad)
    with pytest.raises(ValidationError, match="top_processes"):
        SshPlugin.Config(host="h", username="u", password="p", top_processes=bad)


async def test_system_reads_the_host_through_host_proc_and_host_root(tmp_path, monkeypatch):
    # As in the container: the host's /proc and / are mounted elsewhere. Here they are links
    # to this machine's own, so the figures must be the same as read directly.
    monkeypatch.setattr(psutil, "PROCFS_PATH", psutil.PROCFS_PATH)  # restored afterwards
    (tmp_path / "proc").symlink_to("/proc")
    (tmp_path / "root").symlink_to("/")
    host = HostPaths(proc=tmp_path / "proc", root=tmp_path / "root")
    # psutil's procfs is process-wide: start-up (create_app) sets it from HOST_PROC, once.
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'unity.db'}"
    settings = make_settings(db_url, tmp_path, host_proc=host.proc, host_root=host.root)
    create_app(settings, migrate_on_start=False)
    plugin = make_system(tmp_path, host=host)
    assert str(tmp_path / "proc") == psutil.PROCFS_PATH
    samples = await plugin.collect_data()
    total = next(s for s in samples if s.name == "memory_total")
    assert total.value == psutil.virtual_memory().total
    mounts = {s.labels["mount"]: s.value for s in samples if s.name == "disk_total"}
    assert mounts.get("/") == psutil.disk_usage("/").total


def _host_procfs(tmp_path: Path) -> Path:
    """A procfs like the container's /host/proc: this machine's, except PID 1's own directory,
    which holds only what the system plugin reads there (the test writes `1/net/dev`)."""
    proc = tmp_path / "proc"
    proc.mkdir()
    for entry in os.listdir("/proc"):
        if entry != "1":
            (proc / entry).symlink_to(f"/proc/{entry}")
    (proc / "1").mkdir()
    for entry in ("mounts", "stat", "status"):
        (proc / "1" / entry).symlink_to(f"/proc/1/{entry}")
    return proc


def _bumped(table: str, nic: str, received: int, sent: int) -> str:
    """A /proc/net/dev table with one interface's byte counters raised."""
    out = []
    for line in table.splitlines():
        name, sep, rest = line.partition(":")
        if sep and name.strip() == nic:
            f = rest.split()
            f[0], f[8] = str(int(f[0]) + received), str(int(f[8]) + sent)
            line = f"{name}: {' '.join(f)}"
        out.append(line)
    return "\n".join(out) + "\n"


async def test_system_takes_network_rates_from_the_hosts_namespace(tmp_path, monkeypatch):
    # A mounted host procfs: <procfs>/net follows the reader's own network namespace (in a
    # container, the container's), so the host's interfaces are read from PID 1's table. Here
    # PID 1's table is a recorded one (fixtures/procfs/net_dev: `cat /proc/1/net/dev` of a
    # Debian test machine) with a made-up "hosteth0" added, so only that path can produce it.
    monkeypatch.setattr(psutil, "PROCFS_PATH", psutil.PROCFS_PATH)
    proc = _host_procfs(tmp_path)
    (proc / "1" / "net").mkdir()
    dev = proc / "1" / "net" / "dev"
    recorded = NET_DEV.read_text() + "hosteth0: 1000 1 0 0 0 0 0 0 2000 1 0 0 0 0 0 0\n"
    dev.write_text(recorded)
    host = HostPaths(proc=proc, root=Path("/"))
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'u.db'}", tmp_path, host_proc=proc)
    create_app(settings, migrate_on_start=False)
    plugin = make_system(tmp_path, host=host)
    await plugin.collect_data()
    dev.write_text(_bumped(_bumped(recorded, "hosteth0", 4000, 0), "eth0", 0, 1000))
    samples = await plugin.collect_data()
    received = {s.labels["interface"]: s.value for s in samples if s.name == "network_receive_rate"}
    sent = {s.labels["interface"]: s.value for s in samples if s.name == "network_transmit_rate"}
    # Every interface of the recorded table but `lo` (skipped by default), and nothing else.
    assert set(received) == {"ifb0", "ifb1", "eth0", "hosteth0"}
    assert received["hosteth0"] > 0 and sent["hosteth0"] == 0
    assert sent["eth0"] > 0 and received["eth0"] == 0


async def test_system_falls_back_to_its_own_interfaces_and_says_so_once(tmp_path, monkeypatch):
    # HOST_PROC not the host's procfs, or one that hides PID 1's table: the run still reports the
    # container's own interfaces (psutil's), and the log says once what to change.
    monkeypatch.setattr(psutil, "PROCFS_PATH", psutil.PROCFS_PATH)
    proc = _host_procfs(tmp_path)  # no 1/net/dev in it
    host = HostPaths(proc=proc, root=Path("/"))
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'u.db'}", tmp_path, host_proc=proc)
    create_app(settings, migrate_on_start=False)
    plugin = make_system(tmp_path, host=host, exclude_interfaces=[])
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("app.plugins.builtin")  # create_app set up the root's handlers
    logger.addHandler(handler)
    try:
        await plugin.collect_data()
        samples = await plugin.collect_data()
    finally:
        logger.removeHandler(handler)
    nics = {s.labels["interface"] for s in samples if s.name == "network_receive_rate"}
    assert nics == set(psutil.net_io_counters(pernic=True))  # this namespace's own
    said = [r.getMessage() for r in records if "network counters" in r.getMessage()]
    assert len(said) == 1, said
    assert "/proc:/host/proc:ro" in said[0] and str(proc / "1" / "net" / "dev") in said[0]


def test_net_dev_parsing_takes_bytes_in_and_out():
    text = (
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets\n"
        "  eth0: 1234 10 0 0 0 0 0 0 5678 20 0 0 0 0 0 0\n"
        "enp3s0:99 1 0 0 0 0 0 0 7 1 0 0 0 0 0 0\n"
    )
    assert parse_net_dev(text) == {"eth0": (1234, 5678), "enp3s0": (99, 7)}
    recorded = parse_net_dev(NET_DEV.read_text())
    assert recorded["lo"] == (759671, 759671) and set(recorded) == {"lo", "ifb0", "ifb1", "eth0"}


# --- the ssh plugin ------------------------------------------------------------------------


async def test_ssh_reports_the_servers_busiest_processes(tmp_path, ssh_server, burner):
    plugin = make_ssh(tmp_path, ssh_server.port, top_processes=MAX_TOP_PROCESSES)
    samples = validate_samples(await plugin.collect_data(), 1000)
    cpu = labelled(samples, "process_cpu_percent")
    assert BURNER in cpu and cpu[BURNER] > 0  # first run: two readings 0.5 s apart
    plugin = make_ssh(tmp_path, ssh_server.port, top_processes=2)
    samples = await plugin.collect_data()
    assert 2 <= len(labelled(samples, "process_cpu_percent")) <= 4
    samples = await plugin.collect_data()
    # The second run compares with the first run's reading instead of reading twice.
    assert sum(c.startswith("getconf") for c in ssh_server.commands) == 5
    assert 2 <= len(labelled(samples, "process_memory_bytes")) <= 4
    # lm-sensors is not installed on that server: no temperatures, and no failure either.
    assert "sensors -j" in ssh_server.commands
    assert not [s for s in samples if s.name == "temperature_celsius"]


async def test_ssh_command_lines_come_from_ps(tmp_path, ssh_server, burner):
    plugin = make_ssh(tmp_path, ssh_server.port, top_processes=20, process_command_lines=True)
    samples = await plugin.collect_data()
    assert any("secret-arg" in key for key in labelled(samples, "process_memory_bytes"))
    assert "ps -eo pid=,args=" in ssh_server.commands


async def test_ssh_reads_sensors_json(tmp_path, ssh_server):
    ssh_server.sensors = (SENSORS / "amd-k10temp-amdgpu.json").read_text()
    samples = await make_ssh(tmp_path, ssh_server.port, top_processes=0).collect_data()
    temps = [s for s in samples if s.name == "temperature_celsius"]
    assert {s.labels["sensor"] for s in temps} == {"Tctl", "Tccd1", "edge", "junction"}
    fan = next(s for s in samples if s.name == "fan_rpm")
    assert fan.value == 1843 and fan.labels == {"chip": "amdgpu-pci-0c00", "fan": "fan1"}
    assert not any(c.startswith("getconf") for c in ssh_server.commands)


async def test_ssh_malformed_sensors_output_says_what_to_do(tmp_path, ssh_server):
    ssh_server.sensors = "Usage: sensors [OPTION]... [CHIP]...\n"
    with pytest.raises(PluginError, match=r"not lm-sensors JSON.*turn off temperatures"):
        await make_ssh(tmp_path, ssh_server.port).collect_data()
    ssh_server.sensors = "Usage"
    samples = await make_ssh(tmp_path, ssh_server.port, temperatures=False).collect_data()
    assert next(s for s in samples if s.name == "up").value == 1


# --- through the API -------------------------------------------------------------------------


async def test_api_refuses_too_many_top_processes_with_a_sentence(client, admin):
    body = {"name": "box", "type": "system", "config": {"top_processes": 50}}
    resp = await client.post("/api/v1/plugins", json=body, headers=admin)
    assert resp.status_code == 422
    said = resp.json()["fields"]["config.top_processes"]
    assert said == "must be an integer between 0 and 20"
    body["config"] = {"top_processes": 10}
    resp = await client.post("/api/v1/plugins", json=body, headers=admin)
    assert resp.status_code == 201, resp.text
    assert resp.json()["config"]["process_command_lines"] is False


def test_building_a_system_plugin_leaves_psutils_process_wide_procfs_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(psutil, "PROCFS_PATH", "/proc")
    make_system(tmp_path, host=HostPaths(proc=tmp_path / "proc", root=tmp_path / "root"))
    assert psutil.PROCFS_PATH == "/proc"  # only create_app sets it, once at start-up
