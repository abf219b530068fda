"""Auth, user and API token bodies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.models.enums import Role
from app.schemas.common import ORM, UTCTime

Username = Field(
    min_length=1,
    max_length=64,
    pattern=r"^[A-Za-z0-9_.@-]+$",
    examples=["admin"],
    description="Letters, digits and _ . @ -",
)
Password = Field(
    min_length=8,
    max_length=256,
    examples=["correct horse battery staple"],
    description="At least 8 characters.",
)


class SetupStatus(BaseModel):
    needs_setup: bool
    needs_code: bool = Field(
        False, description="Setup from this address needs the setup code from the server log."
    )


class SetupRequest(BaseModel):
    username: str = Username
    password: str = Password
    setup_code: str | None = Field(
        None,
        max_length=64,
        description="The code printed in the server log at start; not needed from the server "
        "itself (loopback).",
    )


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 scheme name
    expires_in: int


class UserOut(ORM):
    id: int
    username: str
    role: Role
    disabled: bool
    created_at: UTCTime
    last_login_at: UTCTime | None
    totp_enabled: bool = Field(False, description="Two-factor sign-in (TOTP) is on.")


class UserCreate(BaseModel):
    username: str = Username
    password: str = Password
    role: Role = Role.VIEWER


class UserUpdate(BaseModel):
    role: Role | None = None
    disabled: bool | None = None
    password: str | None = Field(None, min_length=8, max_length=256)


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=256)
    new_password: str = Password


class ApiTokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["backup script"])
    expires_in_days: int | None = Field(None, ge=1, le=3650, description="Omit for no expiry.")
    scope: Literal["full", "probe"] | None = Field(
        None,
        description='"full": your own rights. "probe": a remote probe\'s token, which can only '
        "read its location's assignments and write results.",
    )
    location: str | None = Field(
        None, max_length=64, description='The probe\'s location; required with "scope": "probe".'
    )


class ApiTokenOut(ORM):
    id: int
    name: str
    prefix: str
    user_id: int
    created_at: UTCTime
    last_used_at: UTCTime | None
    expires_at: UTCTime | None
    scope: str | None = Field(None, description='"probe" for a probe token; null: full.')
    location: str | None = None


class ApiTokenCreated(ApiTokenOut):
    token: str = Field(description="The secret. Shown only now; store it safely.")


class SessionCreated(BaseModel):
    csrf_token: str = Field(
        description="Send it back in X-CSRF-Token on POST, PATCH, PUT and DELETE; also set as "
        "the unity_csrf cookie. The session itself is the HttpOnly unity_session cookie."
    )
    expires_in: int
    user: UserOut


class SessionOut(BaseModel):
    id: int
    device: str = Field(description='e.g. "Firefox on Linux", from the User-Agent.')
    address: str
    created_at: UTCTime
    last_seen_at: UTCTime
    expires_at: UTCTime
    current: bool = Field(description="This is the session the request came with.")


TotpCodeField = Field(min_length=6, max_length=64, examples=["123456"])


class TotpStatus(BaseModel):
    enabled: bool
    recovery_codes_left: int
    required: bool = Field(description="Admins must have two-factor (TOTP_REQUIRED_FOR_ADMINS).")


class TotpEnrolment(BaseModel):
    secret: str = Field(description="Base32 secret, to type into the app if it cannot scan.")
    otpauth_uri: str = Field(description="otpauth://totp/... URI, what the QR code holds.")
    qr_svg: str = Field(description="The QR code as a data:image/svg+xml URI for an <img>.")


class TotpCodeIn(BaseModel):
    code: str = TotpCodeField


class TotpDisable(BaseModel):
    password: str = Field(max_length=256)


class RecoveryCodes(BaseModel):
    codes: list[str] = Field(description="One-time recovery codes. Shown only now; store them.")
