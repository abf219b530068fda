"""The `postgres` plugin's replication samples, on a private primary and streaming standby.

The private primary also checks passwords for one role (the shared server trusts everyone),
which is where a wrong password is tested.

The shared test server has no standby and its pg_hba.conf allows no replication, so this
module makes its own pair with Debian's PostgreSQL binaries (initdb, pg_basebackup -R) in a
temporary directory, on free loopback ports, and stops both at teardown. The server refuses to
run as root, so as root the binaries run as the `postgres` user.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from app.plugins.base import PluginContext, PluginError
from app.plugins.builtin.postgres import PostgresPlugin
from tests.conftest import skip_or_fail
from tests.live import free_port

from .conftest import collect


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@dataclass
class Pair:
    primary_port: int
    standby_port: int
    primary_dir: Path | None = None


def _unavailable(reason: str) -> None:
    skip_or_fail(
        f"postgres replication tests need {reason}. Install with: apt-get install -y postgresql"
    )


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    bindir = _bindir()
    if bindir is None:
        _unavailable("the PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")
    as_user: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="upg", dir="/tmp"))
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("a `postgres` system user to run the server as")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]

    def run(*args: str) -> None:
        out = subprocess.run([*as_user, *args], capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {out.stderr[-2000:]}")

    ports = Pair(free_port(), free_port())
    started: list[Path] = []

    def start(data: Path, port: int) -> None:
        opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c shared_buffers=16MB"
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", f"{data}.log", "-o", opts, "-w",
            "start")  # fmt: skip
        started.append(data)

    try:
        primary, standby = root / "primary", root / "standby"
        ports.primary_dir = primary
        run(str(bindir / "initdb"), "-D", str(primary), "-U", "root", "--auth=trust", "-N")
        start(primary, ports.primary_port)
        run(str(bindir / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(ports.primary_port),
            "-U", "root", "-D", str(standby), "-R", "-X", "stream")  # fmt: skip
        start(standby, ports.standby_port)
        yield ports
    except RuntimeError as exc:
        pytest.fail(f"could not start the private PostgreSQL pair: {exc}")
    finally:
        for data in reversed(started):
            subprocess.run(
                [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(root, ignore_errors=True)


def make(tmp_path, port: int):
    cfg = PostgresPlugin.Config(host="127.0.0.1", port=port, user="root", ssl="disable")
    return PostgresPlugin(cfg, PluginContext(1, tmp_path))


def values(samples) -> dict[str, float]:
    return {s.name: s.value for s in samples if not s.labels}


async def _wait(conn: asyncpg.Connection, query: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not await conn.fetchval(query):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {query}")
        await asyncio.sleep(0.1)


async def test_primary_counts_its_standby(tmp_path, pair):
    samples, reason = await collect(make(tmp_path, pair.primary_port))
    assert reason is None
    got = values(samples)
    assert got["postgres_in_recovery"] == 0 and got["postgres_replicas"] == 1
    assert "postgres_replication_lag_seconds" not in got


async def test_standby_reports_lag_that_grows_while_replay_is_paused(tmp_path, pair):
    primary = await asyncpg.connect(
        host="127.0.0.1", port=pair.primary_port, user="root", database="postgres"
    )
    standby = await asyncpg.connect(
        host="127.0.0.1", port=pair.standby_port, user="root", database="postgres"
    )
    try:
        await primary.execute("CREATE TABLE IF NOT EXISTS t (x int); INSERT INTO t VALUES (1)")
        target = await primary.fetchval("SELECT pg_current_wal_lsn()::text")
        await _wait(standby, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")

        got = values((await collect(make(tmp_path, pair.standby_port)))[0])
        assert got["postgres_in_recovery"] == 1
        assert got["postgres_replication_lag_seconds"] == 0  # caught up: nothing to replay

        await standby.execute("SELECT pg_wal_replay_pause()")
        await asyncio.sleep(1.2)
        await primary.execute("INSERT INTO t VALUES (2)")
        target = await primary.fetchval("SELECT pg_current_wal_lsn()::text")
        await _wait(standby, f"SELECT pg_last_wal_receive_lsn() >= '{target}'::pg_lsn")
        got = values((await collect(make(tmp_path, pair.standby_port)))[0])
        assert got["postgres_replication_lag_seconds"] >= 1
    finally:
        await standby.execute("SELECT pg_wal_replay_resume()")
        await primary.close()
        await standby.close()


async def test_a_wrong_password_says_to_check_it(tmp_path, pair):
    """A role with a password on a server whose pg_hba.conf checks it (scram-sha-256)."""
    assert pair.primary_dir is not None
    conn = await asyncpg.connect(
        host="127.0.0.1", port=pair.primary_port, user="root", database="postgres"
    )
    try:
        await conn.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pwcheck') THEN "
            "CREATE ROLE pwcheck LOGIN PASSWORD 'right-one'; END IF; END $$"
        )
        hba = pair.primary_dir / "pg_hba.conf"
        line = "host all pwcheck 127.0.0.1/32 scram-sha-256\n"
        if line not in hba.read_text():
            hba.write_text(line + hba.read_text())  # first matching line wins
            await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()

    def plugin(password: str) -> PostgresPlugin:
        cfg = PostgresPlugin.Config(
            host="127.0.0.1", port=pair.primary_port, user="pwcheck", password=password,
            ssl="disable",
        )  # fmt: skip
        return PostgresPlugin(cfg, PluginContext(1, tmp_path))

    with pytest.raises(PluginError) as err:
        await plugin("wrong").collect_data()
    assert str(err.value) == (
        f"127.0.0.1:{pair.primary_port}: password authentication failed for role 'pwcheck'; "
        "check the password (or the server's pg_hba.conf)"
    )
    assert "wrong" not in str(err.value)
    samples, _ = await collect(plugin("right-one"))  # pg_monitor is not granted: may fail
    assert values(samples)["up"] == 1
