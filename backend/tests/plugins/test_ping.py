"""The `ping` plugin with real ICMP to loopback, as root and as an unprivileged user."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.plugins.base import PluginContext, PluginError, validate_samples
from app.plugins.builtin.ping import PingPlugin

from .conftest import collect

BACKEND = Path(__file__).resolve().parents[2]


def make(tmp_path, **config):
    config.setdefault("interval_seconds", 0.2)
    return PingPlugin(PingPlugin.Config(**config), PluginContext(1, tmp_path))


def unprivileged_ping_allowed() -> bool:
    lo, hi = map(int, Path("/proc/sys/net/ipv4/ping_group_range").read_text().split())
    return lo <= os.getgid() <= hi


async def test_loopback_answers(tmp_path):
    samples = validate_samples(await make(tmp_path, host="127.0.0.1", count=3).collect_data(), 50)
    s = {x.name: x for x in samples}
    assert s["up"].value == 1
    assert s["ping_packet_loss"].value == 0 and s["ping_packet_loss"].unit == "percent"
    for name in ("ping_rtt_avg", "ping_rtt_min", "ping_rtt_max", "ping_jitter"):
        assert s[name].unit == "ms"
    assert 0 < s["ping_rtt_min"].value <= s["ping_rtt_avg"].value <= s["ping_rtt_max"].value
    assert s["ping_rtt_max"].value < 100  # loopback


async def test_unresolvable_host_is_down(tmp_path):
    samples, reason = await collect(make(tmp_path, host="no-such-host.invalid", count=1))
    assert [(x.name, x.value) for x in samples] == [("up", 0.0)]
    assert reason == "cannot resolve no-such-host.invalid"


async def test_silent_host_is_down_with_full_loss(tmp_path):
    # 240.0.0.0/4 is reserved and never answers, whether it is routed or not.
    samples, reason = await collect(make(tmp_path, host="240.0.0.1", count=2, timeout_seconds=0.3))
    s = {x.name: x.value for x in samples}
    assert s["up"] == 0 and s["ping_packet_loss"] == 100
    assert "ping_rtt_avg" not in s
    assert reason


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping to an unprivileged user needs root")
def test_unprivileged_user_gets_the_sysctl_sentence(tmp_path):
    """Run the plugin in a child process that drops root (uid/gid nobody, no capabilities).

    With ping_group_range excluding that group, neither an ICMP datagram socket nor a
    raw socket is allowed, so the run must fail with how-to-fix text.
    """
    script = textwrap.dedent(
        f"""
        import asyncio, json, os, sys
        sys.path.insert(0, {str(BACKEND)!r})
        from app.plugins.base import PluginContext, PluginError
        from app.plugins.builtin.ping import PingPlugin
        plugin = PingPlugin(PingPlugin.Config(host="127.0.0.1", count=1), PluginContext())
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        try:
            samples = asyncio.run(plugin.collect_data())
            print(json.dumps({{"samples": [[s.name, s.value] for s in samples]}}))
        except PluginError as exc:
            print(json.dumps({{"error": str(exc)}}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    lo, hi = map(int, Path("/proc/sys/net/ipv4/ping_group_range").read_text().split())
    if lo <= 65534 <= hi:
        assert ["up", 1.0] in result["samples"]  # this host allows unprivileged ping
    else:
        error = result["error"]
        assert 'sysctl -w net.ipv4.ping_group_range="0 2147483647"' in error
        assert "CAP_NET_RAW" in error


async def test_refusal_message_when_no_socket_is_allowed(tmp_path, monkeypatch):
    """Same path in-process: make the privileged fallback fail as it would for non-root."""
    import icmplib

    real = icmplib.async_ping

    async def no_raw_sockets(*args, privileged=True, **kwargs):
        if privileged:
            raise icmplib.SocketPermissionError(privileged)
        return await real(*args, privileged=privileged, **kwargs)

    monkeypatch.setattr(icmplib, "async_ping", no_raw_sockets)  # the plugin imports it per run
    plugin = make(tmp_path, host="127.0.0.1", count=1)
    if unprivileged_ping_allowed():
        assert (await plugin.collect_data())[0].value == 1
    else:
        with pytest.raises(PluginError, match=r"net\.ipv4\.ping_group_range"):
            await plugin.collect_data()


def test_config_bounds():
    with pytest.raises(ValidationError, match="keep it under 25 s"):
        PingPlugin.Config(host="x.lan", count=20, interval_seconds=2)
    with pytest.raises(ValidationError, match="count"):
        PingPlugin.Config(host="x.lan", count=0)
    with pytest.raises(ValidationError, match="host"):
        PingPlugin.Config(host="1.2.3.4; reboot")
    assert PingPlugin.Config(host="[::1]").host == "::1"
