"""Finding the Debian tools the homelab-pack tests run for real (upsd, snmpd, smartctl, zfs)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.conftest import skip_or_fail


def unavailable(reason: str, package: str) -> None:
    """In CI a missing tool is a failure; elsewhere a loud skip that names the install."""
    skip_or_fail(f"{reason}. Install with: apt-get install -y --no-install-recommends {package}")


def require(binary: str, package: str) -> str:
    """The path of `binary` (a name on PATH or an absolute path), or fail/skip."""
    found = binary if os.path.isabs(binary) and os.access(binary, os.X_OK) else None
    found = found or shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/sbin")
    if not found:
        unavailable(f"{binary} is not installed", package)
    return str(found)


def tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"
