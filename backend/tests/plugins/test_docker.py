"""The `docker` plugin against a real dockerd (started by the `docker_engine` fixture)."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest
from pydantic import ValidationError

from app.plugins.base import PluginContext, PluginError, validate_samples
from app.plugins.builtin.docker import DockerPlugin, safe_container_ref

MiB = 1024 * 1024


def make(tmp_path, **config):
    return DockerPlugin(DockerPlugin.Config(**config), PluginContext(1, tmp_path))


def series(samples):
    return {(s.name, tuple(sorted(s.labels.items()))): s for s in samples}


def get(samples, name, container=None, **labels):
    if container is not None:
        labels["container"] = container
    return series(samples).get((name, tuple(sorted(labels.items()))))


def hog_oom_killed(d, inspect):
    """True once the engine reports `hog` OOM-killed. The shell can instead die of its own
    failed allocation (exit, not a kill: a race inside the kernel), and then it is started
    again to grow into its limit once more."""
    if inspect("hog", "{{.State.OOMKilled}}") == "true":
        return True
    if inspect("hog", "{{.State.Status}}") == "exited":
        d.cli("start", "hog", check=False)
    return False


def wait_for(predicate, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def scenario(docker_engine):
    """One container per situation a homelab user wants to see on the dashboard."""
    d = docker_engine
    img = d.image
    run = ("run", "-d", "--network", "none", "--name")
    d.cli(*run, "idle", "--memory", "64m", img, "sleep", "3600")
    d.cli(*run, "done", img, "true")
    d.cli(*run, "busy", img, "sh", "-c", "yes > /dev/null")
    d.cli(*run, "healthy", "--health-cmd", "true", "--health-interval", "1s", img, "sleep", "3600")
    d.cli(
        *run,
        "sick",
        "--health-cmd",
        "false",
        "--health-interval",
        "1s",
        "--health-retries",
        "1",
        img,
        "sleep",
        "3600",
    )
    d.cli(*run, "flaky", "--restart", "on-failure:2", img, "sh", "-c", "sleep 0.2; exit 3")
    d.cli(
        *run,
        "hog",
        "--memory",
        "8m",
        "--memory-swap",
        "8m",
        img,
        "sh",
        "-c",
        "x=0123456789abcdef; while true; do x=$x$x; done",
    )

    def inspect(name, fmt):
        return d.cli("inspect", "--format", fmt, name)

    wait_for(lambda: inspect("healthy", "{{.State.Health.Status}}") == "healthy", "healthy")
    wait_for(lambda: inspect("sick", "{{.State.Health.Status}}") == "unhealthy", "unhealthy")
    wait_for(lambda: hog_oom_killed(d, inspect), "the OOM kill")
    wait_for(
        lambda: inspect("flaky", "{{.RestartCount}} {{.State.Status}}") == "2 exited",
        "flaky to give up after 2 restarts",
    )
    wait_for(lambda: inspect("done", "{{.State.Status}}") == "exited", "done to exit")
    time.sleep(1.5)  # let `busy` accumulate CPU time the engine has sampled
    yield d
    d.cli("rm", "-f", "idle", "done", "busy", "healthy", "sick", "flaky", "hog", check=False)


@pytest.fixture(scope="module")
def collected(scenario, tmp_path_factory):
    plugin = make(tmp_path_factory.mktemp("docker"), url=scenario.url)
    samples = asyncio.run(plugin.collect_data())
    return validate_samples(samples, 10_000)


def test_containers_by_state(collected):
    counts = {s.labels["state"]: s.value for s in collected if s.name == "containers"}
    assert counts["running"] == 4  # idle, busy, healthy, sick
    assert counts["exited"] == 3  # done, flaky, hog
    assert counts["paused"] == 0 and counts["dead"] == 0  # every state is always reported
    assert get(collected, "containers", state="running").unit == "count"
    assert get(collected, "containers_unhealthy").value == 1
    assert get(collected, "container_running", "idle").value == 1
    assert get(collected, "container_running", "done").value == 0


def test_busy_container_uses_cpu_idle_one_does_not(collected):
    busy = get(collected, "container_cpu_percent", "busy")
    assert busy.unit == "percent"
    assert busy.value > 20, busy  # `yes` spins a full core
    assert get(collected, "container_cpu_percent", "idle").value < 5
    # Stopped containers have no stats.
    assert get(collected, "container_cpu_percent", "done") is None


def test_memory_usage_and_limit(collected):
    limit = get(collected, "container_memory_limit", "idle")
    assert limit.unit == "bytes" and limit.value == 64 * MiB
    usage = get(collected, "container_memory_usage", "idle")
    assert 0 < usage.value < 64 * MiB
    pct = get(collected, "container_memory_percent", "idle")
    assert pct.unit == "percent"
    assert pct.value == pytest.approx(usage.value / limit.value * 100)


def test_health_restarts_and_oom(collected):
    assert get(collected, "container_healthy", "healthy").value == 1
    assert get(collected, "container_healthy", "sick").value == 0
    assert get(collected, "container_healthy", "idle") is None  # no healthcheck, no sample
    restarts = get(collected, "container_restart_count", "flaky")
    assert restarts.unit == "count" and restarts.value == 2
    assert get(collected, "container_restart_count", "idle").value == 0
    assert get(collected, "container_oom_killed", "hog").value == 1
    assert get(collected, "container_oom_killed", "done").value == 0


async def test_container_filter_and_stopped_switch(scenario, tmp_path):
    samples = await make(tmp_path, url=scenario.url, containers=["idle", "done"]).collect_data()
    names = {s.labels["container"] for s in samples if "container" in s.labels}
    assert names == {"idle", "done"}
    # The overview counts stay global so the dashboard total does not change with the filter.
    assert get(samples, "containers", state="running").value == 4

    samples = await make(tmp_path, url=scenario.url, include_stopped=False).collect_data()
    names = {s.labels["container"] for s in samples if "container" in s.labels}
    assert names == {"idle", "busy", "healthy", "sick"}


async def test_missing_socket_is_an_actionable_error(tmp_path):
    plugin = make(tmp_path, url=f"unix://{tmp_path}/docker.sock")
    with pytest.raises(PluginError, match=r"not found.*-v /var/run/docker.sock"):
        await plugin.collect_data()


async def test_unreachable_tcp_engine_is_an_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    plugin = make(tmp_path, url=f"tcp://127.0.0.1:{port}")
    with pytest.raises(
        PluginError, match=f"cannot reach the Docker engine at tcp://127.0.0.1:{port}"
    ):
        await plugin.collect_data()


@pytest.mark.parametrize(
    "ref", ["../../info", "..", "a/../b", "%2e%2e", "name?x=1", "/etc", "", "-rf", "a b"]
)
def test_path_like_container_refs_are_refused(ref):
    with pytest.raises(ValueError):
        safe_container_ref(ref)
    with pytest.raises(ValidationError, match="not a valid container name"):
        DockerPlugin.Config(containers=[ref])


def test_real_names_and_ids_are_accepted():
    for ref in ["jellyfin", "home-assistant_1", "db.v2", "a" * 64, "0123456789ab"]:
        assert safe_container_ref(ref) == ref


async def test_engine_supplied_traversal_id_never_reaches_a_path(tmp_path):
    """A compromised or fake engine lists an id like `../../x`; we refuse before requesting it."""
    requests: list[str] = []
    listing = json.dumps(
        [{"Id": "../../secrets", "Names": ["/evil"], "State": "running", "Status": "Up"}]
    ).encode()

    async def handle(reader, writer):
        line = (await reader.readline()).decode()
        requests.append(line.split(" ")[1])
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(listing)}\r\nConnection: close\r\n\r\n".encode()
            + listing
        )
        await writer.drain()
        writer.close()

    sock = tmp_path / "fake.sock"
    server = await asyncio.start_unix_server(handle, path=str(sock))
    async with server:
        with pytest.raises(PluginError, match="refusing a container id"):
            await make(tmp_path, url=f"unix://{sock}").collect_data()
    assert requests == ["/containers/json?all=true"]


def test_endpoint_validation():
    for bad in ["ftp://x", "unix://relative.sock", "docker.sock", "tcp://"]:
        with pytest.raises(ValidationError):
            DockerPlugin.Config(url=bad)
    assert DockerPlugin.Config().url == "unix:///var/run/docker.sock"
