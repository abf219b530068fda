"""Two-factor sign-in with TOTP (RFC 6238): enrolment, confirmation, recovery codes, the check.

The secret is stored as Fernet ciphertext under ENCRYPTION_KEY. A code is accepted for the
current 30 s step and one step either side (clock drift), and only for a step later than the
last accepted one, so an overheard code cannot be replayed. Recovery codes carry 80 random
bits, so a SHA-256 of each is enough to keep them (nothing to brute-force); each works once.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time

import pyotp
import segno
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, Forbidden, InvalidInput, TwoFactorRequired, Unauthorized
from app.core.security import SecretBox, hash_api_token, verify_password
from app.models import RecoveryCode, User
from app.services.auth.users import get_user

log = logging.getLogger(__name__)

ISSUER = "Unity"
RECOVERY_CODE_COUNT = 10
STEP_SECONDS = 30
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def _secret(box: SecretBox, user: User) -> str:
    assert user.totp_secret
    return str(box.decrypt(user.totp_secret)["secret"])


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def accept_code(box: SecretBox, user: User, code: str, now: float | None = None) -> bool:
    """Whether `code` is the TOTP code of a step near `now` newer than the last one accepted.

    Marks that step used on `user` (the caller commits).
    """
    code = _normalise(code)
    if not user.totp_secret or len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(_secret(box, user))
    step = int((time.time() if now is None else now) // STEP_SECONDS)
    for candidate in (step - 1, step, step + 1):
        if user.totp_last_step is not None and candidate <= user.totp_last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            user.totp_last_step = candidate
            return True
    return False


async def start_enrolment(
    session: AsyncSession, box: SecretBox, caller: User
) -> tuple[str, str, str]:
    """A new secret for `caller`, not yet in force: (secret, otpauth URI, QR as SVG data URI)."""
    user = await get_user(session, caller.id)
    if user.totp_enabled:
        raise Conflict(
            "Two-factor sign-in is already on; turn it off first to enrol another authenticator."
        )
    secret = pyotp.random_base32()
    user.totp_secret = box.encrypt({"secret": secret})
    user.totp_last_step = None
    await session.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return secret, uri, segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


async def _new_recovery_codes(session: AsyncSession, user: User) -> list[str]:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    session.add_all(
        RecoveryCode(user_id=user.id, code_hash=hash_api_token(_normalise(c))) for c in codes
    )
    return codes


async def confirm(session: AsyncSession, box: SecretBox, caller: User, code: str) -> list[str]:
    """Turn two-factor on with a first code from the app; answers the recovery codes (once)."""
    user = await get_user(session, caller.id)
    if user.totp_enabled:
        raise Conflict("Two-factor sign-in is already on.")
    if not user.totp_secret:
        raise Conflict("Start enrolment first (POST /api/v1/auth/totp/enrol), then confirm.")
    if not accept_code(box, user, code):
        raise InvalidInput(
            "That code does not match; type the current 6-digit code from the authenticator "
            "app (check that the phone's clock is right).",
            fields={"code": "does not match the current code"},
        )
    user.totp_enabled = True
    codes = await _new_recovery_codes(session, user)
    await session.commit()
    log.info("two-factor enabled", extra={"user": user.username})
    return codes


async def regenerate_recovery_codes(
    session: AsyncSession, box: SecretBox, caller: User, code: str
) -> list[str]:
    """Ten new recovery codes in place of the old ones, for a current TOTP code."""
    user = await get_user(session, caller.id)
    if not user.totp_enabled:
        raise Conflict("Two-factor sign-in is off; turn it on first.")
    if not accept_code(box, user, code):
        raise Forbidden("That code does not match the current code; nothing was changed.")
    codes = await _new_recovery_codes(session, user)
    await session.commit()
    return codes


async def recovery_codes_left(session: AsyncSession, user: User) -> int:
    count = await session.scalar(
        select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id)
    )
    return int(count or 0)


def _clear(user: User) -> None:
    user.totp_enabled = False
    user.totp_secret = None
    user.totp_last_step = None


async def disable_own(session: AsyncSession, caller: User, password: str) -> None:
    user = await get_user(session, caller.id)
    if not verify_password(password, user.password_hash):
        raise Forbidden("The password is wrong; two-factor sign-in stays on.")
    _clear(user)
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await session.commit()
    log.info("two-factor disabled", extra={"user": user.username})


async def reset(session: AsyncSession, actor: User, user_id: int) -> User:
    """An admin turns a user's two-factor off (a lost phone and lost recovery codes)."""
    user = await get_user(session, user_id)
    _clear(user)
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await session.commit()
    log.warning("two-factor reset", extra={"user": user.username, "by": actor.username})
    return user


async def check_second_factor(
    session: AsyncSession, box: SecretBox, user: User, code: str | None
) -> None:
    """Nothing when the user has no two-factor or `code` is a valid TOTP or unused recovery
    code (a recovery code is used up); TwoFactorRequired without a code, else Unauthorized."""
    if not user.totp_enabled:
        return
    if not code or not code.strip():
        raise TwoFactorRequired()
    if accept_code(box, user, code):
        await session.commit()
        return
    row = await session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hash_api_token(_normalise(code)),
        )
    )
    if row is not None:
        await session.delete(row)
        await session.commit()
        log.warning("recovery code used", extra={"user": user.username})
        return
    raise Unauthorized(
        "Wrong or already used two-factor code; enter the current code from your "
        "authenticator app, or an unused recovery code."
    )


async def rotate_totp_secrets(session: AsyncSession, box: SecretBox) -> int:
    """Re-encrypt every two-factor secret under the newest key (`python -m app rotate-key`)."""
    count = 0
    for user in await session.scalars(select(User).where(User.totp_secret.is_not(None))):
        assert user.totp_secret
        try:
            user.totp_secret = box.rotate(user.totp_secret)
        except ValueError as exc:
            raise ValueError(f"two-factor secret of user {user.username!r}: {exc}") from None
        count += 1
    return count
