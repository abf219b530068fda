"""Plugin credentials: ciphertext at rest, never in a response or a log line, and key rotation."""

from __future__ import annotations

import base64
import http.server
import json
import logging
import subprocess
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, text

from app.core.logging import JsonFormatter, TextFormatter
from app.core.security import SecretBox
from app.models import Base, PluginInstance
from tests.api.test_auth_coverage import example, operations
from tests.conftest import TEST_JWT, TEST_KEY
from tests.live import run_cli

MASK = "********"
USERNAME = "monitor"


def _unique_secret() -> str:
    return f"pw-{uuid.uuid4().hex}-Zq9"


@pytest.fixture
def basic_auth_server() -> Iterator[tuple[str, dict[str, Any]]]:
    """A loopback site answering 200 only to the expected basic-auth password; logs outcomes."""
    expected: dict[str, Any] = {"password": "", "accepted": []}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            token = base64.b64encode(f"{USERNAME}:{expected['password']}".encode()).decode()
            ok = self.headers.get("Authorization") == f"Basic {token}"
            expected["accepted"].append(ok)
            body = b"welcome" if ok else b"who are you?"
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/status", expected
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
async def recorded(app: Any) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    """A client that keeps every response body it receives, to search them all at the end."""
    bodies: list[str] = []

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        bodies.append(
            f"{response.request.method} {response.request.url} -> "
            f"{response.status_code} {response.headers} {response.text}"
        )

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", event_hooks={"response": [keep]}
    ) as c:
        yield c, bodies


async def _stored(app: Any, plugin_id: int) -> PluginInstance:
    async with app.state.unity.db.session() as session:
        plugin = await session.get(PluginInstance, plugin_id)
        assert plugin is not None
        return plugin


async def _all_rows(app: Any) -> str:
    """Every row of every table as text: a plain secret must be in none of them."""
    dump = []
    async with app.state.unity.db.session() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            dump.append(f"{table.name}: {rows!r}")
    return "\n".join(dump)


async def _get_everything(
    app: Any, client: httpx.AsyncClient, headers: dict[str, str], ids: dict[str, Any]
) -> int:
    """Call every GET operation in the schema, filling ids we know; returns how many answered."""
    spec = app.openapi()
    answered = 0
    for method, path, op in operations(app):
        if method != "GET":
            continue
        url, params = path, {}
        for param in op.get("parameters", []):
            name = param["name"]
            value = ids.get(name)
            if param["in"] == "path":
                url = url.replace("{" + name + "}", str(value if value is not None else 1))
            elif param["in"] == "query" and (value is not None or param.get("required")):
                params[name] = value if value is not None else example(param["schema"], spec)
        r = await client.get(url, params=params, headers=headers)
        assert r.status_code < 500, f"GET {url}: {r.status_code} {r.text}"
        answered += r.status_code == 200
    return answered


async def test_a_plugin_secret_never_leaves_in_a_response_or_a_log_line(
    app: Any,
    recorded: tuple[httpx.AsyncClient, list[str]],
    admin: dict[str, str],
    viewer: dict[str, str],
    basic_auth_server: tuple[str, dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client, bodies = recorded
    url, expected = basic_auth_server
    secret, second_secret = _unique_secret(), _unique_secret()
    expected["password"] = secret
    box: SecretBox = app.state.unity.box

    types = (await client.get("/api/v1/plugin-types", headers=admin)).json()
    assert next(t for t in types if t["type"] == "http")["secret_fields"] == [
        "basic_auth_password",
        "bearer_token",
    ]
    config = {
        "url": url,
        "basic_auth_username": USERNAME,
        "basic_auth_password": secret,
        "check_certificate": False,
    }
    r = await client.post(
        "/api/v1/plugins",
        json={"name": "NAS", "type": "http", "config": config, "interval_seconds": 3600},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    plugin = r.json()
    assert plugin["config"]["basic_auth_password"] == MASK
    assert plugin["config"]["bearer_token"] is None
    pid = plugin["id"]

    # at rest: Fernet ciphertext under ENCRYPTION_KEY, nothing plain in any table
    stored = await _stored(app, pid)
    assert stored.secrets is not None and stored.secrets.startswith("gAAAAA")
    assert json.loads(Fernet(TEST_KEY).decrypt(stored.secrets.encode())) == {
        "basic_auth_password": secret
    }
    assert "basic_auth_password" not in stored.config
    assert secret not in await _all_rows(app)
    async with app.state.unity.db.engine.connect() as conn:
        raw = (await conn.execute(text("SELECT config, secrets FROM plugins"))).one()
    assert secret not in str(raw) and raw.secrets == stored.secrets

    # the decrypted secret is what the plugin sends: the site accepts it
    run = (await client.post(f"/api/v1/plugins/{pid}/run", headers=admin)).json()
    assert run["status"] == "success", run
    assert expected["accepted"] == [True]

    # PATCH with the mask keeps the stored value, while other fields change
    shown = (await client.get(f"/api/v1/plugins/{pid}", headers=admin)).json()["config"]
    r = await client.patch(
        f"/api/v1/plugins/{pid}", json={"config": {**shown, "keyword": "welcome"}}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["config"]["basic_auth_password"] == MASK
    assert r.json()["config"]["keyword"] == "welcome"
    stored = await _stored(app, pid)
    assert box.decrypt(stored.secrets or "") == {"basic_auth_password": secret}
    r = await client.patch(f"/api/v1/plugins/{pid}", json={"name": "NAS web"}, headers=admin)
    assert box.decrypt((await _stored(app, pid)).secrets or "") == {"basic_auth_password": secret}
    run = (await client.post(f"/api/v1/plugins/{pid}/run", headers=admin)).json()
    assert run["status"] == "success", run
    assert expected["accepted"] == [True, True]

    # a refused update names the problem without echoing the value
    r = await client.patch(
        f"/api/v1/plugins/{pid}",
        json={"config": {"url": url, "basic_auth_password": second_secret}},
        headers=admin,
    )
    assert r.status_code == 422 and "basic_auth_password needs" in r.text

    # every readable route, as admin and as viewer, with real ids filled in
    listed = (await client.get("/api/v1/metrics/series", headers=admin)).json()["items"]
    assert listed, "the runs above should have produced series"
    me = (await client.get("/api/v1/auth/me", headers=admin)).json()
    token = (await client.post("/api/v1/tokens", json={"name": "t"}, headers=admin)).json()
    ids = {
        "plugin_id": pid,
        "user_id": me["id"],
        "token_id": token["id"],
        "series_id": [s["id"] for s in listed],
    }
    for who in (admin, viewer):
        assert await _get_everything(app, client, who, ids) >= 8

    # a new secret replaces the old one; null removes it
    r = await client.patch(
        f"/api/v1/plugins/{pid}",
        json={"config": {**shown, "basic_auth_password": second_secret}},
        headers=admin,
    )
    assert r.json()["config"]["basic_auth_password"] == MASK
    assert box.decrypt((await _stored(app, pid)).secrets or "") == {
        "basic_auth_password": second_secret
    }
    assert (await client.post(f"/api/v1/plugins/{pid}/run", headers=admin)).status_code == 200
    assert expected["accepted"][-1] is False  # the new secret was sent; the site wants the old
    r = await client.patch(
        f"/api/v1/plugins/{pid}",
        json={"config": {**shown, "basic_auth_password": None}},
        headers=admin,
    )
    assert r.json()["config"]["basic_auth_password"] is None
    assert (await _stored(app, pid)).secrets is None

    assert len(bodies) > 40
    for body in bodies:
        assert secret not in body and second_secret not in body, body[:300]
    assert caplog.records, "the app logged nothing: is caplog wired?"
    assert secret not in caplog.text and second_secret not in caplog.text
    for record in caplog.records:  # the app's own formatters also print the `extra` fields
        for formatter in (JsonFormatter(), TextFormatter()):
            line = formatter.format(record)
            assert secret not in line and second_secret not in line, line


async def _fernet_values(app: Any) -> list[str]:
    """Every stored value that looks like a Fernet token, in any column of any table."""
    found = []
    async with app.state.unity.db.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                found += [v for v in row if isinstance(v, str) and v.startswith("gAAAAA")]
    return found


def _rotate_key(database_url: str, keys: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(
        tmp_path,
        "rotate-key",
        DATABASE_URL=database_url,
        ENCRYPTION_KEY=keys,
        JWT_SECRET_KEY=TEST_JWT,
        DATA_DIR=str(tmp_path / "cli"),
        LOG_LEVEL="info",
    )


async def test_rotate_key_moves_every_credential_to_the_new_key(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    secrets = {}
    configs = {
        "basic": lambda s: {
            "url": "http://127.0.0.1:9/",
            "basic_auth_username": "u",
            "basic_auth_password": s,
        },
        "bearer": lambda s: {"url": "http://127.0.0.1:9/", "bearer_token": s},
        "plain": lambda s: {"url": "http://127.0.0.1:9/"},
    }
    for name, make in configs.items():
        secrets[name] = _unique_secret()
        r = await client.post(
            "/api/v1/plugins",
            json={"name": name, "type": "http", "config": make(secrets[name]), "enabled": False},
            headers=admin,
        )
        assert r.status_code == 201, r.text

    secrets["channel"] = _unique_secret()
    r = await client.post(
        "/api/v1/channels",
        json={"name": "hook", "url": f"json://127.0.0.1:9/{secrets['channel']}", "enabled": False},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert secrets["channel"] not in r.text
    r = await client.post(
        "/api/v1/plugins",
        json={"name": "backup", "type": "push", "config": {}, "enabled": False},
        headers=admin,
    )
    r = await client.get(f"/api/v1/plugins/{r.json()['id']}/push-token", headers=admin)
    push_token = r.json()["token"]
    totp_secret = (await client.post("/api/v1/auth/totp/enrol", headers=admin)).json()["secret"]

    async def ciphertexts() -> dict[str, str | None]:
        async with app.state.unity.db.engine.connect() as conn:
            rows = await conn.execute(text("SELECT name, secrets FROM plugins"))
            return {row.name: row.secrets for row in rows}

    before = await ciphertexts()
    assert before["plain"] is None

    new_key = Fernet.generate_key().decode()
    # a key list that opens nothing stored: refused in one line, and nothing changes
    failed = _rotate_key(database_url, Fernet.generate_key().decode(), tmp_path)
    assert failed.returncode == 1
    lines = [line for line in failed.stderr.splitlines() if line.startswith("unity:")]
    assert len(lines) == 1 and "cannot be decrypted" in lines[0], failed.stderr
    assert "Traceback" not in failed.stderr
    assert await ciphertexts() == before

    fernet_before = await _fernet_values(app)
    done = _rotate_key(database_url, f"{new_key},{TEST_KEY}", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "re-encrypted 5 stored credentials" in done.stdout + done.stderr
    after = await ciphertexts()
    assert after["plain"] is None

    # every Fernet value in any column of any table, whoever added it, opens with the new key alone
    fernet_after = await _fernet_values(app)
    assert len(fernet_after) == len(fernet_before) == 5
    assert not set(fernet_after) & set(fernet_before)
    opened = [SecretBox([new_key]).decrypt(value) for value in fernet_after]
    assert {"url": f"json://127.0.0.1:9/{secrets['channel']}"} in opened
    assert {"token": push_token} in opened
    assert {"secret": totp_secret} in opened
    for value in fernet_after:
        with pytest.raises(InvalidToken):
            Fernet(TEST_KEY).decrypt(value.encode())

    only_new = SecretBox([new_key])
    for name, field in (("basic", "basic_auth_password"), ("bearer", "bearer_token")):
        ciphertext = after[name]
        assert ciphertext is not None and ciphertext != before[name]
        assert only_new.decrypt(ciphertext) == {field: secrets[name]}
        with pytest.raises(InvalidToken):
            Fernet(TEST_KEY).decrypt(ciphertext.encode())
    for output in (failed.stdout, failed.stderr, done.stdout, done.stderr):
        assert not any(s in output for s in secrets.values())
