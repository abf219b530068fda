"""The audit log: who changed what through the API, with field-level diffs and no secrets."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, text

from app.core.config import Settings
from app.models import AuditEntry, Event
from app.services.audit.entries import AuditMaintenance
from tests.conftest import PASSWORD, running_app

SECRET = "hunter2-Sup3r-Secret-Pw"
NEW_SECRET = "an0ther-Very-Secret-Pw"
CHANNEL_SECRET = "s3cret-channel-path"


async def _token(client: httpx.AsyncClient, admin: dict[str, str], name: str = "ci") -> str:
    r = await client.post("/api/v1/tokens", json={"name": name}, headers=admin)
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


async def _dump_table(app: Any) -> str:
    """Every audit and event row, as text, straight from the database."""
    async with app.state.unity.db.session() as s:
        rows = (await s.execute(text("SELECT * FROM audit_log"))).all()
        rows += (await s.execute(text("SELECT * FROM events"))).all()
    return json.dumps([[str(v) for v in r] for r in rows])


async def test_a_change_through_the_api_with_a_token_is_logged_without_secrets(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    token = await _token(client, admin, "deploy-bot")
    bot = {"Authorization": f"Bearer {token}"}
    r = await client.post(
        "/api/v1/plugins",
        json={
            "name": "site",
            "type": "http",
            "config": {
                "url": "http://127.0.0.1:9/",
                "basic_auth_username": "me",
                "basic_auth_password": SECRET,
            },
            "interval_seconds": 300,
            "enabled": False,
        },
        headers=bot,
    )
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    r = await client.patch(
        f"/api/v1/plugins/{pid}",
        json={
            "interval_seconds": 120,
            "config": {
                "url": "http://127.0.0.1:9/health",
                "basic_auth_username": "me",
                "basic_auth_password": NEW_SECRET,
            },
        },
        headers=bot,
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        "/api/v1/channels",
        json={"name": "hook", "url": f"json://127.0.0.1:9/{CHANNEL_SECRET}"},
        headers=bot,
    )
    assert r.status_code == 201, r.text

    r = await client.get("/api/v1/audit", params={"object_type": "plugin"}, headers=admin)
    assert r.status_code == 200, r.text
    page = r.json()
    update, create = page["items"]  # newest first
    assert page["total"] == 2
    assert create["action"] == "create" and update["action"] == "update"
    for entry in (create, update):
        assert entry["actor"] == "admin"
        assert entry["via"] == "api"
        assert entry["token_name"] == "deploy-bot"
        assert entry["object_id"] == str(pid) and entry["object_name"] == "site"
    assert update["changes"]["interval_seconds"] == {"old": 300, "new": 120}
    assert update["changes"]["config.url"] == {
        "old": "http://127.0.0.1:9/",
        "new": "http://127.0.0.1:9/health",
    }
    assert update["changes"]["config.basic_auth_password"] == "changed"
    assert "config.basic_auth_username" not in update["changes"]  # unchanged fields stay out
    assert create["changes"]["config.basic_auth_password"] == "changed"

    r = await client.get("/api/v1/audit", params={"object_type": "channel"}, headers=admin)
    (channel,) = r.json()["items"]
    assert channel["changes"]["url"] == "changed"

    # The secrets appear nowhere: not in the table, not in any API answer, not via filters.
    everything = await client.get("/api/v1/audit", params={"limit": 500}, headers=admin)
    events = await client.get("/api/v1/events", params={"limit": 500}, headers=admin)
    haystack = everything.text + events.text + await _dump_table(app)
    for secret in (SECRET, NEW_SECRET, CHANNEL_SECRET, token):
        assert secret not in haystack
    # The token itself was created by the admin's session; its hash is not shown either.
    tokens = [e for e in everything.json()["items"] if e["object_type"] == "api_token"]
    assert tokens and tokens[0]["changes"]["token"] == "changed"

    # Changing a plugin's config puts a config_changed event on its timeline.
    r = await client.get("/api/v1/events", params={"plugin_id": pid}, headers=admin)
    kinds = [e["kind"] for e in r.json()["items"]]
    assert kinds == ["config_changed", "config_changed"]
    assert "interval_seconds" in r.json()["items"][0]["summary"]


async def test_filters_and_admin_only(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    r = await client.get("/api/v1/audit", headers=viewer)
    assert r.status_code == 403
    r = await client.post(
        "/api/v1/alerts/silences",
        json={
            "comment": "patching",
            "starts_at": datetime.now(UTC).isoformat(),
            "ends_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    r = await client.get("/api/v1/audit", params={"actor": "admin"}, headers=admin)
    types = {e["object_type"] for e in r.json()["items"]}
    assert {"user", "silence"} <= types
    assert all(e["actor"] == "admin" for e in r.json()["items"])
    r = await client.get(
        "/api/v1/audit", params={"object_type": "silence", "via": "api"}, headers=admin
    )
    assert [e["action"] for e in r.json()["items"]] == ["create"]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    r = await client.get("/api/v1/audit", params={"since": future}, headers=admin)
    assert r.json()["total"] == 0
    r = await client.get("/api/v1/audit", params={"since": "yesterday"}, headers=admin)
    assert r.status_code == 422


async def test_a_failed_change_leaves_no_audit_row(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {"name": "dup", "type": "tcp", "config": {"host": "127.0.0.1", "port": 9}}
    assert (await client.post("/api/v1/plugins", json=body, headers=admin)).status_code == 201
    r = await client.post("/api/v1/plugins", json=body, headers=admin)
    assert r.status_code == 409
    r = await client.get("/api/v1/audit", params={"object_type": "plugin"}, headers=admin)
    assert r.json()["total"] == 1  # the refused duplicate rolled back with its audit row


async def test_maintenance_prunes_by_history_retention(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    state = app.state.unity
    await _token(client, admin)
    body = {"name": "nas", "type": "tcp", "config": {"host": "127.0.0.1", "port": 9}}
    assert (await client.post("/api/v1/plugins", json=body, headers=admin)).status_code == 201
    async with state.db.session() as s:
        n_before = len((await s.scalars(select(AuditEntry))).all())
        assert len((await s.scalars(select(Event))).all()) == 1
    assert n_before >= 3  # the first user, the token, the plugin
    keep_days = state.settings.alert_history_days
    await AuditMaintenance(state.db, state.settings).run(datetime.now(UTC))
    async with state.db.session() as s:
        assert len((await s.scalars(select(AuditEntry))).all()) == n_before
    later = datetime.now(UTC) + timedelta(days=keep_days + 1)
    await AuditMaintenance(state.db, state.settings).run(later)
    async with state.db.session() as s:
        assert (await s.scalars(select(AuditEntry))).all() == []
        assert (await s.scalars(select(Event))).all() == []


async def test_a_plugins_parents_are_audited(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    ids = []
    for name in ("router", "nas"):
        body = {"name": name, "type": "tcp", "config": {"host": "127.0.0.1", "port": 9}}
        r = await client.post("/api/v1/plugins", json=body, headers=admin)
        ids.append(r.json()["id"])
    router, nas = ids
    r = await client.patch(f"/api/v1/plugins/{nas}", json={"depends_on": [router]}, headers=admin)
    assert r.status_code == 200, r.text
    r = await client.patch(f"/api/v1/plugins/{nas}", json={"depends_on": [router]}, headers=admin)
    r = await client.get(
        "/api/v1/audit", params={"object_type": "plugin", "object_id": str(nas)}, headers=admin
    )
    update, create = r.json()["items"]  # setting the same parents again logs nothing
    assert create["action"] == "create"
    assert update["changes"] == {"depends_on": {"old": [], "new": [router]}}


async def test_the_web_ui_and_the_config_file_are_named_as_the_way_in(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    # The SPA signs in with a cookie session and sends the CSRF token on writes.
    r = await client.post("/api/v1/auth/session", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 200, r.text
    csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
    body = {"name": "web", "type": "tcp", "config": {"host": "127.0.0.1", "port": 9}}
    r = await client.post("/api/v1/plugins", json=body, headers=csrf)
    assert r.status_code == 201, r.text
    client.cookies.clear()

    text = "plugins:\n  - name: dns\n    type: tcp\n    config: {host: 127.0.0.1, port: 53}\n"
    r = await client.post(
        "/api/v1/config/apply?dry_run=false",
        content=text,
        headers={**admin, "Content-Type": "application/yaml"},
    )
    assert r.status_code == 200, r.text

    r = await client.get("/api/v1/audit", params={"object_type": "plugin"}, headers=admin)
    via = {e["object_name"]: (e["via"], e["actor"]) for e in r.json()["items"]}
    assert via == {"web": ("ui", "admin"), "dns": ("config", "admin")}


async def test_the_watched_configuration_file_is_the_actor(
    settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "unity.yaml"
    path.write_text(
        "plugins:\n  - name: first\n    type: tcp\n    config: {host: 127.0.0.1, port: 9}\n"
    )
    async with running_app(settings.model_copy(update={"unity_config": path})) as app:
        state = app.state.unity
        async with state.db.session() as s:
            (entry,) = (
                await s.scalars(select(AuditEntry).where(AuditEntry.object_type == "plugin"))
            ).all()
    assert (entry.actor, entry.via, entry.action) == ("file unity.yaml", "config", "create")
