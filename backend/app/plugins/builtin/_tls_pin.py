"""Certificate pinning for plugins talking to self-signed servers: trust one SHA-256 fingerprint."""

from __future__ import annotations

import hashlib
import re
import ssl


class FingerprintMismatch(ssl.SSLError):
    """The server's certificate is not the pinned one; raised before any request is sent."""


def normalize_fingerprint(value: str) -> str:
    """`ab:cd…`, `ABCD…` or spaced hex → `AB:CD:…`; ValueError unless it is 32 bytes."""
    hexdigits = re.sub(r"[\s:]", "", value).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", hexdigits):
        raise ValueError("must be a SHA-256 fingerprint: 32 hex bytes, colons allowed")
    return ":".join(hexdigits[i : i + 2] for i in range(0, 64, 2)).upper()


def pinned_context(fingerprint: str) -> ssl.SSLContext:
    """A client context that accepts exactly the certificate with this SHA-256 fingerprint.

    The check runs inside the handshake (a custom SSLObject), so nothing, credentials
    included, is sent to a server that presents another certificate. Works for asyncio and
    anyio streams (httpx), which create their TLS objects through `wrap_bio`.
    """
    expected = bytes.fromhex(normalize_fingerprint(fingerprint).replace(":", ""))

    class Pinned(ssl.SSLObject):
        def do_handshake(self) -> None:
            super().do_handshake()
            der = self.getpeercert(binary_form=True) or b""
            got = hashlib.sha256(der).digest()
            if got != expected:
                shown = ":".join(f"{b:02X}" for b in got)
                raise FingerprintMismatch(f"certificate fingerprint is {shown}")

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # nosec B501 # the fingerprint pin replaces chain checks
    ctx.sslobject_class = Pinned
    return ctx
