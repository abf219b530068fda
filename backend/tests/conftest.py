"""Shared fixtures: a migrated database per test (SQLite and PostgreSQL), the app, and clients.

PostgreSQL comes from UNITY_TEST_PG (default postgresql://root@127.0.0.1:5432/postgres). Each test
gets a fresh database cloned from a template migrated once by Alembic. Without a server the
PostgreSQL half is skipped loudly, except with CI=true, where it fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import asyncpg
import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.db.migrate import migrate
from app.db.session import Database
from app.main import create_app
from app.models import PluginInstance
from tests.alert_helpers import Receiver

PG_ADMIN_URL = os.environ.get("UNITY_TEST_PG", "postgresql://root@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(message: str) -> NoReturn:
    """Skip loudly when a tool or server is missing; with CI=true that is a failure instead."""
    if IN_CI:
        pytest.fail(f"{message} (CI=true: this test must run)", pytrace=False)
    pytest.skip(message)


TEST_KEY = Fernet.generate_key().decode()
TEST_JWT = "test-jwt-secret-" + "x" * 40
PASSWORD = "correct-horse-battery"

_pg_state: dict[str, Any] = {}


def _pg_dsn(database: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_template() -> str:
    """Name of a template database migrated to head, made once per test session."""
    if "template" in _pg_state:
        return str(_pg_state["template"])
    if "error" in _pg_state:
        raise RuntimeError(_pg_state["error"])
    name = f"unity_tpl_{os.getpid()}"

    async def make() -> None:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')
        await _pg_admin(f'CREATE DATABASE "{name}"')
        db = Database(make_url(_pg_dsn(name)).set(drivername="postgresql+asyncpg"))
        try:
            await migrate(db.engine)
        finally:
            await db.dispose()

    try:
        asyncio.run(make())
    except (OSError, asyncpg.PostgresError) as exc:
        _pg_state["error"] = f"PostgreSQL at {PG_ADMIN_URL} unavailable: {exc}"
        raise RuntimeError(_pg_state["error"]) from exc
    _pg_state["template"] = name
    return name


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    name = _pg_state.get("template")
    if name:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if "template" in _pg_state:
        terminalreporter.write_line(f"PostgreSQL tests ran against {make_url(PG_ADMIN_URL).host}")
    elif "error" in _pg_state:
        terminalreporter.write_line(f"PostgreSQL tests SKIPPED: {_pg_state['error']}", red=True)


def require_postgres() -> str:
    try:
        return _pg_template()
    except RuntimeError as exc:
        skip_or_fail(f"{exc}; start PostgreSQL or set UNITY_TEST_PG to run these")


def _hosts_file_names() -> set[str]:
    names = {"localhost"}
    with contextlib.suppress(OSError):
        for line in Path("/etc/hosts").read_text().splitlines():
            names.update(n.lower() for n in line.split("#", 1)[0].split()[1:])
    return names


@pytest.fixture(autouse=True, scope="session")
def _no_name_lookups_beyond_this_machine() -> Iterator[None]:
    """Tests send nothing past loopback, DNS queries included: a name that is not an address,
    `localhost` or in /etc/hosts fails at once the way an unknown name does (EAI_NONAME),
    instead of asking the machine's resolver (which is not on loopback). Tests of names that
    do not resolve (`no-such-host.invalid`) see what a user's resolver would answer.
    Backends started as child processes resolve normally; their tests use loopback only."""
    real = socket.getaddrinfo
    local = _hosts_file_names()

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is None or name.lower().rstrip(".") in local:
            return real(host, *args, **kwargs)
        try:
            ipaddress.ip_address(name.split("%", 1)[0])
        except ValueError:
            if not name.lower().endswith(".localhost"):
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        return real(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = real


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its production cost takes ~0.3 s a hash; tests need many, not strong ones.

    Backends started as child processes keep the real cost.
    """
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from app.core import security

    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    monkeypatch.setattr(security, "_hasher", cheap)


@contextlib.contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database (plain URL form), dropped afterwards."""
    template = require_postgres()
    name = f"unity_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield _pg_dsn(name)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test."""
    with fresh_pg_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'homelab.db'}"
    return str(request.getfixturevalue("pg_url"))


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "encryption_key": TEST_KEY,
        "jwt_secret_key": TEST_JWT,
        "log_level": "warning",
        "create_default_plugin": False,
        "writer_flush_seconds": 0.05,
        "frontend_dist": data_dir / "no-dist",
        # Tests probe loopback only (the canary's default is the real gateway), and send at once
        # unless a test asks for a group window.
        "canary_targets": [],
        "notify_group_seconds": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class Statement(NamedTuple):
    at: float  # time.time() when it was sent
    sql: str


@contextlib.contextmanager
def recorded_statements(db: Database) -> Iterator[list[Statement]]:
    """Every SQL statement sent through this database's engine inside the block, in order."""
    statements: list[Statement] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(Statement(time.time(), statement))

    for engine in db.sync_engines:  # on SQLite the writers' thread has an engine of its own
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in db.sync_engines:
            event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@contextlib.asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[Any]:
    """The app with its lifespan (database, writer, scheduler) started."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


def asgi_client(app: Any, base_url: str = "http://t") -> httpx.AsyncClient:
    """An HTTP client that calls the app in process, without a socket."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that accepts connections (the kernel queues up to 64)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A loopback webhook receiver that records what notifications deliver."""
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    async with running_app(settings) as application:
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app, "http://testserver") as c:
        yield c


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> dict[str, str]:
    r = await client.post("/api/v1/auth/login", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def setup_admin(client: httpx.AsyncClient, username: str = "admin") -> dict[str, str]:
    """Authorization headers of the first admin, created through first-run setup."""
    r = await client.post("/api/v1/auth/setup", json={"username": username, "password": PASSWORD})
    assert r.status_code == 201, r.text
    return await login(client, username)


@pytest.fixture
async def admin(client: httpx.AsyncClient) -> dict[str, str]:
    """Authorization headers of the first admin, created through first-run setup."""
    return await setup_admin(client)


@pytest.fixture
async def viewer(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, str]:
    r = await client.post(
        "/api/v1/users",
        json={"username": "viewer", "password": PASSWORD, "role": "viewer"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    return await login(client, "viewer")


def plugin_row(name: str = "nas", **fields: Any) -> PluginInstance:
    """A plugin instance row for tests that hang samples, rules or silences on one."""
    defaults: dict[str, Any] = {
        "type": "system",
        "config": {},
        "interval_seconds": 60,
        "timeout_seconds": 10,
        "enabled": True,
    }
    return PluginInstance(name=name, **{**defaults, **fields})


async def add_plugin(db: Database, name: str = "nas", **fields: Any) -> int:
    """Store a `plugin_row` and return its id."""
    async with db.session() as s:
        plugin = plugin_row(name, **fields)
        s.add(plugin)
        await s.commit()
        return plugin.id


def install_plugin_package(site: Path, module: str, source: str, plugins: dict[str, str]) -> None:
    """Leave `module` in `site` as `pip install` would: the module and a dist-info whose
    `unity.plugins` entry points map each plugin type to `module:Class` (or any target)."""
    (site / f"{module}.py").write_text(source)
    info = site / f"{module}-1.0.dist-info"
    info.mkdir()
    name = module.replace("_", "-")
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    entries = "".join(f"{kind} = {target}\n" for kind, target in plugins.items())
    (info / "entry_points.txt").write_text("[unity.plugins]\n" + entries)
