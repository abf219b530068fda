"""The SSRF policy of checks: cloud metadata is never reached, denied ranges are refused after
DNS and on every redirect hop. Nothing here connects beyond loopback: the refused targets are
loopback addresses put on the deny list, or refused before any connection is tried."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from app.core import egress
from app.core.config import Settings
from app.core.egress import EgressDenied, EgressPolicy
from app.plugins.base import PluginContext
from app.plugins.builtin.http import HttpPlugin

from .conftest import collect


class Target:
    """A loopback HTTP server that counts requests; /go?to=URL redirects there."""

    def __init__(self, host: str) -> None:
        hits: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:
                hits.append(self.path)
                location = self.path.split("?to=", 1)[1] if "?to=" in self.path else None
                self.send_response(302 if location else 200)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.hits = hits
        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def targets() -> Iterator[tuple[Target, Target]]:
    first, second = Target("127.0.0.1"), Target("127.0.0.2")
    try:
        yield first, second
    finally:
        first.close()
        second.close()
        egress.configure(egress.DEFAULT_DENY, [])


def plugin(tmp_path: Path, url: str, **config: object) -> HttpPlugin:
    cfg = HttpPlugin.Config(url=url, check_certificate=False, **config)  # type: ignore[arg-type]
    return HttpPlugin(cfg, PluginContext(1, tmp_path))


def test_metadata_is_refused_whatever_the_settings() -> None:
    open_policy = EgressPolicy(deny=(), allow=())
    for address in (
        "169.254.169.254",
        "fd00:ec2::254",
        "::ffff:169.254.169.254",
        "100.100.100.200",
    ):
        with pytest.raises(EgressDenied, match="cloud metadata address"):
            open_policy.check_address(address)
    with pytest.raises(EgressDenied, match="cloud metadata service"):
        open_policy.check_name("metadata.google.internal.")


def test_refuse_metadata_needs_no_dns_and_no_settings() -> None:
    for host in ("169.254.169.254", "[::ffff:169.254.169.254]", "[fd00:ec2::254]"):
        with pytest.raises(EgressDenied, match="cloud metadata address"):
            egress.refuse_metadata(host)
    with pytest.raises(EgressDenied, match="cloud metadata service"):
        egress.refuse_metadata("Metadata.Google.Internal.")
    for host in ("nas.lan", "169.254.1.1", "192.168.1.20"):  # ranges are for run time
        egress.refuse_metadata(host)


def test_the_default_refuses_link_local_and_allows_the_lan() -> None:
    policy = EgressPolicy()
    for address in ("169.254.1.1", "fe80::1"):
        with pytest.raises(EgressDenied, match="CHECK_DENY_NETWORKS"):
            policy.check_address(address)
    for address in ("192.168.1.20", "10.0.0.5", "172.16.3.4", "127.0.0.1", "fd12::1", "8.8.8.8"):
        policy.check_address(address)


def test_an_allow_list_is_the_only_place_checks_may_go() -> None:
    policy = EgressPolicy.from_settings(["169.254.0.0/16"], ["192.168.0.0/16"])
    policy.check_address("192.168.1.1")
    with pytest.raises(EgressDenied, match="outside CHECK_ALLOW_NETWORKS"):
        policy.check_address("10.0.0.1")


def test_a_bad_range_in_the_settings_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="CHECK_DENY_NETWORKS: 'lan' is not an address range"):
        Settings(_env_file=None, data_dir=tmp_path, check_deny_networks="10.0.0.0/8,lan")  # type: ignore[call-arg]
    s = Settings(
        _env_file=None, data_dir=tmp_path, check_allow_networks="10.0.0.0/8, 192.168.0.0/16"
    )  # type: ignore[call-arg]
    assert s.check_allow_networks == ["10.0.0.0/8", "192.168.0.0/16"]


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
    ],
)
def test_a_metadata_url_is_refused_when_the_check_is_saved(url: str) -> None:
    with pytest.raises(ValidationError, match="cloud metadata"):
        HttpPlugin.Config(url=url)


async def test_a_denied_address_is_refused_before_connecting(
    tmp_path: Path, targets: tuple[Target, Target]
) -> None:
    first, _ = targets
    egress.configure(["127.0.0.1/32"], [])
    samples, reason = await collect(plugin(tmp_path, first.url + "/"))
    assert reason is not None
    assert "127.0.0.1 is in 127.0.0.1/32, which CHECK_DENY_NETWORKS forbids" in reason
    assert {s.name: s.value for s in samples}["up"] == 0
    assert first.hits == []


async def test_the_check_applies_to_what_a_name_resolves_to(
    tmp_path: Path, targets: tuple[Target, Target]
) -> None:
    first, _ = targets
    egress.configure(["127.0.0.0/8", "::1/128"], [])
    port = first.url.rsplit(":", 1)[1]
    _, reason = await collect(plugin(tmp_path, f"http://localhost:{port}/"))
    assert reason is not None and "localhost resolves to" in reason, reason
    assert "CHECK_DENY_NETWORKS" in reason
    assert first.hits == []


async def test_a_redirect_into_a_denied_range_is_refused(
    tmp_path: Path, targets: tuple[Target, Target]
) -> None:
    first, second = targets
    egress.configure(["127.0.0.2/32"], [])
    _, reason = await collect(plugin(tmp_path, f"{first.url}/go?to={second.url}/secret"))
    assert reason is not None and "127.0.0.2 is in 127.0.0.2/32" in reason, reason
    assert first.hits == [f"/go?to={second.url}/secret"]
    assert second.hits == []  # the hop was never made
    # Without the rule the same check follows the redirect: the refusal was the policy's.
    egress.configure([], [])
    _, reason = await collect(plugin(tmp_path, f"{first.url}/go?to={second.url}/secret"))
    assert reason is None and second.hits == ["/secret"]


async def test_the_guarded_transport_refuses_metadata_without_connecting() -> None:
    async with httpx.AsyncClient(transport=egress.guarded_transport()) as client:
        with pytest.raises(EgressDenied, match="cloud metadata address"):
            await client.get("http://169.254.169.254/latest/meta-data/")


async def test_a_tcp_check_obeys_the_policy_too(tmp_path: Path) -> None:
    import socket

    from app.plugins.builtin.tcp import TcpPlugin

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        egress.configure(["127.0.0.0/8", "::1/128"], [])
        check = TcpPlugin(TcpPlugin.Config(host="localhost", port=port), PluginContext(1, tmp_path))
        _, reason = await collect(check)
        assert reason is not None and "CHECK_DENY_NETWORKS" in reason, reason
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    finally:
        listener.close()
        egress.configure(egress.DEFAULT_DENY, [])
