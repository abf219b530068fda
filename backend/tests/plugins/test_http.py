"""The `http` plugin against real HTTP and HTTPS (self-signed) servers on loopback."""

from __future__ import annotations

import socket

import pytest
from pydantic import ValidationError

from app.plugins.base import PluginContext
from app.plugins.builtin.http import HttpPlugin

from .conftest import collect


def make(tmp_path, **config):
    return HttpPlugin(HttpPlugin.Config(**config), PluginContext(1, tmp_path))


def values(samples):
    return {s.name: s.value for s in samples}


async def run(tmp_path, **config):
    """(down reason or None, samples, {name: value}) for one run."""
    samples, reason = await collect(make(tmp_path, **config))
    return reason, samples, values(samples)


async def test_page_up_with_status_time_size(tmp_path, http_servers):
    reason, samples, v = await run(tmp_path, url=http_servers.http_url + "/", keyword="homelab")
    assert v["up"] == 1
    assert v["http_status_code"] == 200
    assert 0 < v["http_response_time"] < 2000
    assert v["http_response_size"] == len(b"<h1>Welcome to the homelab</h1>")
    assert v["http_keyword_found"] == 1
    units = {s.name: s.unit for s in samples}
    assert units["http_response_time"] == "ms"
    assert units["up"] == "bool"
    assert units["http_response_size"] == "bytes"
    assert "tls_cert_days_remaining" not in v  # plain http has no certificate
    assert reason is None


async def test_missing_keyword_is_down(tmp_path, http_servers):
    reason, _, v = await run(tmp_path, url=http_servers.http_url + "/", keyword="Grafana")
    assert v["up"] == 0 and v["http_status_code"] == 200 and v["http_keyword_found"] == 0
    assert "keyword 'Grafana' not found" in reason


async def test_unexpected_status_is_down_but_reports_code(tmp_path, http_servers):
    reason, _, v = await run(tmp_path, url=http_servers.http_url + "/status/503")
    assert v["up"] == 0 and v["http_status_code"] == 503
    assert "unexpected status 503" in reason


async def test_expected_status_codes_override_default(tmp_path, http_servers):
    _, _, v = await run(
        tmp_path, url=http_servers.http_url + "/status/401", expected_status_codes=[401]
    )
    assert v["up"] == 1 and v["http_status_code"] == 401
    reason, _, v = await run(tmp_path, url=http_servers.http_url + "/", expected_status_codes=[204])
    assert v["up"] == 0 and reason == f"{http_servers.http_url}/: unexpected status 200"


async def test_redirects_followed_or_not(tmp_path, http_servers):
    _, _, v = await run(tmp_path, url=http_servers.http_url + "/redirect", keyword="Welcome")
    assert v["http_status_code"] == 200 and v["up"] == 1
    _, _, v = await run(tmp_path, url=http_servers.http_url + "/redirect", follow_redirects=False)
    assert v["http_status_code"] == 302 and v["up"] == 1  # 3xx counts as up by default
    reason, _, v = await run(tmp_path, url=http_servers.http_url + "/loop")
    assert v["up"] == 0 and "more than 10 redirects" in reason


async def test_timeout_is_down(tmp_path, http_servers):
    reason, _, v = await run(tmp_path, url=http_servers.http_url + "/slow", timeout_seconds=0.3)
    assert v == {"up": 0}
    assert "no response within 0.3 s" in reason


async def test_connection_refused_is_down(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    reason, _, v = await run(tmp_path, url=f"http://127.0.0.1:{port}/")
    assert v == {"up": 0}
    assert "cannot connect" in reason


async def test_basic_auth_and_headers(tmp_path, http_servers):
    reason, _, v = await run(tmp_path, url=http_servers.http_url + "/auth")
    assert v["http_status_code"] == 401 and v["up"] == 0
    assert reason == f"{http_servers.http_url}/auth: unexpected status 401"
    _, _, v = await run(
        tmp_path,
        url=http_servers.http_url + "/auth",
        basic_auth_username="monitor",
        basic_auth_password="s3cret",
    )
    assert v["http_status_code"] == 200 and v["up"] == 1
    _, _, v = await run(
        tmp_path,
        url=http_servers.http_url + "/echo",
        headers={"X-Probe": "unity-123"},
        keyword="X-Probe: unity-123",
    )
    assert v["up"] == 1
    _, _, v = await run(
        tmp_path, url=http_servers.http_url + "/echo", bearer_token="tok", keyword="Bearer tok"
    )
    assert v["up"] == 1


async def test_https_self_signed_refused_when_verifying_but_expiry_reported(tmp_path, http_servers):
    reason, _, v = await run(tmp_path, url=http_servers.https_url + "/")
    assert v["up"] == 0
    assert "certificate not trusted" in reason
    assert "verify_tls" in reason
    # The expiry is still what a user wants to know about a broken certificate.
    assert v["tls_cert_days_remaining"] == pytest.approx(http_servers.cert_days, abs=0.1)


async def test_https_without_verification_is_up_with_cert_days(tmp_path, http_servers):
    _, samples, v = await run(
        tmp_path, url=http_servers.https_url + "/", verify_tls=False, keyword="Welcome"
    )
    assert v["up"] == 1 and v["http_status_code"] == 200
    cert = next(s for s in samples if s.name == "tls_cert_days_remaining")
    assert cert.unit == "days"
    assert cert.value == pytest.approx(http_servers.cert_days, abs=0.1)
    _, _, v = await run(
        tmp_path, url=http_servers.https_url + "/", verify_tls=False, check_certificate=False
    )
    assert "tls_cert_days_remaining" not in v


async def test_head_request(tmp_path, http_servers):
    _, _, v = await run(tmp_path, url=http_servers.http_url + "/", method="HEAD")
    assert v["up"] == 1 and v["http_response_size"] == 0


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://nas.lan/", "gopher://x", "javascript:alert(1)", "http://"],
)
def test_non_http_urls_are_a_validation_error(url):
    with pytest.raises(ValidationError) as err:
        HttpPlugin.Config(url=url)
    assert err.value.errors()[0]["loc"] == ("url",)


def test_config_cross_checks():
    with pytest.raises(ValidationError, match="needs basic_auth_username"):
        HttpPlugin.Config(url="http://x/", basic_auth_password="p")
    with pytest.raises(ValidationError, match="use GET"):
        HttpPlugin.Config(url="http://x/", method="HEAD", keyword="k")
    with pytest.raises(ValidationError, match="between 100 and 599"):
        HttpPlugin.Config(url="http://x/", expected_status_codes=[99])


def test_credentials_are_secret_fields():
    assert set(HttpPlugin.secret_fields()) == {"basic_auth_password", "bearer_token"}
    schema = HttpPlugin.config_schema()
    assert schema["properties"]["url"]["title"] == "URL"
    assert schema["required"] == ["url"]
