"""scripts/backup.sh: a backup restores the state it was taken at (SQLite; PostgreSQL via pg_dump).

The PostgreSQL round trip runs the script's real pg_dump | gzip and psql pipeline against the test
server: a stand-in for `docker compose` runs each `exec -T db CMD` locally on a fresh database.
(`make test-compose` runs the same script against the real db container.)
"""

from __future__ import annotations

import asyncio
import gzip
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from .conftest import REPO, need

FAKE_COMPOSE = r"""
import os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(" ".join(args) + "\n")
if args[:1] == ["ps"]:
    print("db")
elif args[:1] in (["stop"], ["start"]):
    pass
elif args[:3] == ["exec", "-T", "db"]:
    swap = {"homelab_db": os.environ["FAKE_DB"], "homelab_user": os.environ["FAKE_USER"]}
    cmd = args[3:]
    for old, new in swap.items():
        cmd = [a.replace(old, new) for a in cmd]
    cmd += ["-h", os.environ["FAKE_HOST"], "-p", os.environ["FAKE_PORT"]]
    os.execvp(cmd[0], cmd)
else:
    sys.exit("fake compose: unexpected " + " ".join(args))
"""


def backup_sh(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(REPO / "scripts" / "backup.sh"), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_sqlite_round_trip(tmp_path: Path) -> None:
    db = tmp_path / "data" / "homelab.db"
    db.parent.mkdir()
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE plugins (name TEXT)")
        conn.execute("INSERT INTO plugins VALUES ('nas')")
    env = {"BACKUP_DIR": str(tmp_path / "backups"), "SQLITE_DB": str(db), "COMPOSE": "false"}
    made = backup_sh("backup", env=env)
    assert made.returncode == 0, made.stderr
    [file] = (tmp_path / "backups").glob("unity-sqlite-*.db.gz")
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM plugins")
    restored = backup_sh("restore", str(file), env=env)
    assert restored.returncode == 0, restored.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name FROM plugins").fetchall() == [("nas",)]
    assert (tmp_path / "data" / "homelab.db.before-restore").exists()


def test_refuses_without_a_database(tmp_path: Path) -> None:
    env = {"SQLITE_DB": str(tmp_path / "none.db"), "COMPOSE": "false"}
    result = backup_sh("backup", env=env)
    assert result.returncode != 0
    assert "nothing to back up" in result.stderr
    assert "usage" in backup_sh("restore", env=env).stderr


def test_postgres_round_trip(pg_url: str, tmp_path: Path) -> None:
    need(shutil.which("pg_dump") is not None, "pg_dump is not installed (postgresql-client)")
    url = make_url(pg_url)

    async def sql(query: str) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(pg_url)
        try:
            if ";" in query:
                await conn.execute(query)  # several statements: no result rows
                return []
            return await conn.fetch(query)
        finally:
            await conn.close()

    asyncio.run(
        sql("CREATE TABLE backup_probe (v text); INSERT INTO backup_probe VALUES ('before')")
    )
    fake = tmp_path / "fake_compose.py"
    fake.write_text(FAKE_COMPOSE)
    log = tmp_path / "compose.log"
    env = {
        "COMPOSE": f"{sys.executable} {fake}",
        "BACKUP_DIR": str(tmp_path / "backups"),
        "FAKE_LOG": str(log),
        "FAKE_DB": str(url.database),
        "FAKE_USER": str(url.username),
        "FAKE_HOST": str(url.host),
        "FAKE_PORT": str(url.port or 5432),
    }
    if url.password:
        env["PGPASSWORD"] = url.password
    made = backup_sh("backup", env=env)
    assert made.returncode == 0, made.stderr
    [file] = (tmp_path / "backups").glob("unity-pg-*.sql.gz")
    dump = gzip.decompress(file.read_bytes()).decode()
    assert "CREATE TABLE public.plugins" in dump and "backup_probe" in dump

    asyncio.run(sql("UPDATE backup_probe SET v = 'after'; CREATE TABLE later (x int)"))
    restored = backup_sh("restore", str(file), env=env)
    assert restored.returncode == 0, restored.stderr
    assert [r["v"] for r in asyncio.run(sql("SELECT v FROM backup_probe"))] == ["before"]
    assert not asyncio.run(sql("SELECT 1 FROM pg_tables WHERE tablename = 'later'"))
    calls = log.read_text().splitlines()
    assert calls.index("stop backend") < calls.index("start backend"), calls


def test_restore_rejects_foreign_files(tmp_path: Path) -> None:
    bogus = tmp_path / "x.sql.gz"
    bogus.write_bytes(gzip.compress(b"DROP TABLE everything;"))
    result = backup_sh("restore", str(bogus), env={"COMPOSE": "false", "BACKUP_MODE": "postgres"})
    assert result.returncode != 0
    assert "not a pg_dump file" in result.stderr
    other = tmp_path / "x.txt"
    other.write_text("hello")
    assert "expected a .sql.gz" in backup_sh("restore", str(other), env={}).stderr
