"""The one-time setup code that guards first-run setup against the rest of the LAN.

Until an admin exists, whoever reaches the port first could claim the install. Setup is
therefore accepted from this machine (loopback) or with a code that only someone who can read
the server's log or files has: SETUP_CODE if set, else one generated into the data directory at
start (mode 0600), printed in the log and shown by `python -m app setup-code`. It is deleted
when setup succeeds.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import logging
import os
import secrets
from pathlib import Path

from app.core.config import Settings
from app.core.errors import Forbidden

log = logging.getLogger(__name__)

# No 0/O or 1/I/L: the code is read from a log and typed by hand.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
FILE_NAME = ".setup_code"


def _path(settings: Settings) -> Path:
    return settings.data_dir / FILE_NAME


def _new() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def current(settings: Settings) -> str | None:
    """The code setup accepts now, None once setup is done (or before the first start)."""
    if settings.setup_code:
        return settings.setup_code.strip()
    try:
        return _path(settings).read_text().strip() or None
    except OSError:
        return None


def ensure(settings: Settings) -> str:
    """The setup code, generated on first need; logged so the installer can find it."""
    code = current(settings)
    if code is None:
        code = _new()
        try:
            fd = os.open(_path(settings), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(code)
        except FileExistsError:  # another worker wrote it first: use theirs
            code = current(settings) or code
    source = "SETUP_CODE" if settings.setup_code else str(_path(settings))
    log.warning(
        "no admin yet: finish setup in the UI from this machine, or from another one with the "
        "setup code %s (from %s; `python -m app setup-code` prints it again; in docker compose "
        "read it with `docker compose logs backend`)",
        code,
        source,
    )
    return code


def discard(settings: Settings) -> None:
    with contextlib.suppress(OSError):
        _path(settings).unlink()


def is_local(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def needs_code(settings: Settings, address: str) -> bool:
    return not (settings.setup_allow_loopback and is_local(address))


def check(settings: Settings, address: str, given: str | None) -> None:
    """Forbidden unless the caller is local or gave the right code."""
    if not needs_code(settings, address):
        return
    expected = current(settings)
    normal = (given or "").strip().upper()
    if expected and normal and hmac.compare_digest(normal.encode(), expected.upper().encode()):
        return
    log.warning("first-run setup refused: wrong or missing setup code", extra={"client": address})
    what = "is wrong" if given else "is needed"
    raise Forbidden(
        f"The setup code {what}: setup from another machine needs the code printed in the "
        "server log at start (`python -m app setup-code` prints it again; in docker compose "
        "run `docker compose logs backend`)."
    )
