"""Single sign-on with OpenID Connect: the authorization code flow with PKCE, state and nonce.

Authlib makes the PKCE challenge, the random values and the authorization URL; joserfc (the
JOSE library of Authlib's authors, which Authlib itself uses) checks the ID token: signature
against the provider's published keys, issuer, audience, expiry and nonce. The pending sign-in
(state, nonce, PKCE verifier) travels in a ten-minute HttpOnly cookie signed with
JWT_SECRET_KEY, so any replica can finish it and nothing is stored before the user returns.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import Conflict, DomainError, Forbidden, NotFound, Unauthorized
from app.core.security import hash_password
from app.core.security import jwt as pyjwt  # HS256 only: imported without `cryptography`
from app.models import User
from app.models.enums import Role

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

# authlib and joserfc (with `cryptography`, ~10 MB resident together) are imported where single
# sign-on first uses them, so a server without OIDC never loads them (house style 15).

log = logging.getLogger(__name__)

FLOW_COOKIE = "unity_oidc"
FLOW_SECONDS = 600
METADATA_TTL = 3600.0
_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
_USERNAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.@-]")


class ProviderUnavailable(DomainError):
    status_code = 502
    kind = "ProviderUnavailable"


class SignInRefused(DomainError):
    """The provider's answer did not check out (state, issuer, ID token)."""

    status_code = 400
    kind = "SignInRefused"


def enabled(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


class OidcClient:
    """The configured provider's discovery document and keys, fetched when first needed.

    `clock` gives the time ID tokens are checked against (tests move it).
    """

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self._metadata: dict[str, Any] | None = None
        self._fetched_at = 0.0
        self._keys: KeySet | None = None

    @property
    def name(self) -> str:
        return self.settings.oidc_name

    async def _get(self, url: str, **kwargs: Any) -> dict[str, Any]:
        import httpx  # only with single sign-on configured (house style 15)

        try:
            async with httpx.AsyncClient(timeout=10.0) as client:
                r = await client.get(url, **kwargs)
                r.raise_for_status()
                body: dict[str, Any] = r.json()
                return body
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(
                f"Could not reach the sign-in provider {self.name} at {url[:200]} ({exc}); "
                "check OIDC_ISSUER and that the provider is up."
            ) from None

    async def metadata(self) -> dict[str, Any]:
        if not enabled(self.settings):
            raise NotFound("Single sign-on is not configured (OIDC_ISSUER, OIDC_CLIENT_ID).")
        if self._metadata is None or time.monotonic() - self._fetched_at > METADATA_TTL:
            issuer = str(self.settings.oidc_issuer)
            meta = await self._get(issuer.rstrip("/") + "/.well-known/openid-configuration")
            if meta.get("issuer") != issuer:
                raise SignInRefused(
                    f"The provider at OIDC_ISSUER calls itself {str(meta.get('issuer'))[:200]!r}, "
                    f"not {issuer[:200]!r}; set OIDC_ISSUER to exactly its issuer."
                )
            self._metadata, self._fetched_at, self._keys = meta, time.monotonic(), None
        return self._metadata

    async def keys(self, refresh: bool = False) -> KeySet:
        from joserfc.jwk import KeySet

        if self._keys is None or refresh:
            meta = await self.metadata()
            self._keys = KeySet.import_key_set(await self._get(str(meta["jwks_uri"])))  # type: ignore[arg-type]
        return self._keys

    async def begin(self, redirect_uri: str) -> tuple[str, str]:
        """(the provider's authorization URL to send the browser to, the flow cookie)."""
        from authlib.common.security import generate_token
        from authlib.common.urls import add_params_to_uri
        from authlib.oauth2.rfc7636 import create_s256_code_challenge

        meta = await self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        url = add_params_to_uri(
            str(meta["authorization_endpoint"]),
            [
                ("response_type", "code"),
                ("client_id", str(self.settings.oidc_client_id)),
                ("redirect_uri", redirect_uri),
                ("scope", self.settings.oidc_scopes),
                ("state", state),
                ("nonce", nonce),
                ("code_challenge", create_s256_code_challenge(verifier)),
                ("code_challenge_method", "S256"),
            ],
        )
        flow = {
            "state": state,
            "nonce": nonce,
            "verifier": verifier,
            "exp": int(time.time()) + FLOW_SECONDS,
        }
        assert self.settings.jwt_secret_key
        return url, pyjwt.encode({**flow, "typ": "oidc"}, self.settings.jwt_secret_key, "HS256")

    def _flow(self, cookie: str | None, state: str | None) -> dict[str, Any]:
        assert self.settings.jwt_secret_key
        try:
            flow: dict[str, Any] = pyjwt.decode(
                cookie or "",
                self.settings.jwt_secret_key,
                algorithms=["HS256"],
                options={"require": ["exp"]},
            )
        except pyjwt.PyJWTError:
            raise SignInRefused(
                "This sign-in was not started from this browser, or took longer than 10 minutes; "
                f"start again with 'Sign in with {self.name}'."
            ) from None
        if (
            flow.get("typ") != "oidc"
            or not state
            or not hmac.compare_digest(str(flow["state"]), state)
        ):
            raise SignInRefused(
                "The sign-in state does not match the one this browser started with (a forged or "
                f"replayed answer); start again with 'Sign in with {self.name}'."
            )
        return flow

    async def finish(
        self, cookie: str | None, params: dict[str, str], redirect_uri: str
    ) -> dict[str, Any]:
        """The verified claims of the user the provider sent back (ID token and userinfo)."""
        if error := params.get("error"):
            description = params.get("error_description", "")[:200]
            raise Forbidden(f"{self.name} refused the sign-in: {error[:60]} {description}".strip())
        import httpx

        flow = self._flow(cookie, params.get("state"))
        meta = await self.metadata()
        try:
            async with httpx.AsyncClient(timeout=10.0) as client:
                r = await client.post(
                    str(meta["token_endpoint"]),
                    data={
                        "grant_type": "authorization_code",
                        "code": params.get("code", ""),
                        "redirect_uri": redirect_uri,
                        "code_verifier": flow["verifier"],
                    },
                    auth=(
                        str(self.settings.oidc_client_id),
                        self.settings.oidc_client_secret or "",
                    ),
                )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                f"Could not reach {self.name}'s token endpoint ({exc})."
            ) from None
        if r.status_code != 200:
            raise SignInRefused(
                f"{self.name} did not accept the sign-in code ({r.status_code} "
                f"{r.text[:150]}); start again, and check OIDC_CLIENT_ID and OIDC_CLIENT_SECRET."
            )
        tokens = r.json()
        claims = await self._verify(str(tokens.get("id_token", "")), str(flow["nonce"]))
        if meta.get("userinfo_endpoint") and tokens.get("access_token"):
            info = await self._get(
                str(meta["userinfo_endpoint"]),
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
            )
            if info.get("sub") == claims["sub"]:  # OIDC Core 5.3.2: else it is not this user's
                claims = {**info, **claims}
        return claims

    async def _verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        from joserfc import jwt
        from joserfc.errors import ExpiredTokenError, JoseError

        for refresh in (False, True):  # an unknown key id: the provider may have rotated keys
            try:
                token = jwt.decode(id_token, await self.keys(refresh), algorithms=_ALGORITHMS)
                break
            except (JoseError, ValueError) as exc:
                if refresh:
                    raise SignInRefused(
                        f"The ID token from {self.name} does not verify ({exc}); start again."
                    ) from None
        registry = jwt.JWTClaimsRegistry(
            now=int(self.clock()),
            leeway=60,
            iss={"essential": True, "value": str(self.settings.oidc_issuer)},
            aud={"essential": True, "value": str(self.settings.oidc_client_id)},
            sub={"essential": True},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(token.claims)
        except ExpiredTokenError:
            raise SignInRefused(
                f"The ID token from {self.name} has expired (check this server's clock); "
                "start again."
            ) from None
        except JoseError as exc:
            raise SignInRefused(
                f"The ID token from {self.name} was refused: {exc}; start again."
            ) from None
        return dict(token.claims)


def _groups(settings: Settings, claims: dict[str, Any]) -> set[str]:
    value = claims.get(settings.oidc_groups_claim) or []
    return {value} if isinstance(value, str) else {str(g) for g in value}


async def user_for(session: AsyncSession, settings: Settings, claims: dict[str, Any]) -> User:
    """The Unity user these verified claims sign in as: found by the provider's subject,
    created just in time when allowed; role from OIDC_ADMIN_GROUPS when that is set."""
    name = settings.oidc_name
    groups = _groups(settings, claims)
    email = str(claims.get("email") or "").lower() if claims.get("email_verified", True) else ""
    allowed_emails = {e.lower() for e in settings.oidc_allowed_emails}
    if (settings.oidc_allowed_groups or allowed_emails) and not (
        groups & set(settings.oidc_allowed_groups) or (email and email in allowed_emails)
    ):
        raise Forbidden(
            f"Your {name} account is in none of the groups OIDC_ALLOWED_GROUPS lists and its "
            "email is not in OIDC_ALLOWED_EMAILS; ask an admin to let you in."
        )
    subject = f"{claims['iss']} {claims['sub']}"
    user = await session.scalar(select(User).where(User.oidc_subject == subject))
    is_admin = bool(groups & set(settings.oidc_admin_groups))
    if user is None:
        if not settings.oidc_auto_create:
            raise Forbidden(
                f"No Unity account is linked to your {name} account and OIDC_AUTO_CREATE is off; "
                "ask an admin."
            )
        wanted = str(claims.get("preferred_username") or email or claims["sub"])
        username = _USERNAME_UNSAFE.sub("-", wanted)[:64]
        if await session.scalar(select(User.id).where(User.username == username)):
            raise Conflict(
                f"A local account named {username!r} already exists; Unity does not merge it "
                f"with your {name} account. Ask an admin to rename or remove it."
            )
        role = Role.ADMIN if is_admin else settings.oidc_default_role
        # No password can sign this account in: the hash is of a secret nobody keeps.
        user = User(
            username=username,
            password_hash=hash_password(secrets.token_urlsafe(32)),
            role=role,
            oidc_subject=subject,
        )
        session.add(user)
        log.info("sso user created", extra={"user": username, "role": role})
    elif settings.oidc_admin_groups:
        user.role = Role.ADMIN if is_admin else settings.oidc_default_role
    if user.disabled:
        raise Unauthorized("This account is disabled; ask an admin to enable it.")
    user.last_login_at = datetime.now(UTC)
    await session.commit()
    return user
