"""pip-audit over the locked runtime dependencies, reported in the test output.

It needs its vulnerability service; where that cannot be reached (an offline CI runner, a mirror
without the vulnerability data) the test says so and passes. Known vulnerabilities fail it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BACKEND = Path(__file__).resolve().parents[1]
LOCK = BACKEND / "requirements.lock"


def test_locked_dependencies_have_no_known_vulnerabilities(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cmd = [
        sys.executable,
        "-m",
        "pip_audit",
        "-r",
        str(LOCK),
        "--no-deps",  # the lock is complete and pinned: audit exactly what it lists
        "--disable-pip",
        "--progress-spinner",
        "off",
        "-f",
        "json",
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    except subprocess.TimeoutExpired:
        _report(capsys, "pip-audit: timed out reaching its vulnerability service; NOT audited")
        return
    try:
        report = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError:
        report = {}
    deps = report.get("dependencies", [])
    if not deps:
        reason = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        _report(capsys, f"pip-audit: could not run against its data ({reason}); NOT audited")
        return
    audited = [d for d in deps if "skip_reason" not in d]
    vulnerable = {
        d["name"]: [v["id"] for v in d.get("vulns", [])] for d in audited if d.get("vulns")
    }
    if not audited:
        _report(
            capsys,
            f"pip-audit: the vulnerability service is unreachable from here (offline?): "
            f"0 of {len(deps)} locked packages could be audited; NOT audited "
            f"(first reason: {deps[0]['skip_reason']})",
        )
        return
    _report(
        capsys,
        f"pip-audit: {len(audited)} of {len(deps)} locked packages audited, "
        f"{len(vulnerable)} with known vulnerabilities {vulnerable or ''}",
    )
    assert not vulnerable, f"known vulnerabilities in requirements.lock: {vulnerable}"


def _report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    with capsys.disabled():
        print(f"\n{line}")
