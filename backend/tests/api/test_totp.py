"""Two-factor sign-in: enrolment with a QR code, real pyotp codes, recovery codes, limits."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pyotp
from sqlalchemy import select

from app.core.config import Settings
from app.core.security import SecretBox
from app.models import User
from app.services.auth import totp
from tests.conftest import PASSWORD, TEST_KEY, login, make_settings, running_app

FORM = {"username": "admin", "password": PASSWORD}


async def enrol(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[pyotp.TOTP, list[str]]:
    """Turn two-factor on for the caller; the authenticator and the recovery codes."""
    r = await client.post("/api/v1/auth/totp/enrol", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["qr_svg"].startswith("data:image/svg+xml")
    app = pyotp.TOTP(body["secret"])
    assert pyotp.parse_uri(body["otpauth_uri"]).secret == body["secret"]
    r = await client.post("/api/v1/auth/totp/confirm", json={"code": app.now()}, headers=headers)
    assert r.status_code == 200, r.text
    return app, r.json()["codes"]


def next_code(app: pyotp.TOTP) -> str:
    """The code of the next 30 s step: inside the ±1 step window, later than any used so far."""
    return app.at(time.time() + 30)


async def test_enrolment_needs_a_matching_code_and_keeps_the_secret_encrypted(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.post("/api/v1/auth/totp/enrol", headers=admin)
    secret = r.json()["secret"]
    r = await client.post("/api/v1/auth/totp/confirm", json={"code": "000000"}, headers=admin)
    assert r.status_code == 422 and "authenticator app" in r.json()["detail"]
    assert (await client.get("/api/v1/auth/totp", headers=admin)).json()["enabled"] is False
    r = await client.post(
        "/api/v1/auth/totp/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=admin
    )
    assert r.status_code == 200
    codes = r.json()["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    status = (await client.get("/api/v1/auth/totp", headers=admin)).json()
    assert status == {"enabled": True, "recovery_codes_left": 10, "required": False}
    async with app.state.unity.db.session() as s:
        user = await s.scalar(select(User).where(User.username == "admin"))
    assert user.totp_secret and secret not in user.totp_secret
    assert SecretBox([TEST_KEY]).decrypt(user.totp_secret) == {"secret": secret}
    again = await client.post("/api/v1/auth/totp/enrol", headers=admin)
    assert again.status_code == 409


async def test_sign_in_asks_for_the_code_and_refuses_a_replayed_one(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    authenticator, _ = await enrol(client, admin)
    r = await client.post("/api/v1/auth/login", data=FORM)
    assert r.status_code == 401 and r.json()["error"] == "TwoFactorRequired"
    assert "access_token" not in r.text
    code = next_code(authenticator)
    r = await client.post("/api/v1/auth/session", data={**FORM, "code": code})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["totp_enabled"] is True
    replay = await client.post("/api/v1/auth/login", data={**FORM, "code": code})
    assert replay.status_code == 401 and "already used" in replay.json()["detail"]
    wrong_password = await client.post(
        "/api/v1/auth/login", data={"username": "admin", "password": "wrong-pass", "code": code}
    )
    assert wrong_password.status_code == 401
    assert wrong_password.json()["error"] == "Unauthorized"


async def test_a_recovery_code_works_once(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    _, codes = await enrol(client, admin)
    r = await client.post("/api/v1/auth/login", data={**FORM, "code": codes[0].upper()})
    assert r.status_code == 200, r.text
    status = (await client.get("/api/v1/auth/totp", headers=admin)).json()
    assert status["recovery_codes_left"] == 9
    again = await client.post("/api/v1/auth/login", data={**FORM, "code": codes[0]})
    assert again.status_code == 401


async def test_admin_resets_a_users_two_factor_and_viewers_cannot(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    await enrol(client, viewer)
    viewer_form = {"username": "viewer", "password": PASSWORD}
    assert (await client.post("/api/v1/auth/login", data=viewer_form)).status_code == 401
    users = (await client.get("/api/v1/users", headers=admin)).json()
    viewer_id = next(u["id"] for u in users if u["username"] == "viewer")
    admin_id = next(u["id"] for u in users if u["username"] == "admin")
    refused = await client.delete(f"/api/v1/users/{admin_id}/totp", headers=viewer)
    assert refused.status_code == 403
    r = await client.delete(f"/api/v1/users/{viewer_id}/totp", headers=admin)
    assert r.status_code == 200 and r.json()["totp_enabled"] is False
    assert (await client.post("/api/v1/auth/login", data=viewer_form)).status_code == 200


async def test_turning_it_off_needs_the_password(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await enrol(client, admin)
    r = await client.post("/api/v1/auth/totp/disable", json={"password": "nope"}, headers=admin)
    assert r.status_code == 403
    r = await client.post("/api/v1/auth/totp/disable", json={"password": PASSWORD}, headers=admin)
    assert r.status_code == 204
    assert (await client.post("/api/v1/auth/login", data=FORM)).status_code == 200


def test_codes_are_accepted_one_step_either_side_and_only_once() -> None:
    box = SecretBox([TEST_KEY])
    secret = pyotp.random_base32()
    user = User(username="u", totp_secret=box.encrypt({"secret": secret}))
    authenticator = pyotp.TOTP(secret)
    t = 1_800_000_000.0  # a controlled clock: the start of a 30 s step
    assert not totp.accept_code(box, user, authenticator.at(t), now=t + 61)  # two steps late
    assert not totp.accept_code(box, user, authenticator.at(t), now=t - 31)  # two steps early
    assert totp.accept_code(box, user, authenticator.at(t), now=t + 30)  # one step late
    assert not totp.accept_code(box, user, authenticator.at(t), now=t + 30)  # used
    assert not totp.accept_code(box, user, authenticator.at(t - 30), now=t)  # older than used
    spaced = authenticator.at(t + 30)[:3] + " " + authenticator.at(t + 30)[3:]
    assert totp.accept_code(box, user, spaced, now=t + 30)  # as some apps show it
    assert not totp.accept_code(box, user, "12345a", now=t + 60)


async def in_process(tmp_path: Path, **overrides: Any) -> Any:
    """Settings for the in-process rules below (rate limit, admin rule): SQLite suffices."""
    return make_settings(f"sqlite:///{tmp_path / 'homelab.db'}", tmp_path, **overrides)


async def test_wrong_codes_count_against_the_login_limit(tmp_path: Path) -> None:
    settings: Settings = await in_process(tmp_path, login_rate_per_minute_user=3)
    async with (
        running_app(settings) as app,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        await client.post("/api/v1/auth/setup", json=FORM)
        authenticator, _ = await enrol(client, await login(client, "admin"))
        for _ in range(3):
            r = await client.post("/api/v1/auth/login", data={**FORM, "code": "000000"})
            assert r.status_code == 401
        r = await client.post("/api/v1/auth/login", data={**FORM, "code": next_code(authenticator)})
        assert r.status_code == 429 and "Retry-After" in r.headers


async def test_admins_can_be_required_to_use_two_factor(tmp_path: Path) -> None:
    settings: Settings = await in_process(tmp_path, totp_required_for_admins=True)
    async with (
        running_app(settings) as app,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        await client.post("/api/v1/auth/setup", json=FORM)
        headers = await login(client, "admin")
        r = await client.get("/api/v1/users", headers=headers)
        assert r.status_code == 403 and "TOTP_REQUIRED_FOR_ADMINS" in r.json()["detail"]
        assert (await client.get("/api/v1/auth/totp", headers=headers)).json()["required"]
        await enrol(client, headers)
        assert (await client.get("/api/v1/users", headers=headers)).status_code == 200
