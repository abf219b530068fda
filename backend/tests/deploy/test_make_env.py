"""`make env`: a .env with fresh, valid secrets, written once, without the backend venv."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from app.core.config import Settings

from .conftest import REPO, make_env, read_env

SECRETS = ("POSTGRES_PASSWORD", "ENCRYPTION_KEY", "JWT_SECRET_KEY")


def check_env(target: Path, tmp_path: Path) -> dict[str, str]:
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    values = read_env(target)
    for name in SECRETS:
        assert values[name], f"{name} left empty"
    # The secrets pass the same checks the backend runs before it starts with PostgreSQL.
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"postgresql://homelab_user:{values['POSTGRES_PASSWORD']}@db:5432/homelab_db",
        encryption_key=values["ENCRYPTION_KEY"],
        jwt_secret_key=values["JWT_SECRET_KEY"],
        data_dir=tmp_path / "data",
    ).prepare()
    assert settings.db_url.password == values["POSTGRES_PASSWORD"], "password must be URL-safe"
    # Everything but the secrets is the example, line for line.
    example = (REPO / ".env.example").read_text().splitlines()
    written = target.read_text().splitlines()
    assert len(example) == len(written)
    changed = [w for e, w in zip(example, written, strict=True) if e != w]
    assert sorted(line.split("=", 1)[0] for line in changed) == sorted(SECRETS)
    return values


def test_writes_fresh_secrets(tmp_path: Path) -> None:
    first, second = tmp_path / "a.env", tmp_path / "b.env"
    assert make_env(first).returncode == 0
    assert make_env(second).returncode == 0
    a, b = check_env(first, tmp_path), check_env(second, tmp_path)
    assert all(a[name] != b[name] for name in SECRETS), "secrets must differ between runs"


def test_a_second_run_keeps_the_file_and_says_what_to_do(tmp_path: Path) -> None:
    target = tmp_path / ".env"
    target.write_text("MINE=1\n")
    result = make_env(target)
    assert result.returncode == 0, result.stderr  # not a failure: the .env is there
    assert "already exists and was kept" in result.stderr
    assert "compare it with .env.example" in result.stderr and "mv " in result.stderr
    assert target.read_text() == "MINE=1\n"
    assert [p.name for p in tmp_path.iterdir()] == [".env"], "no temp file left behind"


def test_works_with_openssl_only(tmp_path: Path) -> None:
    """A machine without Python: the script falls back to openssl."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl is part of the base system here"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("bash", "sed", "grep", "mktemp", "ln", "rm", "dirname", "tr", "cat", "openssl"):
        found = shutil.which(tool)
        assert found, tool
        os.symlink(found, bindir / tool)
    target = tmp_path / ".env"
    result = make_env(target, path=str(bindir))
    assert result.returncode == 0, result.stderr
    check_env(target, tmp_path)
