"""The `dns` plugin against a local UDP DNS stub (see conftest.dns_stub)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.plugins.base import PluginContext
from app.plugins.builtin.dns import DnsPlugin

from .conftest import collect


def make(tmp_path, stub, **config):
    config.setdefault("server", "127.0.0.1")
    config.setdefault("port", stub.port)
    return DnsPlugin(DnsPlugin.Config(**config), PluginContext(1, tmp_path))


async def run(tmp_path, stub, **config):
    """(down reason or None, {name: sample}) for one run."""
    samples, reason = await collect(make(tmp_path, stub, **config))
    return reason, {s.name: s for s in samples}


async def test_a_record_resolves_with_latency_and_ttl(tmp_path, dns_stub):
    reason, s = await run(tmp_path, dns_stub, name="nas.home.arpa")
    assert s["up"].value == 1
    assert s["dns_answer_count"].value == 2 and s["dns_answer_count"].unit == "count"
    assert s["dns_response_time"].unit == "ms"
    assert 0 < s["dns_response_time"].value < 1000
    assert s["dns_ttl"].value == 300 and s["dns_ttl"].unit == "seconds"
    assert "dns_answer_match" not in s
    assert "nas.home.arpa. A" in dns_stub.queries
    assert reason is None


async def test_expected_answer_matches_or_reports_the_difference(tmp_path, dns_stub):
    _, s = await run(tmp_path, dns_stub, name="nas.home.arpa", expected_answers=["192.168.1.10"])
    assert s["up"].value == 1 and s["dns_answer_match"].value == 1

    reason, s = await run(
        tmp_path, dns_stub, name="nas.home.arpa", expected_answers=["192.168.1.99"]
    )
    assert s["up"].value == 0 and s["dns_answer_match"].value == 0
    assert s["dns_answer_match"].unit == "bool"
    assert "expected ['192.168.1.99']" in reason
    assert "192.168.1.10" in reason


@pytest.mark.parametrize(
    ("rtype", "expected"),
    [
        ("AAAA", "fd00::10"),
        ("MX", "10 MAIL.home.arpa"),  # case and trailing dot do not matter
        ("TXT", "v=spf1 -all"),  # nor do the quotes around TXT data
    ],
)
async def test_other_record_types(tmp_path, dns_stub, rtype, expected):
    name = "nas.home.arpa" if rtype == "AAAA" else "home.arpa"
    _, s = await run(tmp_path, dns_stub, name=name, record_type=rtype, expected_answers=[expected])
    assert s["up"].value == 1 and s["dns_answer_match"].value == 1


async def test_nxdomain_is_down_with_reason(tmp_path, dns_stub):
    reason, s = await run(tmp_path, dns_stub, name="nope.home.arpa")
    assert s["up"].value == 0
    assert "dns_response_time" in s  # the server did answer, quickly
    assert reason == (f"nope.home.arpa does not exist (NXDOMAIN from 127.0.0.1:{dns_stub.port})")


async def test_no_record_of_that_type_is_down(tmp_path, dns_stub):
    reason, s = await run(tmp_path, dns_stub, name="home.arpa", record_type="A")
    assert s["up"].value == 0 and s["dns_answer_count"].value == 0
    assert reason == "home.arpa has no A record"


async def test_servfail_is_down(tmp_path, dns_stub):
    reason, s = await run(tmp_path, dns_stub, name="broken.home.arpa")
    assert s["up"].value == 0
    assert "could not answer for broken.home.arpa" in reason


async def test_timeout_is_down(tmp_path, dns_stub):
    reason, s = await run(tmp_path, dns_stub, name="slow.home.arpa", timeout_seconds=0.3)
    assert list(s) == ["up"] and s["up"].value == 0
    assert reason == f"no answer from 127.0.0.1:{dns_stub.port} within 0.3 s"


def test_config_validation():
    with pytest.raises(ValidationError, match="must be an IP address"):
        DnsPlugin.Config(name="x.lan", server="dns.google")
    with pytest.raises(ValidationError, match="record_type"):
        DnsPlugin.Config(name="x.lan", record_type="ANY")
    with pytest.raises(ValidationError, match="not a valid DNS name"):
        DnsPlugin.Config(name="a" * 64 + ".lan")
    assert DnsPlugin.Config(name="x.lan", server=" ").server is None
