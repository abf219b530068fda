"""The `snmp` plugin against Debian's real snmpd on a loopback UDP port (v2c and v3 authPriv)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.plugins.base import PluginContext, PluginError
from app.plugins.builtin.snmp import SnmpPlugin, _Reading
from tests.live import free_port, stop_process

from .conftest import collect
from .system_tools import require, tail

COMMUNITY = "unity-test-ro"
LIMITED = "unity-test-system-only"
V3_USER, V3_AUTH, V3_PRIV = "unityv3", "auth-pass-123", "priv-pass-123"


@dataclass
class Snmpd:
    port: int


@pytest.fixture
def snmpd(tmp_path: Path) -> Iterator[Snmpd]:
    binary = require("snmpd", "snmpd")
    port = free_port(socket.SOCK_DGRAM)
    conf = tmp_path / "snmpd.conf"
    conf.write_text(
        f"agentAddress udp:127.0.0.1:{port}\n"
        f"rocommunity {COMMUNITY} 127.0.0.1\n"
        # A community that may read the system group only: SNMP's "permission denied".
        "view systemonly included .1.3.6.1.2.1.1\n"
        f"rocommunity {LIMITED} 127.0.0.1 -V systemonly\n"
        f'createUser {V3_USER} SHA "{V3_AUTH}" AES "{V3_PRIV}"\n'
        f"rouser {V3_USER} priv\n"
        "sysLocation rack 1\n"
    )
    log = tmp_path / "snmpd.log"
    proc = subprocess.Popen(
        # -C: only this config; -I: leave out modules that want more than this test gives.
        [
            binary,
            "-f",
            "-C",
            "-c",
            str(conf),
            "-Lf",
            str(log),
            "-p",
            str(tmp_path / "pid"),
            "-I",
            "-smux,mteTrigger,mteTriggerConf",
        ],
        env={**os.environ, "SNMP_PERSISTENT_DIR": str(tmp_path / "persist"), "MIBS": ""},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 15
        while "NET-SNMP version" not in (log.read_text() if log.exists() else ""):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"snmpd did not start:\n{tail(log)}")
            time.sleep(0.1)
        yield Snmpd(port)
    finally:
        stop_process(proc, 10)


def make(tmp_path: Path, port: int, **config: object) -> SnmpPlugin:
    config.setdefault("host", "127.0.0.1")
    if config.get("version", "2c") == "2c":
        config.setdefault("community", COMMUNITY)
    return SnmpPlugin(SnmpPlugin.Config(port=port, **config), PluginContext(9, tmp_path))


def v3(**extra: object) -> dict[str, object]:
    return {"version": "3", "username": V3_USER, "auth_key": V3_AUTH, "priv_key": V3_PRIV, **extra}


def get(samples, name, **labels):
    found = [s for s in samples if s.name == name and dict(s.labels) == labels]
    assert len(found) == 1, f"{name}{labels}: {[s for s in samples if s.name == name]}"
    return found[0]


async def test_v2c_reads_counters_and_computes_rates_on_the_second_run(tmp_path, snmpd):
    plugin = make(tmp_path, snmpd.port)
    try:
        first, reason = await collect(plugin)
        assert reason is None
        assert get(first, "up").value == 1
        assert get(first, "snmp_uptime_seconds").unit == "seconds"
        assert get(first, "interface_up", interface="lo").value == 1
        rx = get(first, "interface_receive_bytes_total", interface="lo")
        assert rx.unit == "bytes" and rx.value > 0
        assert get(first, "interface_receive_errors_total", interface="lo").value == 0
        assert not [s for s in first if s.name.endswith("_per_second")]  # one reading only

        # snmpd caches its interface table for a few seconds; wait until lo has moved
        # (the first run's own SNMP packets crossed it).
        deadline = time.monotonic() + 15
        while True:
            await asyncio.sleep(1)
            second, reason = await collect(plugin)
            assert reason is None
            total = get(second, "interface_receive_bytes_total", interface="lo").value
            if total > rx.value or time.monotonic() > deadline:
                break
        rate = get(second, "interface_receive_bytes_per_second", interface="lo")
        assert rate.unit == "bytes/s" and rate.value > 0
        assert rate.value <= (total - rx.value) / 0.9  # runs were at least ~1 s apart
        assert get(second, "interface_transmit_errors_per_second", interface="lo").value == 0
    finally:
        await plugin.close()


async def test_v3_auth_priv_user_and_interface_filter(tmp_path, snmpd):
    plugin = make(tmp_path, snmpd.port, **v3(interfaces=["lo"]))
    try:
        samples, reason = await collect(plugin)
    finally:
        await plugin.close()
    assert reason is None
    assert {s.labels.get("interface") for s in samples if s.labels} == {"lo"}
    assert get(samples, "interface_transmit_bytes_total", interface="lo").value > 0


async def test_a_listed_interface_the_device_lacks_is_named(tmp_path, snmpd):
    plugin = make(tmp_path, snmpd.port, interfaces=["lo", "sfp-plus1"])
    try:
        samples, reason = await collect(plugin)
    finally:
        await plugin.close()
    assert reason is not None
    assert reason.startswith("127.0.0.1 has no interface sfp-plus1 (it has: lo")
    assert get(samples, "interface_up", interface="lo").value == 1


async def test_extra_oids_with_names_units_and_scale(tmp_path, snmpd):
    oids = [
        {
            "oid": "1.3.6.1.2.1.1.3.0",
            "name": "agent_uptime_seconds",
            "unit": "seconds",
            "scale": 0.01,
        },
        {"oid": ".1.3.6.1.2.1.2.1.0", "name": "agent_interfaces", "unit": ""},
    ]
    plugin = make(tmp_path, snmpd.port, oids=oids)
    try:
        samples, reason = await collect(plugin)
    finally:
        await plugin.close()
    assert reason is None
    assert get(samples, "agent_uptime_seconds").value == pytest.approx(
        get(samples, "snmp_uptime_seconds").value, abs=1
    )
    assert get(samples, "agent_interfaces").value >= 1  # ifNumber


async def test_missing_and_non_numeric_oids_fail_the_run_but_keep_the_rest(tmp_path, snmpd):
    oids = [
        {"oid": "1.3.6.1.2.1.1.3.0", "name": "ticks"},
        {"oid": "1.3.6.1.2.1.1.99.0", "name": "nothing_here"},
        {"oid": "1.3.6.1.2.1.1.6.0", "name": "location"},  # sysLocation: "rack 1"
    ]
    plugin = make(tmp_path, snmpd.port, oids=oids)
    try:
        samples, reason = await collect(plugin)
    finally:
        await plugin.close()
    assert reason == (
        "1.3.6.1.2.1.1.99.0 (nothing_here) does not exist on 127.0.0.1; "
        "1.3.6.1.2.1.1.6.0 (location) is not a number on 127.0.0.1: check the OID, and that "
        "the device's SNMP view lets this community or user read it"
    )
    assert get(samples, "ticks").value > 0 and get(samples, "up").value == 1


async def test_a_view_without_if_mib_says_to_widen_it(tmp_path, snmpd):
    plugin = make(tmp_path, snmpd.port, community=LIMITED)
    try:
        samples, reason = await collect(plugin)
    finally:
        await plugin.close()
    assert reason == (
        "127.0.0.1 shows this community or user no interfaces: check that the device's SNMP "
        "view includes IF-MIB (1.3.6.1.2.1.2 and 1.3.6.1.2.1.31)"
    )
    assert get(samples, "up").value == 1 and get(samples, "snmp_uptime_seconds").value > 0
    # An OID outside the view reads as missing, with the same advice about the view.
    plugin = make(
        tmp_path, snmpd.port, community=LIMITED, oids=[{"oid": "1.3.6.1.2.1.2.1.0", "name": "n"}]
    )
    try:
        samples, reason = await collect(plugin)
    finally:
        await plugin.close()
    assert reason == (
        "1.3.6.1.2.1.2.1.0 (n) does not exist on 127.0.0.1: check the OID, and that the "
        "device's SNMP view lets this community or user read it"
    )


async def test_wrong_v3_auth_key_says_which_setting_to_check(tmp_path, snmpd):
    plugin = make(tmp_path, snmpd.port, **v3(auth_key="not-the-key"))
    try:
        with pytest.raises(PluginError, match="refused the SNMPv3 login of 'unityv3': check the"):
            await plugin.collect_data()
    finally:
        await plugin.close()


async def test_unknown_v3_user(tmp_path, snmpd):
    plugin = make(tmp_path, snmpd.port, **v3(username="stranger"))
    try:
        with pytest.raises(PluginError, match="does not know the SNMPv3 user 'stranger'"):
            await plugin.collect_data()
    finally:
        await plugin.close()


async def test_wrong_community_times_out_as_down_and_names_the_community(tmp_path, snmpd):
    plugin = make(tmp_path, snmpd.port, community="guess", timeout_seconds=0.3, retries=0)
    try:
        samples, reason = await collect(plugin)
    finally:
        await plugin.close()
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert reason is not None
    assert reason.startswith(f"127.0.0.1:{snmpd.port} did not answer SNMP within 0.3 s (1 tries)")
    assert "community" in reason


async def test_unresolvable_host_is_down(tmp_path):
    plugin = make(tmp_path, 161, host="no-such-host.invalid")
    try:
        samples, reason = await collect(plugin)
    finally:
        await plugin.close()
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert reason is not None and reason.startswith("cannot resolve no-such-host.invalid")


def test_rates_handle_32_bit_wrap_64_bit_reset_and_reboot(tmp_path):
    plugin = make(tmp_path, 161)
    key32, key64 = ("eth0", "in_octets"), ("eth1", "in_octets")
    plugin._rates(_Reading(0.0, 1000, {key32: (2**32 - 100, True), key64: (5000, False)}))
    rates = plugin._rates(_Reading(10.0, 2000, {key32: (900, True), key64: (10, False)}))
    by = {s.labels["interface"]: s.value for s in rates}
    assert by == {"eth0": 100.0}  # wrapped: 1000 bytes in 10 s; eth1 was reset, no rate
    rebooted = plugin._rates(_Reading(20.0, 5, {key32: (1900, True), key64: (20, False)}))
    assert rebooted == []  # sysUpTime went back: every counter restarted
    after = plugin._rates(_Reading(30.0, 1005, {key32: (2900, True), key64: (1020, False)}))
    assert {s.labels["interface"]: s.value for s in after} == {"eth0": 100.0, "eth1": 100.0}


@pytest.mark.parametrize(
    "config",
    [
        {"host": "sw.lan"},  # v2c without community
        {"host": "sw.lan", "version": "3"},  # v3 without user
        {"host": "sw.lan", "version": "3", "username": "u", "auth_key": "short"},
        {"host": "sw.lan", "version": "3", "username": "u", "priv_key": "12345678"},
        {"host": "sw.lan", "community": "c", "oids": [{"oid": "1.3.x", "name": "a"}]},
        {"host": "sw.lan", "community": "c", "oids": [{"oid": "1.3.6", "name": "Bad Name"}]},
        {"host": "http://sw.lan", "community": "c"},
    ],
)
def test_bad_config_is_refused(config):
    with pytest.raises(ValidationError):
        SnmpPlugin.Config(**config)


def test_secrets_and_lazy_import():
    assert set(SnmpPlugin.secret_fields()) == {"community", "auth_key", "priv_key"}
    # Loading every plugin type (as the app does at start) must not import pysnmp.
    probe = (
        "import sys; from app.plugins.registry import PluginRegistry; "
        "r = PluginRegistry().load(); assert r.get('snmp').available; "
        "print('pysnmp' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "False"


def test_type_is_unavailable_without_pysnmp(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pysnmp" else real(name, *a)
    )
    ok, reason = SnmpPlugin.available()
    assert not ok and reason is not None and "pysnmp" in reason


# --- through the API: secrets stay hidden, nested extra values round-trip -------------------


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'homelab.db'}"


async def test_api_masks_v3_keys_and_runs(client, admin, snmpd):
    config = {"host": "127.0.0.1", "port": snmpd.port, **v3()}
    config["oids"] = [{"oid": "1.3.6.1.2.1.1.3.0", "name": "ticks", "unit": "", "scale": 1}]
    r = await client.post(
        "/api/v1/plugins",
        json={"name": "switch", "type": "snmp", "config": config, "interval_seconds": 3600},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    shown = r.json()["config"]
    assert shown["auth_key"] == "********" and shown["priv_key"] == "********"
    assert V3_AUTH not in r.text and V3_PRIV not in r.text
    assert shown["oids"][0]["name"] == "ticks"
    run = (await client.post(f"/api/v1/plugins/{r.json()['id']}/run", headers=admin)).json()
    assert run["status"] == "success", run
