"""The `mysql` plugin against real MariaDB servers this module starts on free loopback ports.

Each server is Debian's `mariadbd` on a temporary data dir made by `mariadb-install-db`,
reachable by TCP on 127.0.0.1 only and stopped at teardown; the system instance on 3306 is
never touched. A second server replicates from the first for the replication samples.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.plugins.base import PluginContext, PluginError
from app.plugins.builtin.mysql import MysqlPlugin, replica_samples
from tests.conftest import skip_or_fail
from tests.live import free_port, stop_process

from .conftest import collect, make_self_signed, tcp_server

MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
CLIENT = shutil.which("mariadb") or "/usr/bin/mariadb"
MONITOR = ("unity", "monitor-pw")
WEAK = ("weak", "weak-pw")
REPL = ("repl", "repl-pw")


@dataclass
class MariaDB:
    root: Path
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def socket(self) -> str:
        return str(self.root / "sock")

    def sql(self, statement: str, names: bool = False) -> str:
        """Runs SQL as root over the private unix socket; answers tab-separated rows."""
        flags = ["-B"] if names else ["-N", "-B"]
        out = subprocess.run(
            [CLIENT, "--no-defaults", "-S", self.socket, "-uroot", *flags, "-e", statement],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if out.returncode != 0:
            raise RuntimeError(f"{statement!r} failed: {out.stderr}")
        return out.stdout.strip()

    def stop(self) -> None:
        stop_process(self.proc, 30, 10)
        shutil.rmtree(self.root, ignore_errors=True)


def start_mariadb(server_id: int, tls: bool = True) -> MariaDB:
    missing = [p for p in (MARIADBD, INSTALL_DB, CLIENT) if not os.path.exists(p)]
    if missing:
        skip_or_fail(
            f"mysql plugin tests need MariaDB ({', '.join(missing)} missing). "
            "Install with: apt-get install -y mariadb-server"
        )
    # unix socket paths are limited to ~108 bytes, so keep the directory short.
    root = Path(tempfile.mkdtemp(prefix="umy", dir="/tmp"))
    user = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(
        [INSTALL_DB, "--no-defaults", f"--datadir={root / 'data'}", "--skip-test-db",
         "--auth-root-authentication-method=normal", *user],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    port = free_port()
    tls_args: list[str] = []
    if tls:  # so TLS can be tested; plain logins still work
        cert, key = make_self_signed(root)
        os.chmod(key, 0o644)  # readable by mariadbd whichever user it runs as (a throwaway key)
        tls_args = [f"--ssl-cert={cert}", f"--ssl-key={key}"]
    log = open(root / "err.log", "wb")  # noqa: SIM115 - the child keeps it; closed with it
    proc = subprocess.Popen(
        [MARIADBD, "--no-defaults", f"--datadir={root / 'data'}", f"--port={port}",
         "--bind-address=127.0.0.1", f"--socket={root / 'sock'}", f"--pid-file={root / 'pid'}",
         "--skip-name-resolve", f"--server-id={server_id}", f"--log-bin={root / 'binlog'}",
         "--innodb-buffer-pool-size=16M", "--performance-schema=OFF",
         *tls_args, *user],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    log.close()
    server = MariaDB(root, port, proc)
    deadline = time.monotonic() + 60
    while True:
        try:
            server.sql("SELECT 1")
            return server
        except RuntimeError:
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (root / "err.log").read_text(errors="replace")[-2000:]
                server.stop()
                pytest.fail(f"the test mariadbd did not start:\n{tail}")
            time.sleep(0.1)


def create_users(server: MariaDB) -> None:
    # Kept out of the binary log, so a replica does not replay them over its own.
    server.sql(
        "SET sql_log_bin = 0;"
        f"CREATE USER '{MONITOR[0]}'@'127.0.0.1' IDENTIFIED BY '{MONITOR[1]}';"
        f"GRANT PROCESS, SLAVE MONITOR ON *.* TO '{MONITOR[0]}'@'127.0.0.1';"
        f"CREATE USER '{WEAK[0]}'@'127.0.0.1' IDENTIFIED BY '{WEAK[1]}';"
        f"CREATE USER '{REPL[0]}'@'127.0.0.1' IDENTIFIED BY '{REPL[1]}';"
        f"GRANT REPLICATION SLAVE ON *.* TO '{REPL[0]}'@'127.0.0.1';"
    )


@pytest.fixture(scope="module")
def primary() -> Iterator[MariaDB]:
    server = start_mariadb(server_id=1)
    try:
        create_users(server)
        yield server
    finally:
        server.stop()


@pytest.fixture
def replica(primary: MariaDB) -> Iterator[MariaDB]:
    server = start_mariadb(server_id=2)
    try:
        create_users(server)
        server.sql(
            f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary.port}, "
            f"MASTER_USER='{REPL[0]}', MASTER_PASSWORD='{REPL[1]}', MASTER_USE_GTID=no;"
            "START SLAVE;"
        )
        deadline = time.monotonic() + 30
        while not {"Slave_IO_Running: Yes", "Slave_SQL_Running: Yes"} <= {
            line.strip() for line in server.sql("SHOW SLAVE STATUS\\G", names=True).splitlines()
        }:
            if time.monotonic() > deadline:
                status = server.sql("SHOW SLAVE STATUS\\G", names=True)
                pytest.fail(f"the test replica did not start replicating:\n{status}")
            time.sleep(0.2)
        yield server
    finally:
        server.stop()


def make(tmp_path, port: int, login: tuple[str, str] = MONITOR, **config):
    cfg = {"host": "127.0.0.1", "port": port, "user": login[0], "password": login[1]}
    return MysqlPlugin(MysqlPlugin.Config(**(cfg | config)), PluginContext(1, tmp_path))


def values(samples) -> dict[str, float]:
    return {s.name: s.value for s in samples}


async def test_healthy_server_reports_threads_and_counters(tmp_path, primary):
    samples, reason = await collect(make(tmp_path, primary.port))
    assert reason is None
    got = values(samples)
    assert got["up"] == 1
    assert 0 < got["mysql_connect_seconds"] < 5
    assert got["mysql_threads_connected"] >= 1 and got["mysql_threads_running"] >= 1
    assert got["mysql_max_connections"] == float(primary.sql("SELECT @@max_connections"))
    assert 0 < got["mysql_connections_used_percent"] <= 100
    assert got["mysql_questions_total"] >= 1 and got["mysql_uptime_seconds"] >= 0
    assert got["mysql_replica"] == 0
    assert not any(s.name.endswith("_count") for s in samples)


async def test_a_slow_query_moves_the_counter(tmp_path, primary):
    before = values((await collect(make(tmp_path, primary.port)))[0])["mysql_slow_queries_total"]
    await asyncio.to_thread(primary.sql, "SET SESSION long_query_time = 0.1; SELECT SLEEP(0.3)")
    after = values((await collect(make(tmp_path, primary.port)))[0])["mysql_slow_queries_total"]
    assert after == before + 1


async def test_replica_reports_lag_and_threads(tmp_path, primary, replica):
    got = values((await collect(make(tmp_path, replica.port)))[0])
    assert got["mysql_replica"] == 1
    assert got["mysql_replica_io_running"] == 1 and got["mysql_replica_sql_running"] == 1
    assert got["mysql_replica_lag_seconds"] >= 0
    await asyncio.to_thread(replica.sql, "STOP SLAVE SQL_THREAD")
    got = values((await collect(make(tmp_path, replica.port)))[0])
    assert got["mysql_replica_sql_running"] == 0
    assert "mysql_replica_lag_seconds" not in got  # NULL while the SQL thread is stopped


def test_mysql8_source_replica_words_are_understood():
    # Column names as documented for MySQL 8.0.22+ SHOW REPLICA STATUS.
    row = {"Replica_IO_Running": "Yes", "Replica_SQL_Running": "No", "Seconds_Behind_Source": 7}
    got = values(replica_samples(row))
    assert got == {
        "mysql_replica": 1,
        "mysql_replica_io_running": 1,
        "mysql_replica_sql_running": 0,
        "mysql_replica_lag_seconds": 7,
    }


async def test_tls_with_a_self_signed_certificate(tmp_path, primary):
    samples, reason = await collect(make(tmp_path, primary.port, tls=True, verify_tls=False))
    assert reason is None and values(samples)["up"] == 1
    samples, reason = await collect(make(tmp_path, primary.port, tls=True))
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert "TLS failed" in reason and "verify_tls" in reason


async def test_requiring_tls_from_a_server_without_it_says_so(tmp_path):
    server = start_mariadb(server_id=3, tls=False)
    try:
        create_users(server)
        with pytest.raises(PluginError, match="the server does not offer TLS; turn off tls"):
            await make(tmp_path, server.port, tls=True).collect_data()
    finally:
        server.stop()


async def test_wrong_password_is_refused_with_a_sentence(tmp_path, primary):
    with pytest.raises(PluginError) as err:
        await make(tmp_path, primary.port, (MONITOR[0], "wrong")).collect_data()
    assert "refused user 'unity'" in str(err.value) and "check the password" in str(err.value)


async def test_missing_grants_name_the_privileges(tmp_path, primary):
    with pytest.raises(PluginError) as err:
        await make(tmp_path, primary.port, WEAK).collect_data()
    text = str(err.value)
    assert "user 'weak' lacks a privilege" in text
    assert "REPLICATION CLIENT" in text and "SLAVE MONITOR" in text


async def test_closed_port_is_down_with_a_sentence(tmp_path):
    port = free_port()
    samples, reason = await collect(make(tmp_path, port))
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert f"127.0.0.1:{port} refused the connection" in reason and "bind-address" in reason


async def test_a_server_that_is_not_mysql_is_reported(tmp_path):
    async def garbage(reader, writer):
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n" + b"\x00" * 64)
        await writer.drain()
        await asyncio.sleep(0.5)
        writer.close()

    async with tcp_server(garbage) as port:
        samples, reason = await collect(make(tmp_path, port))
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert "did not answer like a MySQL or MariaDB server" in reason


async def test_a_server_that_never_answers_times_out(tmp_path, never_answers):
    samples, reason = await collect(make(tmp_path, never_answers, timeout_seconds=0.5))
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert "no answer within 0.5 s" in reason
    assert reason.endswith("check that the host is up and that no firewall drops the port")


def test_config_refuses_a_url_as_host_and_hides_the_password():
    with pytest.raises(ValidationError):
        MysqlPlugin.Config(host="mysql://db.lan")
    assert MysqlPlugin.secret_fields() == ["password"]
