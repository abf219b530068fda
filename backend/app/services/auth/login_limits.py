"""Login limits: a sliding-window rate limiter, and the rule that guards sign-in with it."""

from __future__ import annotations

import time
from collections import deque

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import TooManyRequests, TwoFactorRequired, Unauthorized
from app.core.security import SecretBox
from app.models import User
from app.services.auth import totp, users


class RateLimiter:
    """Counts events per key over a 60 s window; memory is bounded by pruning idle keys."""

    def __init__(self, window_seconds: float = 60.0, max_keys: int = 100_000) -> None:
        self.window = window_seconds
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def _prune(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def retry_after(self, key: str, limit: int, now: float | None = None) -> float:
        """Seconds until another hit is allowed for `key` (0 when allowed now)."""
        if key not in self._hits:  # only checking must not grow the table
            return 0.0
        now = time.monotonic() if now is None else now
        hits = self._prune(key, now)
        if len(hits) < limit:
            return 0.0
        # the oldest hit that still counts leaves the window after this long
        return max(0.0, hits[len(hits) - limit] + self.window - now)

    def hit(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if len(self._hits) >= self.max_keys:
            for k in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                del self._hits[k]
        self._prune(key, now).append(now)

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)


async def sign_in(
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    box: SecretBox,
    address: str,
    username: str,
    password: str,
    code: str | None = None,
) -> tuple[str, int]:
    """An access token (JWT) for the user, through check_credentials' limits."""
    user = await check_credentials(
        session, settings, limiter, box, address, username, password, code
    )
    return users.access_token(settings, user)


async def check_credentials(
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    box: SecretBox,
    address: str,
    username: str,
    password: str,
    code: str | None = None,
) -> User:
    """users.check_password and the two-factor code, refused while the address or the account
    has too many failures.

    Failures (a wrong two-factor code too) count against both keys; a success clears the
    account's count but not the address's, so one good password does not reopen guessing at
    other accounts.
    """
    ip_key = "ip:" + address
    user_key = "user:" + username.lower()
    ip_wait = limiter.retry_after(ip_key, settings.login_rate_per_minute_ip)
    user_wait = limiter.retry_after(user_key, settings.login_rate_per_minute_user)
    if ip_wait > 0 or user_wait > 0:
        seconds = int(max(ip_wait, user_wait)) + 1
        which = "from your address" if ip_wait >= user_wait else "for this account"
        raise TooManyRequests(
            f"Too many failed sign-in attempts {which}; try again in {seconds} seconds.",
            headers={"Retry-After": str(seconds)},
        )
    try:
        user = await users.check_password(session, username, password)
        await totp.check_second_factor(session, box, user, code)
    except TwoFactorRequired:
        raise  # the password was right: asking for the code is no failure
    except Unauthorized:
        limiter.hit(ip_key)
        limiter.hit(user_key)
        raise
    limiter.reset(user_key)
    return user
