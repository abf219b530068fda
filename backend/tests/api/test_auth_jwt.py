"""Forged and stale access tokens, sent to the real API: each gets 401 and a sentence saying why."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.core.security import create_access_token
from tests.conftest import TEST_JWT


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Token checks happen before any query that differs between databases: SQLite only."""
    return f"sqlite:///{tmp_path / 'homelab.db'}"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(sub: int, **over: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": str(sub), "gen": 0, "typ": "access", "iat": now, "exp": now + 3600}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


async def _ids(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, int]:
    users = (await client.get("/api/v1/users", headers=admin)).json()
    return {u["username"]: u["id"] for u in users}


def _forgeries(admin_id: int, viewer_token: str) -> dict[str, tuple[str, str]]:
    """name -> (token, a phrase the refusal must contain)."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    hs256_sig = jwt.encode(_claims(admin_id), TEST_JWT, algorithm="HS256").split(".")[2]
    header, _, signature = viewer_token.split(".")
    expired, _ = create_access_token(
        TEST_JWT, admin_id, 0, minutes=5, now=datetime.now(UTC) - timedelta(hours=1)
    )
    return {
        "another key": (
            jwt.encode(_claims(admin_id), "some-other-secret-" + "q" * 40, algorithm="HS256"),
            "signature does not match",
        ),
        "alg none": (f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(admin_id))}.", "HS256"),
        "HS512 with the right key": (
            jwt.encode(_claims(admin_id), TEST_JWT + "y" * 8, algorithm="HS512"),
            "HS256",
        ),
        "RS256": (jwt.encode(_claims(admin_id), rsa_key, algorithm="RS256"), "HS256"),
        "RS256 header, HMAC signature": (
            f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(_claims(admin_id))}.{hs256_sig}",
            "HS256",
        ),
        "expired": (expired, "expired"),
        "no exp": (
            jwt.encode(_claims(admin_id, exp=None), TEST_JWT, algorithm="HS256"),
            "'exp' claim",
        ),
        "viewer token with the admin's id": (
            f"{header}.{_b64(_claims(admin_id))}.{signature}",
            "signature does not match",
        ),
        "not a JWT": ("eyJhbGciOi.garbage", "not a valid token"),
    }


async def test_forged_tokens_are_refused_with_a_reason(
    client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    ids = await _ids(client, admin)
    viewer_token = viewer["Authorization"].removeprefix("Bearer ")
    for name, (token, phrase) in _forgeries(ids["admin"], viewer_token).items():
        for path in ("/api/v1/auth/me", "/api/v1/users"):
            r = await client.get(path, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401, f"{name} on {path}: {r.status_code} {r.text}"
            assert r.json()["error"] == "Unauthorized"
            assert phrase in r.json()["detail"], f"{name}: {r.json()['detail']}"
    # the genuine token still works, so the refusals above were about the forgeries
    assert (await client.get("/api/v1/auth/me", headers=viewer)).status_code == 200


async def test_a_correctly_signed_token_from_an_older_generation_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """Even with the signing key, a token minted for a stale generation does not pass."""
    ids = await _ids(client, admin)
    stale = jwt.encode(_claims(ids["admin"], gen=-1), TEST_JWT, algorithm="HS256")
    r = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {stale}"})
    assert r.status_code == 401 and "sign in again" in r.json()["detail"]
    ok = jwt.encode(_claims(ids["admin"]), TEST_JWT, algorithm="HS256")
    r = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {ok}"})
    assert r.status_code == 200  # the shape above is exactly what a valid token looks like


async def test_an_unknown_api_token_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer unity_nope"})
    assert r.status_code == 401
    assert r.json()["detail"] == "This API token is unknown or was revoked."
