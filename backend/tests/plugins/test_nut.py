"""The `nut` plugin against Debian's real upsd, fed by the dummy-ups driver from a .dev file."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from app.plugins.base import PluginContext, PluginError
from app.plugins.builtin.nut import NutPlugin, parse_status
from tests.live import free_port, stop_process

from .conftest import collect, tcp_server
from .system_tools import require, tail

UPSD = "/lib/nut/upsd"  # /usr/sbin/upsd is Debian's wrapper that refuses to start with MODE=none
DUMMY_UPS = "/lib/nut/dummy-ups"
USER, PASSWORD = "monitor", "s3cret pass"
READER = "reader"  # a user upsd knows but may not log in to a UPS

ON_LINE = """ups.status: OL
battery.charge: 100
battery.runtime: 1800
ups.load: 23
input.voltage: 230.5
output.voltage: 229.8
ups.mfr: Test
ups.model: Dummy
"""


@dataclass
class Upsd:
    dir: Path
    port: int
    dev: Path
    driver: subprocess.Popen[bytes]

    def set_status(self, text: str) -> None:
        self.dev.write_text(text)
        # dummy-ups re-reads the file when its modification time changes.
        now = time.time() + 1
        os.utime(self.dev, (now, now))


def _wait_for_port(port: int, procs: list[subprocess.Popen[bytes]], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                pytest.fail(f"a NUT process exited early:\n{tail(log)}")
        with socket.socket() as s:
            s.settimeout(2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                # Ready once the driver has handed upsd its first reading.
                s.sendall(b"GET VAR rack ups.status\n")
                if s.recv(200).startswith(b'VAR rack ups.status "OL'):
                    return
        time.sleep(0.1)
    pytest.fail(f"upsd did not listen on {port}:\n{tail(log)}")


@pytest.fixture
def upsd(tmp_path: Path) -> Iterator[Upsd]:
    require(UPSD, "nut-server")
    require(DUMMY_UPS, "nut-server")
    conf = tmp_path / "nut"
    state = conf / "state"
    state.mkdir(parents=True, mode=0o700)
    port = free_port()
    dev = conf / "rack.dev"
    dev.write_text(ON_LINE)
    (conf / "nut.conf").write_text("MODE=standalone\n")
    (conf / "ups.conf").write_text(
        f'[rack]\n  driver = dummy-ups\n  port = {dev}\n  desc = "test UPS"\n  pollinterval = 1\n'
    )
    (conf / "upsd.conf").write_text(f"LISTEN 127.0.0.1 {port}\n")
    users = conf / "upsd.users"
    # READER has a password but no upsmon line: upsd lets it read, not LOGIN (attach).
    users.write_text(
        f'[{USER}]\n  password = "{PASSWORD}"\n  upsmon secondary\n'
        f'[{READER}]\n  password = "{PASSWORD}"\n'
    )
    users.chmod(0o600)
    env = {
        **os.environ,
        "NUT_CONFPATH": str(conf),
        "NUT_STATEPATH": str(state),
        "NUT_ALTPIDPATH": str(state),
    }
    log_path = conf / "nut.log"
    log = log_path.open("wb")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(
            subprocess.Popen(
                [DUMMY_UPS, "-a", "rack", "-u", "root", "-F"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        deadline = time.monotonic() + 10
        while not any(p.name.startswith("dummy-ups") for p in state.iterdir()):
            if time.monotonic() > deadline or procs[0].poll() is not None:
                pytest.fail(f"dummy-ups did not start:\n{tail(log_path)}")
            time.sleep(0.1)
        procs.append(
            subprocess.Popen(
                [UPSD, "-F", "-u", "root"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        _wait_for_port(port, procs, log_path)
        yield Upsd(conf, port, dev, procs[0])
    finally:
        for p in reversed(procs):
            stop_process(p, 10)
        log.close()


def make(tmp_path: Path, port: int, **config: object) -> NutPlugin:
    config.setdefault("host", "127.0.0.1")
    return NutPlugin(NutPlugin.Config(port=port, **config), PluginContext(3, tmp_path))


def values(samples) -> dict[str, float]:
    return {s.name: s.value for s in samples}


async def wait_for_status(plugin: NutPlugin, on_battery: float) -> tuple[list, str | None]:
    deadline = time.monotonic() + 15
    while True:
        samples, reason = await collect(plugin)
        if values(samples).get("ups_on_battery") == on_battery or time.monotonic() > deadline:
            return samples, reason
        await asyncio.sleep(0.3)


async def test_reads_status_charge_runtime_load_and_voltages(tmp_path, upsd):
    samples, reason = await collect(make(tmp_path, upsd.port))
    assert reason is None
    v = values(samples)
    assert v["up"] == 1
    assert v["ups_online"] == 1 and v["ups_on_battery"] == 0 and v["ups_low_battery"] == 0
    assert v["ups_battery_charge_percent"] == 100
    assert v["ups_battery_runtime_seconds"] == 1800
    assert v["ups_load_percent"] == 23
    assert v["ups_input_voltage_volts"] == 230.5
    assert v["ups_output_voltage_volts"] == 229.8
    units = {s.name: s.unit for s in samples}
    assert units["ups_battery_runtime_seconds"] == "seconds"
    assert units["ups_on_battery"] == "bool"
    assert all(s.labels == {"ups": "rack"} for s in samples)


async def test_going_on_battery_fails_the_run_and_keeps_the_samples(tmp_path, upsd):
    plugin = make(tmp_path, upsd.port, ups="rack", username=USER, password=PASSWORD)
    assert (await collect(plugin))[1] is None
    upsd.set_status(ON_LINE.replace("OL", "OB LB").replace("charge: 100", "charge: 9"))
    samples, reason = await wait_for_status(plugin, 1.0)
    v = values(samples)
    assert v["ups_on_battery"] == 1 and v["ups_low_battery"] == 1 and v["ups_online"] == 0
    assert v["ups_battery_charge_percent"] == 9
    assert reason == "UPS rack is running on battery and its battery is LOW (status OB LB): " + (
        "charge 9 %, about 30 min left"
    )

    quiet = make(tmp_path, upsd.port, on_battery_is_failure=False)
    samples, reason = await collect(quiet)
    assert reason is None and values(samples)["ups_on_battery"] == 1


async def test_wrong_password_says_to_check_upsd_users(tmp_path, upsd):
    plugin = make(tmp_path, upsd.port, username=USER, password="wrong")
    with pytest.raises(PluginError, match=r"refused the login of 'monitor': check .*upsd\.users"):
        await plugin.collect_data()


async def test_a_user_without_upsmon_rights_is_told_to_add_the_line(tmp_path, upsd):
    plugin = make(tmp_path, upsd.port, username=READER, password=PASSWORD)
    with pytest.raises(PluginError) as err:
        await plugin.collect_data()
    assert "has an `upsmon secondary` line" in str(err.value)
    assert "upsd -c reload" in str(err.value)


async def test_unknown_ups_lists_the_known_names(tmp_path, upsd):
    plugin = make(tmp_path, upsd.port, ups="garage")
    with pytest.raises(PluginError, match=r"no UPS named 'garage'; it knows: rack\."):
        await plugin.collect_data()


async def test_a_dead_driver_points_at_the_driver(tmp_path, upsd):
    upsd.driver.send_signal(signal.SIGTERM)
    upsd.driver.wait(timeout=10)
    plugin = make(tmp_path, upsd.port, ups="rack")
    deadline = time.monotonic() + 20
    while True:
        try:
            await plugin.collect_data()
        except PluginError as exc:
            message = str(exc)
            break
        assert time.monotonic() < deadline, "upsd kept serving the dead driver's data"
        await asyncio.sleep(0.5)
    assert message.startswith("upsd has no fresh data for 'rack'")
    assert "upsdrvctl start" in message


async def test_refused_connection_points_at_listen_in_upsd_conf(tmp_path):
    port = free_port()
    samples, reason = await collect(make(tmp_path, port))
    assert values(samples) == {"up": 0}
    assert reason is not None and "refused the connection" in reason
    assert "LISTEN" in reason and "upsd.conf" in reason


async def test_something_that_is_not_upsd_is_a_format_error(tmp_path):
    async def http_like(reader, writer):
        await reader.readline()
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()
        writer.close()

    async with tcp_server(http_like) as port:
        with pytest.raises(PluginError, match=r"unexpected format .*is this NUT's upsd"):
            await make(tmp_path, port).collect_data()


async def test_a_silent_server_times_out_as_down(tmp_path, never_answers):
    port = never_answers
    samples, reason = await collect(make(tmp_path, port, timeout_seconds=0.3))
    assert values(samples) == {"up": 0}
    assert reason == (
        f"upsd at 127.0.0.1:{port} accepted but did not answer within 0.3 s: check that port "
        f"{port} is upsd's (usually 3493)"
    )


def test_status_flags():
    assert parse_status("OB LB RB") == {
        "ups_online": 0,
        "ups_on_battery": 1,
        "ups_low_battery": 1,
        "ups_replace_battery": 1,
        "ups_overloaded": 0,
    }
    assert parse_status("OL CHRG")["ups_online"] == 1


@pytest.mark.parametrize(
    "config",
    [
        {"username": "monitor"},
        {"password": "x"},
        {"username": "two words", "password": "x"},
        {"username": "u", "password": "a\nLOGOUT"},
        {"ups": "rack; LIST"},
        {"port": 0},
    ],
)
def test_bad_config_is_refused(config):
    with pytest.raises(ValidationError):
        NutPlugin.Config(**config)


def test_password_is_a_secret():
    assert NutPlugin.secret_fields() == ["password"]


# --- the health change, through the API as a user sees it --------------------------------


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'homelab.db'}"


async def test_health_turns_degraded_when_the_ups_goes_on_battery(
    client: httpx.AsyncClient, admin: dict[str, str], upsd: Upsd
) -> None:
    r = await client.post(
        "/api/v1/plugins",
        json={
            "name": "rack UPS",
            "type": "nut",
            "config": {"host": "127.0.0.1", "port": upsd.port, "ups": "rack"},
            "interval_seconds": 3600,
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    run = (await client.post(f"/api/v1/plugins/{pid}/run", headers=admin)).json()
    assert run["status"] == "success", run
    health = (await client.get(f"/api/v1/plugins/{pid}/health", headers=admin)).json()
    assert health["status"] == "healthy"

    upsd.set_status(ON_LINE.replace("OL", "OB"))
    deadline = time.monotonic() + 15
    while True:
        run = (await client.post(f"/api/v1/plugins/{pid}/run", headers=admin)).json()
        if run["status"] != "success" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.3)
    assert run["status"] == "error"
    assert run["error"].startswith("UPS rack is running on battery (status OB)")
    health = (await client.get(f"/api/v1/plugins/{pid}/health", headers=admin)).json()
    assert health["status"] == "degraded"
    assert health["last_error"].startswith("UPS rack is running on battery")

    state = client._transport.app.state.unity  # type: ignore[attr-defined]
    await state.writer.flushed()
    latest = (
        await client.get("/api/v1/metrics/latest", params={"plugin_id": pid}, headers=admin)
    ).json()["items"]
    assert {i["name"]: i["value"] for i in latest}["ups_on_battery"] == 1.0
