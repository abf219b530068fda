"""Fernet keys checked and made with the standard library, so `cryptography` (7 MB resident)
loads only when a secret is first encrypted or decrypted (app.core.security.SecretBox)."""

from __future__ import annotations

import base64
import os


def check_fernet_key(key: str) -> None:
    """ValueError unless `key` is a Fernet key: 32 bytes in url-safe base64, as Fernet checks."""
    try:
        raw = base64.urlsafe_b64decode(key.encode())
    except (ValueError, TypeError):  # binascii.Error is a ValueError
        raise ValueError("Fernet key must be 32 url-safe base64-encoded bytes.") from None
    if len(raw) != 32:
        raise ValueError("Fernet key must be 32 url-safe base64-encoded bytes.")


def new_fernet_key() -> str:
    """A fresh Fernet key, as `Fernet.generate_key()` makes it (without importing it)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()
