"""`python -m app import` as users run it: a real promtool dump, Ctrl-C and resume, kuma.db."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import TEST_KEY, skip_or_fail
from tests.live import BACKEND, run_cli
from tests.services.kuma_db import add_heartbeats, make_kuma_db
from tests.services.test_import_kuma import MONITORS, ssh_beats, website_beats

BASE = datetime(2026, 1, 10, tzinfo=UTC)


def _env(database_url: str) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "ENCRYPTION_KEY": TEST_KEY, "JWT_SECRET_KEY": "j" * 48}


def _openmetrics(path: Path, steps: int) -> None:
    lines = ["# TYPE node_load1 gauge\n"]
    for name in ('node_load1{instance="host1:9100",job="node"}', 'up{instance="a:80",job="web"}'):
        for i in range(steps):
            ts = (BASE + timedelta(seconds=15 * i)).timestamp()
            lines.append(f"{name} {i % 5} {ts:.3f}\n")
    path.write_text("".join(lines) + "# EOF\n")


def test_a_promtool_dump_imports_once(tmp_path: Path, database_url: str) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        skip_or_fail("promtool is not installed (Debian: prometheus)")
    source = tmp_path / "source.om"
    _openmetrics(source, 200)
    blocks = tmp_path / "tsdb"
    subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(blocks)],
        check=True,
        capture_output=True,
    )
    (blocks / "wal").mkdir(exist_ok=True)
    dump = tmp_path / "dump.txt"
    # promtool 2.42 has `tsdb dump` ({__name__=...} v ms); newer ones also dump-openmetrics.
    with dump.open("w") as out:
        subprocess.run([promtool, "tsdb", "dump", str(blocks)], check=True, stdout=out)
    assert dump.read_text().startswith('{__name__="node_load1"')

    env = _env(database_url)
    first = run_cli(tmp_path, "import", "openmetrics", str(dump), **env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "+ plugin node/host1:9100 (system), disabled: it holds the imported history",
        "+ plugin web/a:80 (tcp), disabled: it holds the imported history",
        f"imported 400 samples from 400 lines of {dump}",
    ]
    assert "import: 400 samples, 2 series" in first.stderr and "100%" in first.stderr
    again = run_cli(tmp_path, "import", "openmetrics", str(dump), **env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"{dump} was imported already (400 samples); nothing to do\n"


def test_a_malformed_line_fails_with_its_number(tmp_path: Path, database_url: str) -> None:
    bad = tmp_path / "bad.om"
    bad.write_text('up{job="a"} 1 1700000000\nup{job="a"} 1 1700000015\nup{job="a} 1 17\n')
    result = run_cli(tmp_path, "import", "openmetrics", str(bad), **_env(database_url))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"unity: {bad}: line 3: the value of label 'job' has no closing quote; nothing was "
        "imported: fix the file and run the same command again (a changed file is imported "
        "from the start, which replaces, never repeats, what is stored)"
    )
    missing = run_cli(tmp_path, "import", "openmetrics", str(tmp_path / "nope.om"))
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1] == f"unity: {tmp_path / 'nope.om'}: no such file"


def test_ctrl_c_then_the_same_command_resumes(tmp_path: Path, database_url: str) -> None:
    source = tmp_path / "big.om"
    _openmetrics(source, 10_000)
    base = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
    env = {**base, "DATA_DIR": str(tmp_path), "PYTHONPATH": str(BACKEND), **_env(database_url)}
    cmd = [sys.executable, "-m", "app", "import", "openmetrics", str(source), "--chunk", "20"]
    proc = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ctrl_c_as_at_a_terminal,
    )
    assert proc.stderr is not None
    line = ""
    while not line.startswith("import: "):  # log lines first, then the first progress line
        line = proc.stderr.readline()
        assert line, "the import ended before it showed progress"
    proc.send_signal(signal.SIGINT)  # the first chunk is committed: interrupt now
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, (out, err)
    assert (
        f"unity: interrupted; what was committed is kept: run the same command again to "
        f"resume {source}" in err
    )
    assert "Traceback" not in err

    resumed = run_cli(tmp_path, "import", "openmetrics", str(source), **_env(database_url))
    assert resumed.returncode == 0, resumed.stderr
    lines = resumed.stdout.splitlines()
    resume = next(line for line in lines if line.startswith("resumed after line "))
    done_before = int(resume.removeprefix("resumed after line ").replace(",", ""))
    assert 0 < done_before < 20_000
    # Every sample is imported once: line 1 is `# TYPE`, each later line one sample, so the
    # second run writes exactly the samples after the line the first one committed.
    count = int(lines[-1].split()[1].replace(",", ""))
    assert count == 20_000 - (done_before - 1)
    again = run_cli(tmp_path, "import", "openmetrics", str(source), **_env(database_url))
    assert again.stdout == f"{source} was imported already (20,000 samples); nothing to do\n"


def _ctrl_c_as_at_a_terminal() -> None:
    """SIGINT back to its default in the child. A shell starts background jobs with SIGINT
    ignored (`make test &`, `nohup`, some CI runners) and children inherit that; Python then
    leaves it ignored, and the Ctrl-C this test sends would do nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_kuma_on_the_command_line(tmp_path: Path, database_url: str) -> None:
    kuma = tmp_path / "kuma.db"
    make_kuma_db(kuma, MONITORS)
    add_heartbeats(kuma, website_beats(0, 100) + ssh_beats())
    env = _env(database_url)
    first = run_cli(tmp_path, "import", "kuma", str(kuma), **env)
    assert first.returncode == 0, first.stderr
    out = first.stdout.splitlines()
    assert "+ plugin Website (http, every 60 s, enabled)" in out
    assert "+ plugin Router (ping, every 60 s, disabled)" in out
    assert any(line.startswith("- skipped 'Broker' (mqtt)") for line in out)
    assert out[-1] == "imported 110 heartbeats; 7 plugin(s) created, 3 monitor(s) skipped"
    again = run_cli(tmp_path, "import", "kuma", str(kuma), **env)
    assert again.returncode == 0, again.stderr
    assert "= plugin Website (http) (imported before)" in again.stdout.splitlines()
    assert again.stdout.splitlines()[-1] == (
        "imported 0 heartbeats; 0 plugin(s) created, 3 monitor(s) skipped"
    )
    not_kuma = tmp_path / "x.db"
    not_kuma.write_text("hello")
    refused = run_cli(tmp_path, "import", "kuma", str(not_kuma), **env)
    assert refused.returncode == 1
    assert (
        refused.stderr.strip()
        .splitlines()[-1]
        .startswith(f"unity: {not_kuma} is not an SQLite database")
    )
