"""The `http` plugin: is a web endpoint up, how fast, with what status, keyword and TLS expiry."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import ssl
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, field_validator, model_validator

from app.core.egress import EgressDenied, guarded_transport, policy, refuse_metadata
from app.plugins.base import Plugin, PluginConfig, Sample, SecretField
from app.plugins.builtin._common import (
    describe_exc,
    elapsed_ms,
    target_down,
    up_sample,
)
from app.plugins.builtin._events import CertificateWatch

if TYPE_CHECKING:  # httpx loads with the first instance (house style 15)
    import httpx

MAX_BODY_BYTES = 5 * 1024 * 1024  # keyword search reads at most this much of the body
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _header_name(name: str) -> str:
    if not _TOKEN.match(name):
        raise ValueError("a header name holds only letters, digits and !#$%&'*+.^_`|~-")
    return name


HeaderName = Annotated[str, Field(min_length=1, max_length=256), AfterValidator(_header_name)]
HeaderValue = Annotated[str, Field(max_length=4096)]


@functools.cache
def _tls_context(verify: bool) -> ssl.SSLContext:
    """One TLS context per verify setting for every check: loading the CA bundle takes 20-40 ms
    on the event loop, which a fresh client per run would pay each time."""
    import httpx

    return httpx.create_ssl_context(verify=verify)


class HttpConfig(PluginConfig):
    url: str = Field(
        ...,
        title="URL",
        description="The address to check. Only http:// and https:// URLs are allowed.",
        examples=["https://nas.lan:5001/", "http://192.168.1.20:8123/api/"],
        max_length=2048,
    )
    method: Literal["GET", "HEAD"] = Field(
        "GET", title="Method", description="HEAD skips the body (and so the keyword check)."
    )
    expected_status_codes: list[int] = Field(
        [],
        title="Expected status codes",
        description="The check is up only for these codes. Empty means any 2xx or 3xx.",
        examples=[[200], [200, 204, 401]],
        max_length=50,
    )
    keyword: str | None = Field(
        None,
        title="Keyword",
        description="If set, the response body must contain this text (case-sensitive).",
        examples=["Welcome"],
        max_length=500,
    )
    follow_redirects: bool = Field(
        True, title="Follow redirects", description="Follow up to 10 redirects."
    )
    timeout_seconds: float = Field(
        10.0,
        title="Timeout (s)",
        description="A response slower than this counts as down.",
        gt=0,
        le=120,
    )
    verify_tls: bool = Field(
        True,
        title="Verify TLS",
        description="Check the certificate chain and host name. Turn off for self-signed "
        "certificates; the expiry date is reported either way.",
    )
    check_certificate: bool = Field(
        True,
        title="Report certificate expiry",
        description="For https URLs, report the days until the server certificate expires.",
    )
    headers: dict[HeaderName, HeaderValue] = Field(
        {},
        title="Request headers",
        description="Extra headers to send. Put credentials in the secret fields below instead.",
        examples=[{"Accept": "application/json"}],
        max_length=50,
    )
    basic_auth_username: str | None = Field(
        None,
        title="Basic auth user",
        description="User name for HTTP basic authentication.",
        max_length=200,
        examples=["monitor"],
    )
    basic_auth_password: str | None = SecretField(
        None,
        title="Basic auth password",
        description="Password for HTTP basic authentication. Stored encrypted.",
        max_length=500,
    )
    bearer_token: str | None = SecretField(
        None,
        title="Bearer token",
        description="Sent as `Authorization: Bearer <token>`.",
        max_length=4096,
    )

    @field_validator("url")
    @classmethod
    def _http_only(cls, v: str) -> str:
        v = v.strip()
        parts = urlsplit(v)
        if parts.scheme.lower() not in ("http", "https"):
            raise ValueError("only http:// and https:// URLs are allowed")
        if not parts.hostname:
            raise ValueError("the URL has no host name")
        _never_metadata(parts.hostname)
        return v

    @field_validator("expected_status_codes")
    @classmethod
    def _codes(cls, v: list[int]) -> list[int]:
        bad = [c for c in v if not 100 <= c <= 599]
        if bad:
            raise ValueError(f"HTTP status codes are between 100 and 599, got {bad}")
        return v

    @model_validator(mode="after")
    def _auth(self) -> HttpConfig:
        if self.basic_auth_password and not self.basic_auth_username:
            raise ValueError("basic_auth_password needs basic_auth_username")
        if self.bearer_token and self.basic_auth_username:
            raise ValueError("use either basic auth or a bearer token, not both")
        if self.keyword is not None and self.method == "HEAD":
            raise ValueError("a keyword check needs the body: use GET, not HEAD")
        return self


def _never_metadata(host: str) -> None:
    """Refuse a cloud metadata name or address already when the check is saved.

    The configurable ranges (CHECK_DENY_NETWORKS) are checked when the check runs, after DNS.
    """
    try:
        refuse_metadata(host)
    except EgressDenied as exc:
        raise ValueError(str(exc).rstrip(".")) from None


async def fetch_certificate_expiry(host: str, port: int, wait_seconds: float) -> datetime:
    """The peer certificate's notAfter, read over a handshake that does not verify it.

    Verification is the request's job; here we want the date even for a self-signed or
    already expired certificate, so we read the raw DER and parse it ourselves.
    """
    from cryptography import x509

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    address = (await policy().resolve(host, port, wait_seconds))[0]
    _, writer = await asyncio.wait_for(
        asyncio.open_connection(address, port, ssl=ctx, server_hostname=host), wait_seconds
    )
    try:
        sslobj = writer.get_extra_info("ssl_object")
        der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    if not der:
        raise ValueError("the server sent no certificate")
    return x509.load_der_x509_certificate(der).not_valid_after_utc


class HttpPlugin(Plugin[HttpConfig]):
    type = "http"
    name = "HTTP(S) check"
    description = (
        "Requests a URL and reports up/down, status code, response time, an optional "
        "keyword match and the days until the TLS certificate expires."
    )
    category = "service"
    Config = HttpConfig
    requires = {"httpx": "httpx"}
    default_interval_seconds = 60

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.certificates = CertificateWatch()  # a renewed certificate is a timeline event

    @property
    def cfg(self) -> HttpConfig:
        return self.config

    def _is_expected(self, status: int) -> bool:
        codes = self.cfg.expected_status_codes
        return status in codes if codes else 200 <= status < 400

    async def collect_data(self) -> list[Sample]:
        import httpx

        cfg = self.cfg
        headers = dict(cfg.headers)
        if cfg.bearer_token:
            headers["Authorization"] = f"Bearer {cfg.bearer_token}"
        auth = (
            httpx.BasicAuth(cfg.basic_auth_username, cfg.basic_auth_password or "")
            if cfg.basic_auth_username
            else None
        )
        samples: list[Sample] = []
        reason: str | None = None
        final_url = httpx.URL(cfg.url)
        verify = _tls_context(cfg.verify_tls)
        async with httpx.AsyncClient(
            # Every connection, redirect hops included, is checked against the SSRF policy.
            transport=guarded_transport(verify=verify, trust_env=False),
            verify=verify,
            follow_redirects=cfg.follow_redirects,
            max_redirects=10,
            timeout=cfg.timeout_seconds,
            trust_env=False,  # a proxy from the environment would make the check lie
            headers={"User-Agent": "Unity-monitor/1.0"},
        ) as client:
            start = time.perf_counter()
            try:
                async with client.stream(cfg.method, cfg.url, headers=headers, auth=auth) as resp:
                    body = bytearray()
                    if cfg.method != "HEAD":
                        async for chunk in resp.aiter_bytes():
                            body += chunk
                            if len(body) >= MAX_BODY_BYTES:
                                break
                    response_ms = elapsed_ms(start)
                    final_url = resp.url
                    status = resp.status_code
            except httpx.TimeoutException:
                reason = f"no response within {cfg.timeout_seconds:g} s"
            except EgressDenied as exc:
                reason = str(exc).rstrip(".")
            except httpx.TooManyRedirects:
                reason = "more than 10 redirects"
            except httpx.HTTPError as exc:
                reason = _connect_reason(exc)
            else:
                samples.append(Sample("http_status_code", float(status), ""))
                samples.append(Sample("http_response_time", response_ms, "ms"))
                samples.append(Sample("http_response_size", float(len(body)), "bytes"))
                if not self._is_expected(status):
                    reason = f"unexpected status {status}"
                if cfg.keyword is not None and cfg.method != "HEAD":
                    found = cfg.keyword in body.decode(resp.encoding or "utf-8", errors="replace")
                    samples.append(Sample("http_keyword_found", 1.0 if found else 0.0, "bool"))
                    if not found and reason is None:
                        reason = f"keyword {cfg.keyword!r} not found in the response"

        if cfg.check_certificate:
            samples += await self._certificate(final_url)

        if reason is not None:
            raise target_down(self, f"{cfg.url}: {reason}", [up_sample(False), *samples])
        return [up_sample(True), *samples]

    async def _certificate(self, url: httpx.URL) -> list[Sample]:
        import httpx

        if url.scheme != "https":
            url = httpx.URL(self.cfg.url)
            if url.scheme != "https":
                return []
        host = url.host
        port = url.port or 443
        try:
            not_after = await fetch_certificate_expiry(host, port, self.cfg.timeout_seconds)
        except (OSError, ssl.SSLError, TimeoutError, ValueError, EgressDenied):
            return []  # unreachable or not TLS: already reported through `up`
        self.certificates.observe(self, f"{host}:{port}", not_after)
        days = (not_after - datetime.now(UTC)).total_seconds() / 86400.0
        return [Sample("tls_cert_days_remaining", round(days, 3), "days")]


def _connect_reason(exc: httpx.HTTPError) -> str:
    import httpx

    text = describe_exc(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return f"TLS certificate not trusted ({text}); turn off verify_tls for self-signed"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {text}"
    return text


PLUGIN = HttpPlugin
