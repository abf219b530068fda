"""The postgres, mysql, redis and proxmox types through the API: listed with their forms, their
secrets masked, and a real run recorded (against the shared PostgreSQL and Redis)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from app.plugins.base import SECRET_MASK

PG = make_url(os.environ.get("UNITY_TEST_PG", "postgresql://root@127.0.0.1:5432/postgres"))


async def test_catalog_lists_the_new_types_with_their_secrets(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    types = {t["type"]: t for t in (await client.get("/api/v1/plugin-types", headers=admin)).json()}
    # Every type of the homelab pack (issue 21), each with the form the UI draws.
    ssh_secrets = ["password", "private_key", "private_key_passphrase"]
    expected = {
        "postgres": ["password"],
        "mysql": ["password"],
        "redis": ["password"],
        "proxmox": ["token_secret"],
        "nut": ["password"],
        "smart": ssh_secrets,
        "storage_pools": ssh_secrets,
        "snmp": ["community", "auth_key", "priv_key"],
    }
    for type_, secrets in expected.items():
        assert types[type_]["available"] is True, types[type_]
        assert sorted(types[type_]["secret_fields"]) == sorted(secrets)
        assert types[type_]["category"] in {"service", "system", "network"}
        schema = types[type_]["config_schema"]
        assert schema["type"] == "object" and schema["properties"], type_
        for secret in secrets:
            assert schema["properties"][secret]["writeOnly"] is True


async def test_postgres_and_redis_run_now_with_masked_secrets(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    bodies = [
        {
            "name": "db",
            "type": "postgres",
            "config": {
                "host": PG.host or "127.0.0.1",
                "port": PG.port or 5432,
                "user": PG.username or "root",
                "database": PG.database or "postgres",
                # trust auth ignores it; here it only has to come back masked
                "password": PG.password or "ignored-by-trust-auth",
            },
        },
        {"name": "cache", "type": "redis", "config": {"host": "127.0.0.1", "port": 6379}},
    ]
    for body in bodies:
        r = await client.post(
            "/api/v1/plugins", json=body | {"interval_seconds": 3600}, headers=admin
        )
        assert r.status_code == 201, r.text
        plugin = r.json()
        if body["type"] == "postgres":
            assert plugin["config"]["password"] == SECRET_MASK
        run = (await client.post(f"/api/v1/plugins/{plugin['id']}/run", headers=admin)).json()
        assert run["status"] == "success", run
        assert run["sample_count"] >= 5
        health = (await client.get(f"/api/v1/plugins/{plugin['id']}/health", headers=admin)).json()
        assert health["status"] == "healthy"


def test_loading_the_catalog_imports_no_database_client():
    """Client libraries load with the first run of an instance, not at start-up (house style
    15): a fresh interpreter that loads every plugin type has none of them imported."""
    code = (
        "import sys; from app.plugins.registry import PluginRegistry; PluginRegistry().load(); "
        "print(sorted(m for m in ('pymysql', 'redis', 'asyncpg') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == "[]"
