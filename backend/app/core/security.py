"""Passwords (Argon2), JWT access tokens (HS256), API token hashing and Fernet secret boxes."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pwdlib import PasswordHash

JWT_ALGORITHM = "HS256"
API_TOKEN_PREFIX = "unity_"

_hasher = PasswordHash.recommended()
# Verifying against this keeps unknown-user logins as slow as wrong-password ones.
_DUMMY_HASH = _hasher.hash("unity-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed login, not a 500
        return False


def create_access_token(
    secret: str, user_id: int, generation: int, minutes: int, now: datetime | None = None
) -> tuple[str, int]:
    now = now or datetime.now(UTC)
    exp = now + timedelta(minutes=minutes)
    claims = {"sub": str(user_id), "gen": generation, "iat": now, "exp": exp, "typ": "access"}
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM), minutes * 60


def decode_access_token(secret: str, token: str) -> dict[str, Any] | None:
    """The claims of a valid token, or None (bad signature, other algorithm, expired, tampered)."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != "access" or not str(claims.get("sub", "")).isdigit():
        return None
    return claims


def new_api_token() -> tuple[str, str, str]:
    """(secret shown once, prefix kept for display, sha256 hash kept for lookup)."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token[: len(API_TOKEN_PREFIX) + 6], hash_api_token(token)


def hash_api_token(token: str) -> str:
    # API tokens carry 256 bits of entropy, so a fast hash is enough (no brute force possible).
    return hashlib.sha256(token.encode()).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class SecretBox:
    """Encrypts plugin secrets; several keys (newest first) allow rotation with MultiFernet."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def encrypt(self, data: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(data).encode()).decode()

    def decrypt(self, token: str) -> dict[str, Any]:
        try:
            value: dict[str, Any] = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise ValueError(
                "stored credentials cannot be decrypted with ENCRYPTION_KEY; "
                "was the key changed without keeping the old one in the list?"
            ) from None
        return value

    def rotate(self, token: str) -> str:
        return self._fernet.rotate(token.encode()).decode()
