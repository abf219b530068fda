"""promtool accepts /metrics once every built-in plugin that can run here has run.

Each plugin runs once against a real server on loopback (the fixtures in conftest.py: an HTTPS
server, a DNS server, an SSH server, a private dockerd, ICMP to 127.0.0.1 and this host). Its
samples then go through the code `GET /metrics` renders plugin series with, so a plugin that
adds a name promtool rejects (a gauge ending in `_count`, `ms` in a name, an `le` label) fails
here, not in a user's Prometheus CI.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.models import PluginInstance, Series
from app.plugins.base import Plugin, PluginContext
from app.plugins.builtin.dns import DnsPlugin
from app.plugins.builtin.docker import DockerPlugin
from app.plugins.builtin.http import HttpPlugin
from app.plugins.builtin.ping import PingPlugin
from app.plugins.builtin.ssh import SshPlugin
from app.plugins.builtin.system import SystemPlugin
from app.plugins.builtin.tcp import TcpPlugin
from app.services.metrics.prometheus import Exposition, add_plugin_series
from tests.api.test_prometheus import promtool_check

from .conftest import SSH_PASSWORD, SSH_USER, collect, tcp_server


async def _echo(reader: Any, writer: Any) -> None:
    writer.close()


@pytest.fixture
async def tcp_port() -> AsyncIterator[int]:
    async with tcp_server(_echo) as port:
        yield port


@pytest.fixture
def container(docker_engine: Any) -> Any:
    """One running container, so the docker plugin reports per-container series too."""
    name = f"promtool-{uuid.uuid4().hex[:8]}"
    docker_engine.cli(
        "run", "-d", "--network", "none", "--name", name, docker_engine.image, "sleep", "600"
    )
    yield docker_engine
    docker_engine.cli("rm", "-f", name)


async def test_promtool_accepts_the_metrics_of_every_built_in_plugin(
    tmp_path: Path,
    http_servers: Any,
    dns_stub: Any,
    ssh_server: Any,
    container: Any,
    tcp_port: int,
) -> None:
    ctx = PluginContext(1, tmp_path)
    plugins: dict[str, Plugin[Any]] = {
        "system": SystemPlugin(SystemPlugin.Config(), ctx),
        "tcp": TcpPlugin(TcpPlugin.Config(host="127.0.0.1", port=tcp_port), ctx),
        "http": HttpPlugin(
            HttpPlugin.Config(url=http_servers.https_url + "/", verify_tls=False), ctx
        ),
        "dns": DnsPlugin(
            DnsPlugin.Config(server="127.0.0.1", port=dns_stub.port, name="nas.home.arpa"), ctx
        ),
        "ping": PingPlugin(PingPlugin.Config(host="127.0.0.1", count=1), ctx),
        "ssh": SshPlugin(
            SshPlugin.Config(
                host="127.0.0.1", port=ssh_server.port, username=SSH_USER, password=SSH_PASSWORD
            ),
            ctx,
        ),
        "docker": DockerPlugin(DockerPlugin.Config(url=container.url), ctx),
    }
    rows = []
    for plugin_id, (kind, plugin) in enumerate(plugins.items(), start=1):
        samples, down = await collect(plugin)
        assert down is None, f"{kind} did not run against its loopback server: {down}"
        assert samples, kind
        instance = PluginInstance(id=plugin_id, type=kind, name=f"{kind} check")
        rows += [
            (Series(name=s.name, unit=s.unit, labels=dict(s.labels), last_value=s.value), instance)
            for s in samples
        ]
    exp = Exposition()
    add_plugin_series(exp, rows)
    text = exp.render()
    assert len(exp.families) > 30, text  # every plugin's metrics, not a handful

    promtool_check(text)
