"""/api/v1/auth/totp: two-factor sign-in for your own account, and an admin's reset of it."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import AdminUser, CurrentUser, SessionDep, StateDep
from app.core.errors import ADMIN, AUTH, Conflict, Forbidden, InvalidInput, NotFound, responses
from app.models import User
from app.schemas.auth import (
    RecoveryCodes,
    TotpCodeIn,
    TotpDisable,
    TotpEnrolment,
    TotpStatus,
    UserOut,
)
from app.services.auth import totp

router = APIRouter(prefix="/auth/totp", tags=["auth"])
admin_router = APIRouter(prefix="/users", tags=["users"])


@router.get("", response_model=TotpStatus, responses=responses(*AUTH), summary="Your two-factor")
async def totp_status(user: CurrentUser, state: StateDep, session: SessionDep) -> TotpStatus:
    return TotpStatus(
        enabled=user.totp_enabled,
        recovery_codes_left=await totp.recovery_codes_left(session, user),
        required=state.settings.totp_required_for_admins and user.role == "admin",
    )


@router.post(
    "/enrol",
    response_model=TotpEnrolment,
    responses=responses(*AUTH, Conflict),
    summary="Start two-factor enrolment: a new secret and its QR code (off until confirmed)",
)
async def totp_enrol(user: CurrentUser, state: StateDep, session: SessionDep) -> TotpEnrolment:
    secret, uri, qr = await totp.start_enrolment(session, state.box, user)
    return TotpEnrolment(secret=secret, otpauth_uri=uri, qr_svg=qr)


@router.post(
    "/confirm",
    response_model=RecoveryCodes,
    responses=responses(*AUTH, Conflict, InvalidInput),
    summary="Turn two-factor on with a code from the app; answers ten recovery codes (once)",
)
async def totp_confirm(
    body: TotpCodeIn, user: CurrentUser, state: StateDep, session: SessionDep
) -> RecoveryCodes:
    return RecoveryCodes(codes=await totp.confirm(session, state.box, user, body.code))


@router.post(
    "/recovery-codes",
    response_model=RecoveryCodes,
    responses=responses(*AUTH, Conflict, Forbidden),
    summary="Replace your recovery codes with ten new ones (needs a current code)",
)
async def totp_recovery_codes(
    body: TotpCodeIn, user: CurrentUser, state: StateDep, session: SessionDep
) -> RecoveryCodes:
    codes = await totp.regenerate_recovery_codes(session, state.box, user, body.code)
    return RecoveryCodes(codes=codes)


@router.post(
    "/disable",
    status_code=204,
    responses=responses(*AUTH, Forbidden),
    summary="Turn your two-factor off (needs your password)",
)
async def totp_disable(body: TotpDisable, user: CurrentUser, session: SessionDep) -> None:
    await totp.disable_own(session, user, body.password)


@admin_router.delete(
    "/{user_id}/totp",
    response_model=UserOut,
    responses=responses(*ADMIN, NotFound),
    summary="Reset a user's two-factor (they sign in with the password alone, then enrol again)",
)
async def reset_totp(user_id: int, admin: AdminUser, session: SessionDep) -> User:
    return await totp.reset(session, admin, user_id)
