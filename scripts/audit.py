"""`make audit`: pip-audit over the locked runtime dependencies, saying plainly when it could not.

It needs the advisory database over the network, so it is not a test: offline it cannot fail
honestly. Exit codes: 0 audited and clean, 1 known vulnerabilities, 2 NOT audited (unreachable).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LOCK = Path(__file__).resolve().parents[1] / "backend" / "requirements.lock"
NOT_AUDITED = 2


def main() -> int:
    cmd = [sys.executable, "-m", "pip_audit", "-r", str(LOCK), "--no-deps", "--disable-pip"]
    cmd += ["--progress-spinner", "off", "-f", "json"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    except subprocess.TimeoutExpired:
        sys.stderr.write("audit: timed out reaching the advisory database: NOT audited\n")
        return NOT_AUDITED
    try:
        deps = json.loads(proc.stdout or "{}").get("dependencies", [])
    except json.JSONDecodeError:
        deps = []
    audited = [d for d in deps if "skip_reason" not in d]
    if not audited:
        reason = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        if deps:
            reason = deps[0]["skip_reason"]
        sys.stderr.write(
            f"audit: could not reach the advisory database (offline?): NOT audited ({reason})\n"
        )
        return NOT_AUDITED
    vulnerable = {d["name"]: [v["id"] for v in d["vulns"]] for d in audited if d.get("vulns")}
    sys.stdout.write(
        f"audit: {len(audited)} of {len(deps)} locked packages audited, "
        f"{len(vulnerable)} with known vulnerabilities {vulnerable or ''}\n"
    )
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
