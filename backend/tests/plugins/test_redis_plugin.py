"""The `redis` plugin against real servers: the shared Redis at 127.0.0.1:6379 (as CI runs it)
and a private redis-server this module starts with `requirepass` and an ACL user on a free
loopback port, for keys, the refused login and the permission cases."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.plugins.base import PluginContext, PluginError
from app.plugins.builtin.redis import RedisPlugin
from tests.conftest import skip_or_fail
from tests.live import free_port

from .conftest import collect, make_self_signed, tcp_server

SHARED = ("127.0.0.1", 6379)
PASSWORD = "s3cret-for-tests"
LIMITED = ("limited", "limited-pw")


def make(tmp_path, **config):
    return RedisPlugin(RedisPlugin.Config(**config), PluginContext(1, tmp_path))


def _unavailable(reason: str) -> None:
    skip_or_fail(f"redis plugin tests need {reason}. Install with: apt-get install -y redis-server")


@dataclass
class PrivateRedis:
    port: int

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), "--no-auth-warning",
             "-a", PASSWORD, *args],
            capture_output=True, text=True, timeout=10, check=True,
        )  # fmt: skip
        return out.stdout.strip()


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    binary = shutil.which("redis-server")
    if binary is None or shutil.which("redis-cli") is None:
        _unavailable("redis-server and redis-cli")
    port = free_port()
    workdir: Path = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir), "--requirepass", PASSWORD,
         "--user", LIMITED[0], "on", f">{LIMITED[1]}", "+ping"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    server = PrivateRedis(port)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if server.cli("PING") == "PONG":
                    break
            except subprocess.CalledProcessError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the test redis-server on port {port} did not start")
            time.sleep(0.05)
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def shared_redis() -> tuple[str, int]:
    try:
        socket.create_connection(SHARED, timeout=2).close()
    except OSError as exc:
        _unavailable(f"Redis at {SHARED[0]}:{SHARED[1]} ({exc})")
    return SHARED


async def test_shared_server_reports_memory_clients_and_role(tmp_path, shared_redis):
    host, port = shared_redis
    samples, reason = await collect(make(tmp_path, host=host, port=port))
    assert reason is None
    got = {s.name: s for s in samples if not s.labels}
    assert got["up"].value == 1
    assert 0 < got["redis_connect_seconds"].value < 5
    assert got["redis_memory_used_bytes"].unit == "bytes"
    assert got["redis_memory_used_bytes"].value > 100_000
    assert got["redis_connected_clients"].value >= 1
    assert got["redis_commands_processed_total"].value >= 1
    assert got["redis_role_master"].value == 1
    assert "redis_evicted_keys_total" in got and "redis_uptime_seconds" in got
    assert not any(s.name.endswith("_count") for s in samples)


async def test_keys_per_database_with_password(tmp_path, private_redis):
    private_redis.cli("-n", "3", "SET", "a", "1")
    private_redis.cli("-n", "3", "SET", "b", "2", "EX", "600")
    private_redis.cli("-n", "5", "SET", "c", "3")
    samples, reason = await collect(
        make(tmp_path, host="127.0.0.1", port=private_redis.port, password=PASSWORD)
    )
    assert reason is None
    keys = {s.labels["db"]: s.value for s in samples if s.name == "redis_keys"}
    expiring = {s.labels["db"]: s.value for s in samples if s.name == "redis_keys_expiring"}
    assert keys == {"3": 2, "5": 1}
    assert expiring == {"3": 1, "5": 0}


async def test_missing_password_is_refused_with_a_hint(tmp_path, private_redis):
    with pytest.raises(PluginError) as err:
        await make(tmp_path, host="127.0.0.1", port=private_redis.port).collect_data()
    assert "refused to log in the default user" in str(err.value)
    assert "requirepass" in str(err.value)


async def test_wrong_password_is_refused(tmp_path, private_redis):
    plugin = make(tmp_path, host="127.0.0.1", port=private_redis.port, password="wrong")
    with pytest.raises(PluginError, match="check the user name and password"):
        await plugin.collect_data()


async def test_acl_user_without_info_permission_is_told_what_to_allow(tmp_path, private_redis):
    user, password = LIMITED
    plugin = make(
        tmp_path, host="127.0.0.1", port=private_redis.port, username=user, password=password
    )
    with pytest.raises(PluginError) as err:
        await plugin.collect_data()
    assert "may not run INFO" in str(err.value) and "+info" in str(err.value)


async def test_closed_port_is_down_with_a_sentence(tmp_path):
    port = free_port()
    samples, reason = await collect(make(tmp_path, host="127.0.0.1", port=port))
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert f"127.0.0.1:{port} refused the connection" in reason


async def test_a_server_that_is_not_redis_is_reported(tmp_path):
    async def http_like(reader, writer):
        await reader.readline()
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    async with tcp_server(http_like) as port:
        samples, reason = await collect(make(tmp_path, host="127.0.0.1", port=port))
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert "did not answer like a Redis server" in reason


async def test_a_server_that_never_answers_times_out(tmp_path, never_answers):
    plugin = make(tmp_path, host="127.0.0.1", port=never_answers, timeout_seconds=0.5)
    samples, reason = await collect(plugin)
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert "no answer within 0.5 s" in reason
    assert reason.endswith("check that the host is up and that no firewall drops the port")


@pytest.fixture
def tls_redis(tmp_path) -> Iterator[int]:
    """A redis-server that only speaks TLS (self-signed certificate), no client certificates."""
    binary = shutil.which("redis-server")
    if binary is None:
        _unavailable("redis-server")
    cert, key = make_self_signed(tmp_path)
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-auth-clients", "no",
         "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the TLS redis-server did not start (built without TLS?)")
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_tls_with_and_without_certificate_verification(tmp_path, tls_redis):
    plugin = make(tmp_path, host="127.0.0.1", port=tls_redis, tls=True, verify_tls=False)
    samples, reason = await collect(plugin)
    assert reason is None and {s.name: s.value for s in samples}["up"] == 1
    samples, reason = await collect(make(tmp_path, host="127.0.0.1", port=tls_redis, tls=True))
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert "TLS failed" in reason and "verify_tls" in reason


async def test_a_replica_and_its_master_report_their_roles(tmp_path, private_redis):
    port = free_port()
    proc = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port),
         "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path),
         "--replicaof", "127.0.0.1", str(private_redis.port), "--masterauth", PASSWORD],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        replica = make(tmp_path, host="127.0.0.1", port=port)
        deadline = time.monotonic() + 20
        while True:
            try:
                samples, _ = await collect(replica)
                got = {s.name: s.value for s in samples if not s.labels}
                if got.get("redis_master_link_up") == 1:
                    break
            except PluginError:
                pass
            assert time.monotonic() < deadline, "the test replica never linked to its master"
            await asyncio.sleep(0.1)
        assert got["redis_role_master"] == 0 and got["redis_master_last_io_seconds"] >= 0
        master = make(tmp_path, host="127.0.0.1", port=private_redis.port, password=PASSWORD)
        got = {s.name: s.value for s in (await collect(master))[0] if not s.labels}
        assert got["redis_role_master"] == 1 and got["redis_connected_replicas"] == 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_tls_against_a_plain_port_says_so(tmp_path, private_redis):
    port = private_redis.port
    plugin = make(tmp_path, host="127.0.0.1", port=port, tls=True, timeout_seconds=1)
    samples, reason = await collect(plugin)
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert reason == (
        f"127.0.0.1:{port}: no answer within 1 s; if the port is plain (no TLS), turn off tls"
    )


def test_config_refuses_a_url_as_host_and_hides_the_password():
    with pytest.raises(ValidationError):
        RedisPlugin.Config(host="redis://cache.lan:6379")
    assert RedisPlugin.secret_fields() == ["password"]
