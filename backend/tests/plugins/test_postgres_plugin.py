"""The `postgres` plugin against the real PostgreSQL the test suite already uses.

The server comes from UNITY_TEST_PG (default postgresql://root@127.0.0.1:5432/postgres, trust
auth). Trust auth never checks a password, so "auth refused" is tested with a role that does
not exist (the server refuses it the same way), and a missing database has its own test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from app.plugins.base import PluginContext, PluginError
from app.plugins.builtin.postgres import PostgresPlugin
from tests.conftest import skip_or_fail
from tests.live import free_port

from .conftest import collect, make_self_signed, tcp_server

PG_URL = os.environ.get("UNITY_TEST_PG", "postgresql://root@127.0.0.1:5432/postgres")
_url = make_url(PG_URL)
PG = {
    "host": _url.host or "127.0.0.1",
    "port": _url.port or 5432,
    "user": _url.username or "root",
    "database": _url.database or "postgres",
}


def make(tmp_path, **config):
    merged = {**PG, **({"password": _url.password} if _url.password else {}), **config}
    return PostgresPlugin(PostgresPlugin.Config(**merged), PluginContext(1, tmp_path))


@pytest.fixture
async def admin() -> AsyncIterator[asyncpg.Connection]:
    try:
        conn = await asyncpg.connect(PG_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        skip_or_fail(
            f"the postgres plugin tests need PostgreSQL at {PG_URL}: {exc}. "
            "Install with: apt-get install -y postgresql"
        )
    try:
        yield conn
    finally:
        await conn.close()


def by_name(samples):
    return {(s.name, tuple(sorted(s.labels.items()))): s for s in samples}


async def test_healthy_server_reports_connections_sizes_and_role(tmp_path, admin):
    samples, reason = await collect(make(tmp_path))
    assert reason is None
    got = by_name(samples)
    assert got[("up", ())].value == 1
    assert 0 < got[("postgres_connect_seconds", ())].value < 5
    max_conn = int(await admin.fetchval("SHOW max_connections"))
    assert got[("postgres_max_connections", ())].value == max_conn
    # the admin connection and the plugin's own are both client backends
    assert got[("postgres_connections", ())].value >= 2
    assert 0 < got[("postgres_connections_used_percent", ())].value <= 100
    assert got[("postgres_in_recovery", ())].value == 0
    assert got[("postgres_replicas", ())].value == 0
    size = await admin.fetchval("SELECT pg_database_size($1)", PG["database"])
    reported = got[("postgres_database_size_bytes", (("database", PG["database"]),))]
    assert reported.unit == "bytes" and abs(reported.value - size) < 1024 * 1024
    assert not any(s.name.endswith("_count") for s in samples)


async def test_only_listed_databases_are_sized(tmp_path, admin):
    samples, _ = await collect(make(tmp_path, databases=[PG["database"]]))
    sized = [s.labels["database"] for s in samples if s.name == "postgres_database_size_bytes"]
    assert sized == [PG["database"]]


async def test_a_query_running_past_the_threshold_is_counted(tmp_path, admin):
    sleeper = await asyncpg.connect(PG_URL, timeout=5)
    task = asyncio.create_task(sleeper.execute("SELECT pg_sleep(5)"))
    try:
        await asyncio.sleep(1.0)
        samples, _ = await collect(make(tmp_path, long_query_seconds=0.5))
        long_running = {s.name: s.value for s in samples}["postgres_long_running_queries"]
        assert long_running >= 1
        samples, _ = await collect(make(tmp_path, long_query_seconds=3600))
        assert {s.name: s.value for s in samples}["postgres_long_running_queries"] == 0
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        sleeper.terminate()


async def test_closed_port_is_down_with_a_sentence(tmp_path):
    port = free_port()
    samples, reason = await collect(make(tmp_path, host="127.0.0.1", port=port))
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert f"127.0.0.1:{port} refused the connection" in reason
    assert "listen_addresses" in reason


async def test_unknown_role_is_refused_with_how_to_create_it(tmp_path, admin):
    with pytest.raises(PluginError) as err:
        await make(tmp_path, user="unity_no_such_role").collect_data()
    text = str(err.value)
    assert "refused role 'unity_no_such_role'" in text and "GRANT pg_monitor" in text


async def test_missing_database_says_which(tmp_path, admin):
    with pytest.raises(PluginError, match="database 'unity_no_such_db' does not exist"):
        await make(tmp_path, database="unity_no_such_db").collect_data()


async def test_missing_statistics_privilege_names_pg_monitor(tmp_path, admin):
    suffix = uuid.uuid4().hex[:8]
    role, locked = f"unity_weak_{suffix}", f"unity_locked_{suffix}"
    await admin.execute(f'CREATE ROLE "{role}" LOGIN')
    await admin.execute(f'CREATE DATABASE "{locked}"')
    await admin.execute(f'REVOKE CONNECT ON DATABASE "{locked}" FROM PUBLIC')
    try:
        plugin = make(tmp_path, user=role, databases=[locked])
        with pytest.raises(PluginError) as err:
            await plugin.collect_data()
        assert f"role '{role}' may not read the statistics" in str(err.value)
        assert f"GRANT pg_monitor TO {role};" in str(err.value)
    finally:
        await admin.execute(f'DROP DATABASE "{locked}"')
        await admin.execute(f'DROP ROLE "{role}"')


async def test_a_server_that_is_not_postgres_is_reported(tmp_path):
    async def garbage(reader, writer):
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\nnot a database\r\n")
        await writer.drain()
        writer.close()

    async with tcp_server(garbage) as port:
        samples, reason = await collect(make(tmp_path, host="127.0.0.1", port=port, ssl="disable"))
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert f"127.0.0.1:{port}" in reason and "PostgreSQL" in reason


async def test_a_server_that_never_answers_times_out(tmp_path, never_answers):
    plugin = make(tmp_path, host="127.0.0.1", port=never_answers, timeout_seconds=0.5)
    samples, reason = await collect(plugin)
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert "no answer within 0.5 s" in reason
    assert reason.endswith("check that the host is up and that no firewall drops the port")


async def test_requiring_tls_from_a_server_without_it_says_what_to_change(tmp_path, admin):
    if await admin.fetchval("SHOW ssl") == "on":  # Debian's default; this workplace has it off
        pytest.skip("this server offers TLS; the untrusted-certificate test covers TLS")
    with pytest.raises(PluginError, match="does not offer TLS but ssl is 'require'"):
        await make(tmp_path, ssl="require").collect_data()


async def test_an_untrusted_certificate_with_verify_full_says_what_to_change(tmp_path):
    # The first steps of a real server's TLS start: it answers the 8-byte SSLRequest with
    # "S", then handshakes, here with a self-signed certificate the system does not trust.
    cert, key = make_self_signed(tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)

    async def tls_only(reader, writer):
        await reader.readexactly(8)
        writer.write(b"S")
        await writer.drain()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.start_tls(server_tls)
        writer.close()

    async with tcp_server(tls_only) as port:
        plugin = make(tmp_path, host="127.0.0.1", port=port, ssl="verify-full")
        with pytest.raises(PluginError) as err:
            await plugin.collect_data()
    assert "TLS failed" in str(err.value) and "CERTIFICATE_VERIFY_FAILED" in str(err.value)
    assert "use ssl=require" in str(err.value)


def test_config_refuses_a_url_as_host():
    with pytest.raises(ValidationError):
        PostgresPlugin.Config(host="postgres://db.lan/")
    assert PostgresPlugin.secret_fields() == ["password"]
