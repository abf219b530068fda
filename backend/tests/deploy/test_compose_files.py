"""The two compose files: valid for Compose v2, and the seed's architecture, literally."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import COMPOSE_FILES, compose, resolved

SEED_CONTAINERS = {
    "docker-compose.yml": {
        "db": "homelab-db",
        "backend": "homelab-backend",
        "frontend": "homelab-frontend",
    },
    "docker-compose.dev.yml": {
        "db": "homelab-db-dev",
        "backend": "homelab-backend-dev",
        "frontend": "homelab-frontend-dev",
    },
}


@pytest.mark.parametrize("file", COMPOSE_FILES)
def test_config_is_valid(compose_bin: Path, env_file: Path, file: str) -> None:
    result = compose(compose_bin, file, "config", "-q", env_file=env_file)
    assert result.returncode == 0, f"docker compose -f {file} config -q:\n{result.stderr}"
    scale = compose(compose_bin, file, "--profile", "scale", "config", "-q", env_file=env_file)
    assert scale.returncode == 0, scale.stderr


def test_production_refuses_to_start_without_secrets(compose_bin: Path) -> None:
    result = compose(compose_bin, "docker-compose.yml", "config", "-q")
    assert result.returncode != 0
    assert "run `make env`" in result.stderr, result.stderr


def test_dev_stack_needs_no_env_file(compose_bin: Path) -> None:
    result = compose(compose_bin, "docker-compose.dev.yml", "config", "-q")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("file", COMPOSE_FILES)
def test_seed_topology(compose_bin: Path, env_file: Path, file: str) -> None:
    model = resolved(compose_bin, file, env_file)
    services = model["services"]
    assert set(services) == {"db", "backend", "frontend"}, (
        "services must be named db, backend, frontend"
    )
    for name, container in SEED_CONTAINERS[file].items():
        assert services[name]["container_name"] == container

    db = services["db"]
    assert db["image"] == "postgres:16-alpine"
    assert db["environment"]["POSTGRES_DB"] == "homelab_db"
    assert db["environment"]["POSTGRES_USER"] == "homelab_user"
    assert db["healthcheck"]["test"] == [
        "CMD",
        "pg_isready",
        "-U",
        "homelab_user",
        "-d",
        "homelab_db",
    ]
    volume = "homelab_db_data" if file == "docker-compose.yml" else "homelab_db_data_dev"
    assert [(v["source"], v["target"]) for v in db["volumes"]] == [
        (volume, "/var/lib/postgresql/data")
    ]
    assert model["volumes"][volume]["name"] == volume

    backend = services["backend"]
    assert Path(backend["build"]["context"]).name == "backend"
    assert backend["init"] is True
    assert backend["stop_grace_period"] == "10s"
    assert backend["sysctls"] == {"net.ipv4.ping_group_range": "0 2147483647"}
    assert backend["depends_on"]["db"]["condition"] == "service_healthy"
    assert backend["environment"]["DATABASE_URL"].startswith("postgresql://homelab_user:")
    assert backend["environment"]["DATABASE_URL"].endswith("@db:5432/homelab_db")
    assert [p["target"] for p in backend["ports"]] == [8000]
    assert services["frontend"]["depends_on"]["backend"]["condition"] == "service_healthy"

    for service in services.values():
        assert service["networks"].keys() == {"homelab-net"}
    assert model["networks"]["homelab-net"]["driver"] == "bridge"


def assert_host_views(backend: dict[str, Any]) -> None:
    """The host's /proc, / and Docker socket, read-only, where HOST_PROC and HOST_ROOT point."""
    views = {v["target"]: v for v in backend["volumes"][1:]}
    assert views.keys() == {"/host/proc", "/host/root", "/var/run/docker.sock"}
    assert all(v["type"] == "bind" and v["read_only"] for v in views.values())
    assert views["/host/proc"]["source"] == "/proc"
    assert views["/host/root"]["source"] == "/"
    # No rslave by default: it is refused where / is not a shared mount (containers, some NAS).
    assert "propagation" not in views["/host/root"].get("bind", {})
    assert views["/var/run/docker.sock"]["source"] == "/var/run/docker.sock"
    env = backend["environment"]
    assert (env["HOST_PROC"], env["HOST_ROOT"]) == ("/host/proc", "/host/root")


def test_production_specifics(compose_bin: Path, env_file: Path) -> None:
    services = resolved(compose_bin, "docker-compose.yml", env_file)["services"]
    assert "ports" not in services["db"], "the seed: database not directly accessible from host"
    for name, service in services.items():
        assert service["restart"] == "unless-stopped", name
        assert "healthcheck" in service, f"{name} needs a healthcheck so `up --wait` means ready"
    backend = services["backend"]
    assert [(p["published"], p["target"]) for p in backend["ports"]] == [("8000", 8000)]
    assert [(p["published"], p["target"]) for p in services["frontend"]["ports"]] == [("80", 80)]
    assert Path(services["frontend"]["build"]["context"]).name == "frontend"
    data = backend["volumes"][0]
    assert (data["type"], data["target"]) == ("bind", "/app/data")
    assert Path(data["source"]).parts[-2:] == ("backend", "data")
    assert_host_views(backend)
    assert backend.get("command") is None, (
        "the image's CMD (python -m app serve) migrates and serves"
    )


def test_the_api_port_can_be_published_on_loopback_only(
    compose_bin: Path, env_file: Path, tmp_path: Path
) -> None:
    """The one-line setting docs/DEPLOYMENT.md gives for "only the proxy is exposed"."""
    local = tmp_path / ".env"
    local.write_text(env_file.read_text() + "UNITY_API_PORT=127.0.0.1:8000\n")
    backend = resolved(compose_bin, "docker-compose.yml", local)["services"]["backend"]
    [port] = backend["ports"]
    assert (port["host_ip"], port["published"], port["target"]) == ("127.0.0.1", "8000", 8000)


def test_scale_profile_adds_redis_and_a_replica(compose_bin: Path, env_file: Path) -> None:
    model = resolved(compose_bin, "docker-compose.yml", env_file, "--profile", "scale")
    services = model["services"]
    assert {"redis", "backend-2"} <= services.keys()
    replica = services["backend-2"]
    assert replica["networks"]["homelab-net"]["aliases"] == ["backend"], (
        "nginx finds it as 'backend'"
    )
    assert "ports" not in replica
    assert replica["environment"] == services["backend"]["environment"]


def test_dev_specifics(compose_bin: Path) -> None:
    services = resolved(compose_bin, "docker-compose.dev.yml", None)["services"]
    backend, frontend, db = services["backend"], services["frontend"], services["db"]
    assert backend["command"] == ["python", "-m", "app", "serve", "--reload"]
    assert backend["environment"]["DEBUG"] == "true"
    assert backend["environment"]["LOG_LEVEL"] == "debug"
    assert [(v["source"].rsplit("/", 1)[-1], v["target"]) for v in backend["volumes"][:1]] == [
        ("backend", "/app")
    ]
    assert_host_views(backend)
    assert frontend["image"] == "node:20-alpine"
    assert frontend["command"][-1] == "npm ci --no-audit --no-fund && npm run dev -- --host 0.0.0.0"
    assert [p["target"] for p in frontend["ports"]] == [5173]
    assert [(p.get("host_ip"), p["published"], p["target"]) for p in db["ports"]] == [
        ("127.0.0.1", "5432", 5432)
    ]
