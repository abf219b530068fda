"""Every built-in load through the registry with the metadata the UI needs."""

from __future__ import annotations

import importlib.util

import httpx
import pytest

from app.plugins.base import Plugin
from app.plugins.registry import BUILTIN_MODULES, PluginRegistry

EXPECTED_SECRETS = {
    "system": set(),
    "http": {"basic_auth_password", "bearer_token"},
    "tcp": set(),
    "ping": set(),
    "dns": set(),
    "ssh": {"password", "private_key", "private_key_passphrase"},
    "docker": set(),
    "postgres": {"password"},
    "redis": {"password"},
    "mysql": {"password"},
    "proxmox": {"token_secret"},
    "nut": {"password"},
    "smart": {"password", "private_key", "private_key_passphrase"},
    "snmp": {"community", "auth_key", "priv_key"},
    "storage_pools": {"password", "private_key", "private_key_passphrase"},
    "push": set(),
}


def test_every_builtin_loads_and_describes_itself():
    registry = PluginRegistry().load()
    for type_ in BUILTIN_MODULES:
        entry = registry.get(type_)
        assert entry is not None and entry.available, (type_, entry)
        cls = entry.cls
        assert issubclass(cls, Plugin) and cls.type == type_
        assert cls.name and cls.description.endswith(".")
        assert cls.category in {"system", "network", "service", "container", "other"}
        assert 10 <= cls.default_interval_seconds <= 300
        schema = cls.config_schema()
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        for field, prop in schema["properties"].items():
            assert prop.get("title"), f"{type_}.{field} has no title for the form"
            assert prop.get("description"), f"{type_}.{field} has no help text for the form"
            if field not in schema.get("required", []):
                assert "default" in prop, f"{type_}.{field}: the form cannot show its default"
        assert set(cls.secret_fields()) == EXPECTED_SECRETS[type_]
        for secret in cls.secret_fields():
            assert schema["properties"][secret]["writeOnly"] is True


@pytest.fixture
def without_asyncssh(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a host where the asyncssh package is not installed."""
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "asyncssh" else real(name, *a)
    )


async def test_a_type_whose_library_is_missing_is_listed_with_the_reason(
    without_asyncssh: None, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """Client libraries load when an instance runs, yet a missing one still shows in the
    catalog, with what to install, as an import error did when types imported them at once."""
    types = {t["type"]: t for t in (await client.get("/api/v1/plugin-types", headers=admin)).json()}
    ssh = types["ssh"]
    assert ssh["available"] is False
    assert ssh["unavailable_reason"] == (
        "the asyncssh package is not installed (pip install 'asyncssh')"
    )
    assert ssh["config_schema"]["properties"]["host"]  # the form can still be shown
    assert types["http"]["available"] is True
