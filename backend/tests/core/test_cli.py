"""Bad settings stop the server with one line that says what to fix, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live import run_cli


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DATABASE_URL": "mysql://u@h/db"}, "supports postgresql:// and sqlite://"),
        ({"DATABASE_URL": "not a url"}, "is not a database URL"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL must be one of"),
        ({"DATA_DIR": "/proc/unity-cannot-write"}, "is not writable"),
        ({"DATABASE_URL": "postgresql://u:hunter2@127.0.0.1:5432/x"}, "ENCRYPTION_KEY is not set"),
        (
            {
                "DATABASE_URL": "postgresql://u:hunter2@127.0.0.1:5432/x",
                "ENCRYPTION_KEY": "change-me",
                "JWT_SECRET_KEY": "x" * 40,
            },
            "ENCRYPTION_KEY is a placeholder",
        ),
        (
            {"DATABASE_URL": "postgresql://u:hunter2@127.0.0.1:1/x", "DEBUG": "true"},
            "cannot reach the database",
        ),
    ],
)
def test_bad_settings_exit_with_one_line(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = run_cli(tmp_path, "migrate", **env)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("unity:")]
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


def test_embedded_default_generates_secrets_once_with_mode_0600(tmp_path: Path) -> None:
    first = run_cli(tmp_path, "migrate")
    assert first.returncode == 0, first.stderr
    key = tmp_path / ".encryption_key"
    jwt = tmp_path / ".jwt_secret_key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert jwt.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "homelab.db").exists()
    before = key.read_text()
    second = run_cli(tmp_path, "migrate")
    assert second.returncode == 0
    assert key.read_text() == before
    assert "generated" not in second.stdout
