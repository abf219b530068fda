"""Passwords (Argon2), JWT access tokens (HS256), API token hashing and Fernet secret boxes."""

from __future__ import annotations

import hashlib
import json
import secrets
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pwdlib import PasswordHash

from app.core.keys import check_fernet_key

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

# PyJWT imports `cryptography` (7 MB resident) at import, for RSA and EC keys; HS256, the only
# algorithm Unity signs and accepts, is hmac from the standard library. So PyJWT is imported
# with `cryptography` hidden: it then leaves RSA/EC out (`jwt.algorithms.has_crypto` is False)
# and `cryptography` loads with the first Fernet secret box that encrypts or decrypts. Where
# something imported either already (a test run, a tool), the import is the plain one.
_HIDE_CRYPTOGRAPHY = "jwt" not in sys.modules and "cryptography" not in sys.modules
if _HIDE_CRYPTOGRAPHY:
    sys.modules["cryptography"] = None  # type: ignore[assignment]  # the import then fails
try:
    import jwt as jwt  # re-exported: app.services.auth.oidc signs its flow cookie with it
finally:
    if _HIDE_CRYPTOGRAPHY:
        del sys.modules["cryptography"]

JWT_ALGORITHM = "HS256"
API_TOKEN_PREFIX = "unity_"  # noqa: S105 - a marker, not a credential  # nosec B105
# Every claim a token we issue carries; a token without one was not made by this server.
_REQUIRED_CLAIMS = ["exp", "iat", "sub", "gen", "typ"]

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


class TokenError(Exception):
    """An access token was refused; the message is a sentence for the caller."""


def decode_access_token(secret: str, token: str) -> dict[str, Any]:
    """The claims of a valid token; TokenError saying why otherwise.

    Only HS256 is accepted whatever the token's header claims, so `alg: none`, HS512 and
    RS256/HS256 confusion all fail on the algorithm check before any signature maths.
    """
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[JWT_ALGORITHM], options={"require": _REQUIRED_CLAIMS}
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("Your session expired; sign in again.") from None
    except jwt.MissingRequiredClaimError as exc:
        raise TokenError(
            f"This token has no {exc.claim!r} claim, so Unity did not issue it; sign in again."
        ) from None
    except jwt.InvalidAlgorithmError:
        raise TokenError(
            f"This token is not signed with {JWT_ALGORITHM}, the only algorithm Unity accepts; "
            "sign in again."
        ) from None
    except jwt.InvalidSignatureError:
        raise TokenError(
            "This token's signature does not match (signed with another key, or altered); "
            "sign in again."
        ) from None
    except jwt.DecodeError:
        raise TokenError(
            "This is not a valid token; send the access_token from POST /api/v1/auth/login "
            "or an API token (unity_...)."
        ) from None
    except jwt.PyJWTError as exc:
        raise TokenError(f"This token is invalid ({exc}); sign in again.") from None
    if claims.get("typ") != "access" or not str(claims["sub"]).isdigit():
        raise TokenError("This is not an access token issued by Unity; sign in again.")
    if not isinstance(claims["gen"], int) or isinstance(claims["gen"], bool):
        raise TokenError("This token's session counter is malformed; sign in again.")
    return claims


def new_api_token() -> tuple[str, str, str]:
    """(secret shown once, prefix kept for display, sha256 hash kept for lookup)."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token[: len(API_TOKEN_PREFIX) + 6], hash_api_token(token)


def hash_api_token(token: str) -> str:
    # API, session and push tokens are random secrets of 192 bits or more, so a fast hash is
    # enough (no brute force possible); the tables look tokens up by this digest.
    return hashlib.sha256(token.encode()).hexdigest()


class SecretBox:
    """Encrypts plugin secrets; several keys (newest first) allow rotation with MultiFernet."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        for key in keys:
            check_fernet_key(key)
        self._keys = list(keys)
        self._box: MultiFernet | None = None

    @property
    def _fernet(self) -> MultiFernet:
        # `cryptography` loads with the first secret encrypted or decrypted, not at start-up.
        if self._box is None:
            from cryptography.fernet import Fernet, MultiFernet

            self._box = MultiFernet([Fernet(k) for k in self._keys])
        return self._box

    def encrypt(self, data: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(data).encode()).decode()

    def decrypt(self, token: str) -> dict[str, Any]:
        from cryptography.fernet import InvalidToken

        try:
            value: dict[str, Any] = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise ValueError(
                "stored credentials cannot be decrypted with ENCRYPTION_KEY; "
                "was the key changed without keeping the old one in the list?"
            ) from None
        return value

    def rotate(self, token: str) -> str:
        """The same plaintext encrypted under the newest key (ValueError if no key opens it)."""
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise ValueError(
                "a stored credential cannot be decrypted with any key in ENCRYPTION_KEY; "
                "keep the old key after the new one (ENCRYPTION_KEY=new,old) until rotation is done"
            ) from None
