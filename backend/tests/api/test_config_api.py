"""/api/v1/config: admins export and apply (a dry run unless asked); users read the schema."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import yaml

from tests.services.config_helpers import HTTP_PASSWORD, SECRETS, build

YAML = {"Content-Type": "application/yaml"}


# What the server needs in its environment to apply its own export: the current secrets.
SECRET_ENV = {
    "UNITY_PLUGIN_HOME_PAGE_BASIC_AUTH_PASSWORD": HTTP_PASSWORD,
    "UNITY_PLUGIN_NAS_SSH_PRIVATE_KEY": "-----BEGIN KEY-----\nabc\n-----END KEY-----\n",
    "UNITY_PLUGIN_NAS_SSH_PRIVATE_KEY_PASSPHRASE": SECRETS[2],
    "UNITY_CHANNEL_PHONE_URL": "json://127.0.0.1:9/hook?token=chan-secret-77",
    "UNITY_CHANNEL_MAIL_URL": "json://127.0.0.1:9/mail",
}


async def test_export_then_apply_through_the_api(
    client: httpx.AsyncClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    await build(client, admin)
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    r = await client.get("/api/v1/config/export", headers=admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/yaml")
    text = r.text
    assert not any(secret in text for secret in SECRETS)

    r = await client.post("/api/v1/config/apply", content=text, headers={**admin, **YAML})
    assert r.status_code == 200, r.text
    assert r.json()["changes"] == [] and r.json()["summary"] == ["no changes"]

    doc = yaml.safe_load(text)
    doc["plugins"].append(
        {"name": "dns port", "type": "tcp", "config": {"host": "127.0.0.1", "port": 53}}
    )
    doc["plugins"][0]["config"]["basic_auth_password"] = "${UNITY_NEW_PASSWORD}"
    monkeypatch.setenv("UNITY_NEW_PASSWORD", "brand-new-password")
    edited = yaml.safe_dump(doc, sort_keys=False)
    r = await client.post("/api/v1/config/apply", content=edited, headers={**admin, **YAML})
    body = r.json()
    assert body["dry_run"] is True and body["applied"] is False
    assert {(c["action"], c["name"]) for c in body["changes"]} == {
        ("add", "dns port"),
        ("change", "Home page"),
    }
    change = next(c for c in body["changes"] if c["action"] == "change")
    assert change["fields"] == [
        {"field": "config.basic_auth_password", "old": None, "new": None, "secret": True}
    ]
    assert "brand-new-password" not in r.text and HTTP_PASSWORD not in r.text
    plugins = (await client.get("/api/v1/plugins", headers=admin)).json()
    assert "dns port" not in {p["name"] for p in plugins}  # a dry run changes nothing

    r = await client.post(
        "/api/v1/config/apply?dry_run=false", content=edited, headers={**admin, **YAML}
    )
    assert r.status_code == 200 and r.json()["applied"] is True
    plugins = (await client.get("/api/v1/plugins", headers=admin)).json()
    added = next(p for p in plugins if p["name"] == "dns port")
    jobs = (await client.get("/api/v1/scheduler", headers=admin)).json()["jobs"]
    assert any(str(added["id"]) in job["id"] for job in jobs)  # scheduled at once


async def test_a_bad_file_is_a_422_with_line_and_column(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    text = "plugins:\n  - name: x\n    type: tcp\n    enabled: maybe\n"
    r = await client.post("/api/v1/config/apply", content=text, headers={**admin, **YAML})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "InvalidInput"
    assert body["detail"].startswith(
        "The configuration file is not valid: line 4, column 5: plugins[0].enabled: must be "
        "true or false"
    )
    assert body["fields"]["plugins[0].enabled"] == "line 4, column 5: must be true or false"
    r = await client.post("/api/v1/config/apply", content=b"\xff\xfe", headers={**admin, **YAML})
    assert r.status_code == 422 and "UTF-8" in r.json()["detail"]


async def test_the_api_reads_only_unity_variables_that_are_not_settings(
    client: httpx.AsyncClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_SECRET_KEY", "leak-me-123")
    monkeypatch.setenv("UNITY_TARGET", "127.0.0.1")
    text = "plugins:\n  - {name: t, type: tcp, config: {host: '${UNITY_TARGET}', port: 9}}\n"
    r = await client.post("/api/v1/config/apply", content=text, headers={**admin, **YAML})
    assert r.status_code == 200 and r.json()["summary"][0] == "+ plugin 't'"
    leak = text.replace("${UNITY_TARGET}", "${JWT_SECRET_KEY}")
    r = await client.post("/api/v1/config/apply", content=leak, headers={**admin, **YAML})
    assert r.status_code == 422 and "leak-me-123" not in r.text
    assert "JWT_SECRET_KEY is not set" in r.json()["detail"]
    assert "through the API only UNITY_* variables" in r.json()["detail"]


async def test_viewers_read_the_schema_but_cannot_export_or_apply(
    client: httpx.AsyncClient, viewer: dict[str, str]
) -> None:
    assert (await client.get("/api/v1/config/export", headers=viewer)).status_code == 403
    r = await client.post("/api/v1/config/apply", content="{}", headers={**viewer, **YAML})
    assert r.status_code == 403
    assert (await client.get("/api/v1/config/schema")).status_code == 401
    r = await client.get("/api/v1/config/schema", headers=viewer)
    assert r.status_code == 200
    schema = r.json()
    assert set(schema["properties"]) == {
        "version",
        "env",
        "prune",
        "plugins",
        "channels",
        "alert_rules",
        "silences",
        "maintenance_windows",
        "status_pages",
    }
    plugin = schema["$defs"]["PluginEntry"]
    assert "http" in plugin["properties"]["type"]["enum"]
    http = next(c for c in plugin["allOf"] if c["if"]["properties"]["type"]["const"] == "http")
    assert "basic_auth_password" in http["then"]["properties"]["config"]["properties"]
    assert plugin["additionalProperties"] is False
    missing = [ref for ref in refs(schema) if ref.removeprefix("#/$defs/") not in schema["$defs"]]
    assert not missing


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


async def test_many_alike_plugins_apply_in_one_file_past_the_request_deadline(
    client: httpx.AsyncClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file of many plugins is one transaction that may outlast the request deadline: the
    # route is exempt from it and carries its own bound (APPLY_SECONDS) instead.
    from app.api import config as config_api
    from app.api.deadline import _MARK

    assert getattr(config_api.apply, _MARK, False)
    text = "x-tcp: &tcp {type: tcp, interval_seconds: 3600, config: {host: 127.0.0.1, port: 9}}\n"
    text += "plugins:\n" + "".join(f"  - {{<<: *tcp, name: t{i}}}\n" for i in range(300))
    text += "  - {<<: *tcp, name: last, depends_on: [t0, t299]}\n"
    r = await client.post(
        "/api/v1/config/apply", params={"dry_run": "false"}, content=text, headers={**admin, **YAML}
    )
    assert r.status_code == 200, r.text
    assert r.json()["applied"] is True and len(r.json()["changes"]) == 301
    plugins = {p["name"]: p for p in (await client.get("/api/v1/plugins", headers=admin)).json()}
    assert len(plugins) >= 301
    parents = plugins["last"]["depends_on"]
    assert sorted(parents) == sorted([plugins["t0"]["id"], plugins["t299"]["id"]])

    # Out of time, nothing is changed and the answer says what to do.
    monkeypatch.setattr(config_api, "APPLY_SECONDS", 0.0)
    more = text.replace("name: t", "name: u").replace("name: last", "name: other")
    r = await client.post(
        "/api/v1/config/apply", params={"dry_run": "false"}, content=more, headers={**admin, **YAML}
    )
    assert r.status_code == 504, r.text
    assert "nothing was changed" in r.json()["detail"] and "Split it" in r.json()["detail"]
    after = (await client.get("/api/v1/plugins", headers=admin)).json()
    assert not any(p["name"].startswith("u") for p in after)
