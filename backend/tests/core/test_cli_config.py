"""`python -m app config export|apply` as users run it: YAML on stdout, a diff, one-line errors."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import TEST_KEY
from tests.core.test_cli import run_cli

SECRET = "tk-very-secret-42"
FILE = """\
version: 1
plugins:
  - name: web
    type: tcp
    interval_seconds: 30
    config: {host: 127.0.0.1, port: 9}
channels:
  - name: Phone
    url: json://127.0.0.1:9/hook?token=${PHONE_TOKEN}
alert_rules:
  - name: web down
    kind: health
    plugin: web
    channels: [Phone]
"""


def test_apply_export_round_trip_on_the_command_line(tmp_path: Path, database_url: str) -> None:
    env = {"DATABASE_URL": database_url, "ENCRYPTION_KEY": TEST_KEY, "JWT_SECRET_KEY": "j" * 48}
    source = tmp_path / "unity.yaml"
    source.write_text(FILE)

    missing = run_cli(tmp_path, "config", "apply", str(source), **env)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "line 9, column 5: channels[0].url: the environment variable PHONE_TOKEN is not set" in (
        missing.stderr
    )

    applied = run_cli(tmp_path, "config", "apply", str(source), PHONE_TOKEN=SECRET, **env)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.splitlines() == [
        "+ plugin 'web'",
        "+ channel 'Phone'",
        "+ alert rule 'web down'",
        "applied 3 change(s)",
    ]
    exported = run_cli(tmp_path, "config", "export", **env)
    assert exported.returncode == 0, exported.stderr
    doc = yaml.safe_load(exported.stdout)  # stdout is the YAML alone, logs went to stderr
    assert doc["channels"][0]["url"] == "${UNITY_CHANNEL_PHONE_URL}"
    assert doc["alert_rules"][0]["plugin"] == "web"
    assert SECRET not in exported.stdout + exported.stderr + applied.stdout + applied.stderr

    again = tmp_path / "again.yaml"
    again.write_text(exported.stdout)
    url = f"json://127.0.0.1:9/hook?token={SECRET}"
    unchanged = run_cli(
        tmp_path, "config", "apply", "--dry-run", str(again), UNITY_CHANNEL_PHONE_URL=url, **env
    )
    assert unchanged.stdout.splitlines() == ["no changes"], unchanged.stderr

    with_secrets = run_cli(tmp_path, "config", "export", "--include-secrets-as-env", **env)
    assert yaml.safe_load(with_secrets.stdout)["env"] == {"UNITY_CHANNEL_PHONE_URL": url}


def test_a_wrong_file_is_refused_with_line_and_column(tmp_path: Path) -> None:
    source = tmp_path / "bad.yaml"
    source.write_text(FILE.replace("interval_seconds: 30", "interval_seconds: soon"))
    result = run_cli(tmp_path, "config", "apply", str(source), PHONE_TOKEN="x")
    assert result.returncode == 1
    assert (
        result.stderr.strip().splitlines()[-1]
        == (
            f"unity: {source}: line 5, column 5: plugins[0].interval_seconds: must be an integer "
            "between 1 and 86400; nothing was changed"
        )
        or "must be an integer" in result.stderr
    ), result.stderr
    assert "Traceback" not in result.stderr
    assert run_cli(tmp_path, "config", "apply", str(tmp_path / "nope.yaml")).returncode == 1
