"""The `dns` plugin: does a name resolve (optionally on a given server), to what, and how fast."""

from __future__ import annotations

import ipaddress
import time
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from app.plugins.base import Plugin, PluginConfig, PluginError, Sample
from app.plugins.builtin._common import (
    TimeoutField,
    allowed_target,
    describe_exc,
    elapsed_ms,
    target_down,
    up_sample,
    validate_host,
)

if TYPE_CHECKING:  # dnspython loads with the first instance (house style 15)
    import dns.asyncresolver

RecordType = Literal["A", "AAAA", "CNAME", "MX", "TXT", "NS", "SOA", "SRV", "PTR", "CAA"]


def normalize_answer(text: str) -> str:
    """Compare answers the way people write them: no quotes, no trailing dot, any case."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text.rstrip(".").lower()


class DnsConfig(PluginConfig):
    name: str = Field(
        ...,
        title="Name",
        description="The DNS name to resolve.",
        examples=["nas.home.arpa", "example.com"],
        min_length=1,
        max_length=253,
    )
    record_type: RecordType = Field(
        "A", title="Record type", description="Which record to ask for."
    )
    server: str | None = Field(
        None,
        title="DNS server",
        description="IP address of the server to ask (e.g. your Pi-hole). Empty uses the "
        "host's resolver from /etc/resolv.conf.",
        examples=["192.168.1.2", "1.1.1.1"],
    )
    port: int = Field(
        53, title="Server port", description="Only used with a server set.", ge=1, le=65535
    )
    expected_answers: list[str] = Field(
        [],
        title="Expected answers",
        description="Every value listed must be in the answer (e.g. the IP address the name "
        "should point to). Case, quotes and a trailing dot are ignored.",
        examples=[["192.168.1.10"]],
        max_length=50,
    )
    timeout_seconds: float = TimeoutField(5.0, 60, "No answer within this time counts as down.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        import dns.exception
        import dns.name

        try:
            dns.name.from_text(v.strip())
        except dns.exception.DNSException as exc:
            raise ValueError(f"not a valid DNS name: {describe_exc(exc)}") from exc
        return v.strip()

    @field_validator("server")
    @classmethod
    def _server(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        try:
            ipaddress.ip_address(v.strip())
        except ValueError as exc:
            raise ValueError("the DNS server must be an IP address, like 192.168.1.2") from exc
        return validate_host(v)  # normalised, and never a cloud metadata address


class DnsPlugin(Plugin[DnsConfig]):
    type = "dns"
    name = "DNS lookup"
    description = (
        "Resolves a name, optionally against a given server, checks the answer and "
        "measures the lookup time."
    )
    category = "network"
    Config = DnsConfig
    default_interval_seconds = 60
    requires = {"dns": "dnspython"}

    def _resolver(self, cfg: DnsConfig) -> dns.asyncresolver.Resolver:
        import dns.asyncresolver
        import dns.resolver

        try:
            resolver = dns.asyncresolver.Resolver(configure=cfg.server is None)
        except dns.resolver.NoResolverConfiguration as exc:
            raise PluginError(
                "this host has no DNS resolver configured (/etc/resolv.conf); "
                "set the `server` field to the DNS server to ask"
            ) from exc
        if cfg.server is not None:
            resolver.nameservers = [cfg.server]
            resolver.port = cfg.port
        resolver.cache = None
        resolver.lifetime = cfg.timeout_seconds
        resolver.timeout = cfg.timeout_seconds
        return resolver

    async def collect_data(self) -> list[Sample]:
        import dns.exception
        import dns.resolver

        cfg = self.config
        if cfg.server is not None:  # the name looked up is no target; the server asked is
            await allowed_target(self, cfg.server, cfg.port, cfg.timeout_seconds)
        resolver = self._resolver(cfg)
        where = f"{cfg.server}:{cfg.port}" if cfg.server else "the system resolver"
        start = time.perf_counter()
        samples: list[Sample] = []
        reason: str | None = None
        try:
            answer = await resolver.resolve(
                cfg.name, cfg.record_type, raise_on_no_answer=False, search=False
            )
        except dns.resolver.NXDOMAIN:
            samples.append(Sample("dns_response_time", elapsed_ms(start), "ms"))
            reason = f"{cfg.name} does not exist (NXDOMAIN from {where})"
        except dns.resolver.LifetimeTimeout:
            reason = f"no answer from {where} within {cfg.timeout_seconds:g} s"
        except dns.resolver.NoNameservers as exc:
            reason = f"{where} could not answer for {cfg.name}: {describe_exc(exc)}"
        except dns.exception.DNSException as exc:
            reason = f"lookup of {cfg.name} failed: {describe_exc(exc)}"
        else:
            samples.append(Sample("dns_response_time", elapsed_ms(start), "ms"))
            rrset = answer.rrset
            values = [r.to_text() for r in rrset] if rrset is not None else []
            samples.append(Sample("dns_answer_count", float(len(values)), "count"))
            if rrset is not None:
                samples.append(Sample("dns_ttl", float(rrset.ttl), "seconds"))
            if not values:
                reason = f"{cfg.name} has no {cfg.record_type} record"
            if cfg.expected_answers:
                got = {normalize_answer(v) for v in values}
                missing = [e for e in cfg.expected_answers if normalize_answer(e) not in got]
                samples.append(Sample("dns_answer_match", 0.0 if missing else 1.0, "bool"))
                if missing and reason is None:
                    reason = (
                        f"{cfg.name} {cfg.record_type} answered {sorted(values)}, "
                        f"expected {missing} among them"
                    )
        if reason is not None:
            raise target_down(self, reason, [up_sample(False), *samples])
        return [up_sample(True), *samples]


PLUGIN = DnsPlugin
