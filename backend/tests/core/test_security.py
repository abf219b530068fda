"""Security primitives without a database: JWT refusals, password hashing, secret boxes, limiter."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError
from starlette.requests import Request

from app.api.client_address import client_address, client_scheme, origin_allowed
from app.core.config import Settings
from app.core.security import (
    API_TOKEN_PREFIX,
    SecretBox,
    TokenError,
    create_access_token,
    decode_access_token,
    hash_api_token,
    hash_password,
    new_api_token,
    verify_password,
)
from app.services.auth.login_limits import RateLimiter

SECRET = "unit-test-jwt-secret-" + "k" * 48


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**over: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": "1", "gen": 0, "typ": "access", "iat": now, "exp": now + 3600}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def _refusal(token: str) -> str:
    with pytest.raises(TokenError) as exc:
        decode_access_token(SECRET, token)
    return str(exc.value)


def test_a_token_we_issue_round_trips() -> None:
    token, expires_in = create_access_token(SECRET, 7, 3, minutes=15)
    claims = decode_access_token(SECRET, token)
    assert claims["sub"] == "7"
    assert claims["gen"] == 3
    assert expires_in == 900
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_a_token_signed_with_another_key_is_refused() -> None:
    token = jwt.encode(_claims(), "another-key-" + "z" * 40, algorithm="HS256")
    assert "signature" in _refusal(token)


def test_alg_none_is_refused() -> None:
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(iat=1, exp=2**40))}."
    assert "HS256" in _refusal(unsigned)


def test_hs512_with_the_right_key_is_refused() -> None:
    token = jwt.encode(_claims(), SECRET, algorithm="HS512")
    assert "HS256" in _refusal(token)


def test_rs256_and_rs256_header_with_hmac_signature_are_refused() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert "HS256" in _refusal(jwt.encode(_claims(), key, algorithm="RS256"))
    # The classic confusion: header says RS256, signature is an HMAC with a key the server knows.
    good = jwt.encode(_claims(), SECRET, algorithm="HS256")
    _, payload, signature = good.split(".")
    forged = f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{payload}.{signature}"
    assert "HS256" in _refusal(forged)


def test_an_expired_token_is_refused_with_expired_in_the_message() -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    token, _ = create_access_token(SECRET, 1, 0, minutes=60, now=past)
    assert "expired" in _refusal(token)


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "gen", "typ"])
def test_a_token_missing_a_required_claim_is_refused(claim: str) -> None:
    token = jwt.encode(_claims(**{claim: None}), SECRET, algorithm="HS256")
    assert repr(claim) in _refusal(token)


def test_a_tampered_payload_is_refused() -> None:
    token, _ = create_access_token(SECRET, 2, 0, minutes=60)
    header, _, signature = token.split(".")
    tampered = f"{header}.{_b64(_claims(sub='1'))}.{signature}"
    assert "signature" in _refusal(tampered)


@pytest.mark.parametrize(
    "over", [{"typ": "refresh"}, {"sub": "admin"}, {"gen": "0"}, {"gen": True}]
)
def test_claims_of_the_wrong_shape_are_refused(over: dict[str, Any]) -> None:
    assert "sign in again" in _refusal(jwt.encode(_claims(**over), SECRET, algorithm="HS256"))


def test_garbage_is_refused_with_a_hint() -> None:
    assert "POST /api/v1/auth/login" in _refusal("not-a-jwt")


def test_passwords_are_argon2_and_verify() -> None:
    stored = hash_password("correct-horse")
    assert stored.startswith("$argon2id$")
    assert verify_password("correct-horse", stored)
    assert not verify_password("wrong-horse", stored)
    assert not verify_password("anything", None)  # unknown user: no exception, just no
    assert not verify_password("anything", "not-a-hash")


def test_api_tokens_are_random_and_only_their_hash_is_kept() -> None:
    secret, prefix, digest = new_api_token()
    assert secret.startswith(API_TOKEN_PREFIX) and len(secret) > 40
    assert secret.startswith(prefix) and len(prefix) < len(secret) // 3
    assert digest == hash_api_token(secret) and secret not in digest
    assert new_api_token()[0] != secret


def test_secret_box_rotation_moves_ciphertext_to_the_newest_key() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    stored = SecretBox([old]).encrypt({"password": "p4ss"})
    with pytest.raises(ValueError, match="cannot be decrypted"):
        SecretBox([new]).decrypt(stored)
    rotated = SecretBox([new, old]).rotate(stored)
    assert SecretBox([new]).decrypt(rotated) == {"password": "p4ss"}
    with pytest.raises(ValueError, match="keep the old key"):
        SecretBox([Fernet.generate_key().decode()]).rotate(stored)


def test_cors_wildcard_is_refused_at_settings_load(monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("*", "http://ui.lan, *"):
        monkeypatch.setenv("CORS_ORIGINS", value)
        with pytest.raises(ValidationError, match="CORS_ORIGINS may not be"):
            Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("CORS_ORIGINS", "http://ui.lan:5173, https://unity.lan")
    assert Settings(_env_file=None).cors_origins == [  # type: ignore[call-arg]
        "http://ui.lan:5173",
        "https://unity.lan",
    ]


def test_rate_limiter_window_and_retry_after() -> None:
    limiter = RateLimiter(window_seconds=60)
    assert limiter.retry_after("k", 2, now=0) == 0
    limiter.hit("k", now=0)
    limiter.hit("k", now=10)
    assert limiter.retry_after("k", 2, now=20) == pytest.approx(40)
    assert limiter.retry_after("k", 2, now=60.5) == 0  # the first hit left the window
    assert limiter.retry_after("never-hit", 1, now=0) == 0
    assert "never-hit" not in limiter._hits  # checking alone keeps no state


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def test_client_address_believes_forwarded_for_only_from_trusted_proxies() -> None:
    proxies = ["10.0.0.0/8", "127.0.0.1"]
    assert client_address(_request("203.0.113.9", "198.51.100.1"), proxies) == "203.0.113.9"
    assert client_address(_request("10.0.0.5", "198.51.100.1"), proxies) == "198.51.100.1"
    # nginx appends the real peer; whatever the client wrote before it is ignored
    assert client_address(_request("10.0.0.5", "1.2.3.4, 198.51.100.1"), proxies) == "198.51.100.1"
    # chains of trusted proxies are walked back to the first untrusted hop
    assert client_address(_request("127.0.0.1", "198.51.100.7, 10.1.1.1"), proxies) == (
        "198.51.100.7"
    )
    assert client_address(_request("10.0.0.5"), proxies) == "10.0.0.5"


def test_client_scheme_believes_forwarded_proto_only_from_trusted_proxies() -> None:
    proxies = ["10.0.0.0/8"]

    def request(peer: str, proto: str | None) -> Request:
        headers = [(b"x-forwarded-proto", proto.encode())] if proto else []
        scope = {"type": "http", "scheme": "http", "path": "/", "client": (peer, 1)}
        return Request({**scope, "headers": headers, "server": ("t", 80)})

    assert client_scheme(request("10.0.0.5", "HTTPS"), proxies) == "https"
    assert client_scheme(request("10.0.0.5", "https, http"), proxies) == "https"
    assert client_scheme(request("10.0.0.5", None), proxies) == "http"
    assert client_scheme(request("203.0.113.9", "https"), proxies) == "http"  # anyone can claim


def test_origin_allowed_is_the_site_itself_or_a_cors_origin() -> None:
    def request(origin: str | None) -> Request:
        headers = [(b"host", b"unity.lan")]
        headers += [(b"origin", origin.encode())] if origin else []
        return Request({"type": "http", "headers": headers})

    assert origin_allowed(request(None), [])  # not a browser
    assert origin_allowed(request("https://unity.lan"), [])
    assert origin_allowed(request("http://ui.lan:5173"), ["http://ui.lan:5173"])
    assert not origin_allowed(request("http://evil.example"), ["http://ui.lan:5173"])


async def test_trusted_proxies_may_be_host_names_resolved_without_blocking() -> None:
    from app.api.client_address import TrustedProxies

    proxies = TrustedProxies(["10.0.0.0/8", "localhost", "no-such-host.invalid"])
    nets = await proxies.networks()
    assert "10.0.0.0/8" in nets
    assert "127.0.0.1" in nets  # localhost resolved
    assert client_address(_request("127.0.0.1", "198.51.100.1"), nets) == "198.51.100.1"
    assert client_address(_request("192.0.2.1", "198.51.100.1"), nets) == "192.0.2.1"


@pytest.mark.parametrize(
    "bad", ["", "x", "a" * 44, "!!!!", base64.urlsafe_b64encode(b"k" * 31).decode()]
)
def test_fernet_keys_are_checked_as_fernet_checks_them_without_importing_it(bad: str) -> None:
    from cryptography.fernet import Fernet

    from app.core.keys import check_fernet_key, new_fernet_key

    made = new_fernet_key()
    check_fernet_key(made)
    assert Fernet(made).decrypt(Fernet(made).encrypt(b"x")) == b"x"
    with pytest.raises(ValueError):
        Fernet(bad)
    with pytest.raises(ValueError, match="32 url-safe base64"):
        check_fernet_key(bad)
