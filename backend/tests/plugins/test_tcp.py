"""The `tcp` plugin against a real listener on loopback."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from app.plugins.base import PluginContext
from app.plugins.builtin.tcp import TcpPlugin
from tests.live import free_port, silent_port

from .conftest import collect, tcp_server


def make(tmp_path, **config):
    return TcpPlugin(TcpPlugin.Config(**config), PluginContext(1, tmp_path))


async def test_open_port_is_up_with_connect_time(tmp_path):
    async with tcp_server(lambda r, w: w.close()) as port:
        samples = await make(tmp_path, host="127.0.0.1", port=port).collect_data()
    by = {s.name: s for s in samples}
    assert by["up"].value == 1 and by["up"].unit == "bool"
    assert by["tcp_connect_time"].unit == "ms"
    assert 0 < by["tcp_connect_time"].value < 1000


async def test_closed_port_fails_the_run_and_still_reports_down(tmp_path):
    port = free_port()
    samples, reason = await collect(make(tmp_path, host="127.0.0.1", port=port))
    assert [(s.name, s.value, s.unit) for s in samples] == [("up", 0.0, "bool")]
    assert f"127.0.0.1:{port} refused" in reason


async def test_port_that_never_accepts_times_out_as_down(tmp_path):
    # A listener that never accepts, with its backlog already full, leaves SYNs
    # unanswered: the connect hangs exactly like a firewalled port.
    with silent_port(3) as port:
        plugin = make(tmp_path, host="127.0.0.1", port=port, timeout_seconds=0.3)
        samples, reason = await asyncio.wait_for(collect(plugin), 5)
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert reason == f"127.0.0.1:{port} did not accept within 0.3 s"


@pytest.mark.parametrize(
    ("field", "value"),
    [("port", 0), ("port", 70000), ("host", "http://x"), ("host", "-oProxyCommand")],
)
def test_bad_config_is_refused(field, value):
    cfg = {"host": "127.0.0.1", "port": 80, field: value}
    with pytest.raises(ValidationError, match=field):
        TcpPlugin.Config(**cfg)
