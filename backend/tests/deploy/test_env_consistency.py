"""`.env.example`, the compose files and `Settings` must agree on every variable.

Fails when a setting is added to Settings but not documented in .env.example or not passed through
docker-compose.yml (it would silently do nothing there), when a variable is documented or
interpolated that nothing reads, or when a documented default differs from what compose uses.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.core.config import Settings

from .conftest import COMPOSE_FILES, REPO, compose

SETTINGS = {name.upper(): field for name, field in Settings.model_fields.items()}

# Read by docker compose itself (interpolation, profiles), not by the backend.
COMPOSE_ONLY = {
    "POSTGRES_PASSWORD": "the db role's password; compose builds DATABASE_URL from it",
    "POSTGRES_DEV_PASSWORD": "the dev db role's password",
    "UNITY_HTTP_PORT": "host port of the frontend",
    "UNITY_API_PORT": "host port of the backend",
    "COMPOSE_PROFILES": "Compose's own variable; `scale` enables Redis and the replica",
    "DOCKER_SOCKET": "host path of the Docker socket mounted into the backend",
    "PROBE_HUB_URL": "the hub a remote probe (profile probe) reports to",
    "PROBE_LOCATION": "the remote probe's location",
    "PROBE_FINGERPRINT": "the hub certificate a remote probe pins",
}
# Settings docker-compose.yml fixes or leaves out on purpose; .env.example must show them commented.
FIXED_BY_COMPOSE = {"DATABASE_URL", "DATA_DIR", "HOST_PROC", "HOST_ROOT"}
NOT_PASSED = {
    "FRONTEND_DIST": "nginx serves the SPA in the compose stack",
    "PROBE_TOKEN": "read by a remote probe (`python -m app probe`), never by the hub",
}
# Compose defaults that differ from the bare-metal defaults in Settings, and why.
COMPOSE_DEFAULT_DIFFERS = {"TRUSTED_PROXIES": "nginx connects from a Docker bridge address"}
# Path defaults are relative to backend/ in Settings; only documented, not compared.
PATH_SETTINGS = {"DATA_DIR", "FRONTEND_DIST", "HOST_PROC", "HOST_ROOT"}
ENTRY = re.compile(r"^(?P<comment># )?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?::?[-?](?P<default>[^}]*))?\}")


def env_example() -> dict[str, tuple[bool, str]]:
    """name -> (active, value) for each `NAME=value` or `# NAME=value` line of .env.example."""
    entries: dict[str, tuple[bool, str]] = {}
    lines = (REPO / ".env.example").read_text().splitlines()
    for number, line in enumerate(lines):
        match = ENTRY.match(line)
        if not match:
            continue
        name = match["name"]
        assert name not in entries, f".env.example lists {name} twice"
        previous = lines[number - 1] if number else ""
        assert previous.startswith("# ") and not ENTRY.match(previous), (
            f".env.example: {name} needs a one-line comment above it"
        )
        entries[name] = (match["comment"] is None, match["value"])
    return entries


def raw_backend_env(compose_bin: Path, file: str) -> dict[str, str]:
    result = compose(compose_bin, file, "config", "--no-interpolate", "--format", "json")
    assert result.returncode == 0, result.stderr
    env: dict[str, str] = json.loads(result.stdout)["services"]["backend"]["environment"]
    return env


def normalise(value: Any) -> str:
    """Settings defaults and env strings in one comparable form."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(value)
    if value is None:
        return ""
    return str(value)


def settings_default(name: str) -> str:
    field = SETTINGS[name]
    value = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
    return normalise(value)


def test_every_setting_is_documented() -> None:
    documented = env_example()
    missing = sorted(set(SETTINGS) - documented.keys())
    assert not missing, f"Settings fields missing from .env.example: {missing}"


def test_every_documented_variable_is_read_by_something() -> None:
    unknown = sorted(env_example().keys() - SETTINGS.keys() - COMPOSE_ONLY.keys())
    assert not unknown, f".env.example documents variables nothing reads: {unknown}"


@pytest.mark.parametrize("file", COMPOSE_FILES)
def test_every_interpolated_variable_is_documented(file: str) -> None:
    used = {m["name"] for m in INTERPOLATION.finditer((REPO / file).read_text())}
    missing = sorted(used - env_example().keys())
    assert not missing, f"{file} interpolates variables .env.example does not document: {missing}"


@pytest.mark.parametrize("file", COMPOSE_FILES)
def test_backend_environment_holds_only_settings(compose_bin: Path, file: str) -> None:
    unknown = sorted(raw_backend_env(compose_bin, file).keys() - SETTINGS.keys())
    assert not unknown, f"{file} gives the backend variables Settings does not read: {unknown}"


def test_production_passes_every_setting_through(compose_bin: Path) -> None:
    env = raw_backend_env(compose_bin, "docker-compose.yml")
    missing = sorted(SETTINGS.keys() - env.keys() - NOT_PASSED.keys())
    assert not missing, (
        f"docker-compose.yml does not pass these settings to the backend, so setting them in .env "
        f"would do nothing: {missing}"
    )
    documented = env_example()
    for name, value in env.items():
        own = [m for m in INTERPOLATION.finditer(value) if m["name"] == name]
        if name in FIXED_BY_COMPOSE:
            assert not own, f"{name} is fixed by the topology; do not read it from .env"
        else:
            assert own, f"docker-compose.yml should pass {name} through as ${{{name}:-default}}"
        if name in FIXED_BY_COMPOSE or name in NOT_PASSED:
            assert not documented[name][0], (
                f".env.example: {name} is set by compose; comment it out"
            )


def test_defaults_agree(compose_bin: Path) -> None:
    """.env.example's value = compose's default = the app's default (unless listed)."""
    env = raw_backend_env(compose_bin, "docker-compose.yml")
    documented = env_example()
    for name, value in env.items():
        match = next((m for m in INTERPOLATION.finditer(value) if m["name"] == name), None)
        if match is None or "?" in match.group(0):
            continue  # fixed, or required (no default)
        default, shown = match["default"] or "", documented[name][1]
        assert shown == default, f"{name}: .env.example shows {shown!r}, compose uses {default!r}"
        if name not in COMPOSE_DEFAULT_DIFFERS and name not in PATH_SETTINGS:
            app = settings_default(name)
            assert default == app, f"{name}: compose defaults to {default!r}, Settings to {app!r}"


def test_required_secrets_are_empty_in_the_example() -> None:
    documented = env_example()
    for name in ("POSTGRES_PASSWORD", "ENCRYPTION_KEY", "JWT_SECRET_KEY"):
        assert documented[name] == (True, ""), f".env.example must not ship a value for {name}"


def test_compose_defaults_are_settings_the_backend_accepts(
    compose_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every default compose passes (an empty `${NAME:-}` included) must parse: a bool setting
    that refuses "" would stop the backend of a stack started with no .env changes."""
    env = raw_backend_env(compose_bin, "docker-compose.yml")
    for name, value in env.items():
        match = next((m for m in INTERPOLATION.finditer(value) if m["name"] == name), None)
        if match is not None and "?" not in match.group(0):
            monkeypatch.setenv(name, match["default"] or "")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.cookie_secure is None  # `COOKIE_SECURE=` means "unset": follow the scheme
