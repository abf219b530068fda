"""Events plugins notice between runs: reboots (ssh, system), container restarts and image
changes (docker, against a real dockerd), renewed certificates (http, a real TLS server)."""

from __future__ import annotations

import datetime as dt
import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.models.enums import EventKind
from app.plugins.base import PluginContext
from app.plugins.builtin._events import ContainerWatch, RebootWatch
from app.plugins.builtin.docker import DockerPlugin
from app.plugins.builtin.http import HttpPlugin
from app.plugins.builtin.ssh import SshPlugin
from app.plugins.builtin.system import SystemPlugin

from .conftest import SSH_PASSWORD, SSH_USER, _Handler, collect, make_self_signed

T0 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)


def kinds(plugin) -> list[str]:
    return [e.kind for e in plugin.take_events()]


# --- reboots ---------------------------------------------------------------------------


async def test_ssh_reports_a_reboot_when_uptime_resets(tmp_path, ssh_server):
    plugin = SshPlugin(
        SshPlugin.Config(
            host="127.0.0.1", port=ssh_server.port, username=SSH_USER, password=SSH_PASSWORD
        ),
        PluginContext(7, tmp_path),
    )
    await collect(plugin)
    await collect(plugin)
    assert kinds(plugin) == []  # the first run is the baseline; the same boot is no event
    ssh_server.uptime = "42.00 80.00\n"  # the host came back 42 s ago
    await collect(plugin)
    (event,) = plugin.take_events()
    assert event.kind == EventKind.HOST_REBOOTED
    assert "uptime reset to 42 s" in event.summary
    assert event.at is not None
    assert abs((dt.datetime.now(dt.UTC) - event.at).total_seconds() - 42) < 30
    await collect(plugin)
    assert kinds(plugin) == []  # one reboot, one event


def test_reboot_watch_ignores_jitter_and_sees_a_short_reboot():
    plugin = SystemPlugin(SystemPlugin.Config(), PluginContext(1, Path(".")))
    watch = RebootWatch()
    watch.observe(plugin, 10_000, T0)
    watch.observe(plugin, 10_060.5, T0 + dt.timedelta(seconds=59))  # reads 1.5 s apart
    assert kinds(plugin) == []
    watch.observe(plugin, 5, T0 + dt.timedelta(minutes=3))
    events = plugin.take_events()
    assert [e.kind for e in events] == [EventKind.HOST_REBOOTED]
    assert events[0].at == T0 + dt.timedelta(minutes=3, seconds=-5)


async def test_system_plugin_sees_no_reboot_on_a_running_host(tmp_path):
    plugin = SystemPlugin(SystemPlugin.Config(), PluginContext(1, tmp_path))
    await plugin.collect_data()
    await plugin.collect_data()
    assert plugin.reboots.boot is not None
    assert kinds(plugin) == []


# --- certificates ----------------------------------------------------------------------


@pytest.fixture
def tls_server(tmp_path) -> Iterator[tuple[str, ssl.SSLContext, Path]]:
    """An HTTPS server on 127.0.0.1 whose certificate a test can replace between requests."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    first = tmp_path / "first"
    first.mkdir()
    ctx.load_cert_chain(*make_self_signed(first, days=10))
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/", ctx, tmp_path
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def test_http_reports_a_renewed_certificate(tmp_path, tls_server):
    url, ctx, directory = tls_server
    plugin = HttpPlugin(HttpPlugin.Config(url=url, verify_tls=False), PluginContext(1, tmp_path))
    await collect(plugin)
    await collect(plugin)
    assert kinds(plugin) == []
    renewed = directory / "renewed"
    renewed.mkdir()
    ctx.load_cert_chain(*make_self_signed(renewed, days=90))  # what certbot would do
    samples, _ = await collect(plugin)
    days = next(s.value for s in samples if s.name == "tls_cert_days_remaining")
    assert days == pytest.approx(90, abs=0.1)
    (event,) = plugin.take_events()
    assert event.kind == EventKind.CERTIFICATE_RENEWED
    assert "renewed" in event.summary
    before = dt.datetime.fromisoformat(event.details["previous_not_after"])
    after = dt.datetime.fromisoformat(event.details["not_after"])
    assert (after - before).days == 80


# --- containers ------------------------------------------------------------------------


def _inspect(cid: str, started: str, image: str, oom: bool = False) -> dict[str, object]:
    return {
        "Id": cid,
        "Image": image,
        "Config": {"Image": "app:latest"},
        "RestartCount": 0,
        "State": {"StartedAt": started, "OOMKilled": oom},
    }


def test_container_watch_reports_an_oom_kill_once():
    plugin = DockerPlugin(DockerPlugin.Config(), PluginContext(1, Path(".")))
    watch = ContainerWatch()
    watch.observe(plugin, "db", _inspect("a" * 64, "2026-03-01T02:00:00Z", "sha256:1"))
    watch.observe(plugin, "db", _inspect("a" * 64, "2026-03-01T02:00:00Z", "sha256:1", True))
    watch.observe(plugin, "db", _inspect("a" * 64, "2026-03-01T02:00:00Z", "sha256:1", True))
    assert kinds(plugin) == [EventKind.CONTAINER_OOM_KILLED]
    # Killed again after a restart by its restart policy: a restart, and a second OOM kill.
    watch.observe(plugin, "db", _inspect("a" * 64, "2026-03-01T02:05:00Z", "sha256:1", True))
    assert kinds(plugin) == [EventKind.CONTAINER_RESTARTED, EventKind.CONTAINER_OOM_KILLED]


async def test_docker_reports_restarts_and_image_changes(tmp_path, docker_engine):
    d = docker_engine
    run = ("run", "-d", "--network", "none", "--name")
    d.cli(*run, "ev-web", d.image, "sleep", "3600")
    try:
        plugin = DockerPlugin(
            DockerPlugin.Config(url=d.url, containers=["ev-web"]), PluginContext(1, tmp_path)
        )
        await plugin.collect_data()
        await plugin.collect_data()
        assert kinds(plugin) == []

        d.cli("restart", "-t", "0", "ev-web")
        await plugin.collect_data()
        (event,) = plugin.take_events()
        assert event.kind == EventKind.CONTAINER_RESTARTED
        assert event.labels == {"container": "ev-web"}
        assert event.summary.startswith("ev-web restarted at ")

        # An "image update": the container is recreated from a newer image under its name.
        d.cli("commit", "ev-web", "unity-test-busybox:2")
        d.cli("rm", "-f", "ev-web")
        d.cli(*run, "ev-web", "unity-test-busybox:2", "sleep", "3600")
        await plugin.collect_data()
        (event,) = plugin.take_events()
        assert event.kind == EventKind.CONTAINER_IMAGE_CHANGED
        assert "unity-test-busybox:2" in event.summary
        assert event.details["previous_image"] != event.details["image"]
    finally:
        d.cli("rm", "-f", "ev-web", check=False)
        d.cli("rmi", "unity-test-busybox:2", check=False)
