"""The `proxmox` plugin against a fake Proxmox VE API on 127.0.0.1 (no real hypervisor can run
in a test).

The fake serves `GET /api2/json/cluster/resources` over TLS with a self-signed certificate, as a
node does on port 8006. Its answers follow the response schema of that endpoint in the official
Proxmox VE API viewer (pve-docs/api-viewer, apidoc.js: "Resources index (cluster wide)"), as
mirrored field by field in the generated `ClusterResourcesResponseDataInner` model of the
clientapi-pve crate: a `{"data": [...]}` list of items with `id`, `type` (node, storage, qemu,
lxc), `node`, `status`, `cpu` (a 0 to 1 fraction), `maxcpu`, `mem`/`maxmem`, `disk`/`maxdisk`,
`netin`/`netout`, `diskread`/`diskwrite` (bytes since the guest started), `uptime`, `vmid`,
`name`, `template`, and for storage `storage`, `plugintype`, `content`, `shared`. It accepts
only `Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET` and answers 401 otherwise, as
pveproxy does; a token without ACL entries gets an empty list, as Proxmox filters resources by
the caller's privileges.
"""

from __future__ import annotations

import copy
import http.server
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from pydantic import ValidationError

from app.plugins.base import PluginContext, PluginError
from app.plugins.builtin.proxmox import ProxmoxPlugin

from .conftest import collect, make_self_signed

TOKEN_ID = "monitor@pve!unity"
SECRET = "0b6a3a58-4e5c-4c0a-9d43-7f1c2e9a1b11"
NO_ACL_SECRET = "5d1f0f54-2b8e-4c3c-8a51-0e8b4b8b2c22"
GiB = 1024**3

CLUSTER: list[dict[str, Any]] = [
    {"id": "node/pve", "type": "node", "node": "pve", "status": "online", "level": "",
     "cpu": 0.0523, "maxcpu": 8, "mem": 8 * GiB, "maxmem": 32 * GiB, "disk": 12 * GiB,
     "maxdisk": 94 * GiB, "uptime": 1209600, "cgroup-mode": 2},
    {"id": "node/pve2", "type": "node", "node": "pve2", "status": "offline", "level": "",
     "maxcpu": 4, "maxmem": 16 * GiB},
    {"id": "qemu/100", "type": "qemu", "vmid": 100, "name": "homeassistant", "node": "pve",
     "status": "running", "template": 0, "cpu": 0.0312, "maxcpu": 2, "mem": 2 * GiB,
     "maxmem": 4 * GiB, "disk": 0, "maxdisk": 32 * GiB, "netin": 123456789,
     "netout": 98765432, "diskread": 555000, "diskwrite": 666000, "uptime": 86400},
    {"id": "qemu/101", "type": "qemu", "vmid": 101, "name": "win11", "node": "pve",
     "status": "stopped", "template": 0, "cpu": 0, "maxcpu": 4, "mem": 0, "maxmem": 8 * GiB,
     "disk": 0, "maxdisk": 64 * GiB, "netin": 0, "netout": 0, "diskread": 0, "diskwrite": 0,
     "uptime": 0},
    {"id": "qemu/9000", "type": "qemu", "vmid": 9000, "name": "debian-template", "node": "pve",
     "status": "stopped", "template": 1, "maxcpu": 1, "maxmem": GiB, "maxdisk": 8 * GiB},
    {"id": "lxc/200", "type": "lxc", "vmid": 200, "name": "pihole", "node": "pve",
     "status": "running", "template": 0, "cpu": 0.004, "maxcpu": 1, "mem": 64 * 1024**2,
     "maxmem": 512 * 1024**2, "disk": 900 * 1024**2, "maxdisk": 8 * GiB, "netin": 4444,
     "netout": 3333, "diskread": 11, "diskwrite": 22, "uptime": 3600},
    {"id": "storage/pve/local", "type": "storage", "storage": "local", "node": "pve",
     "status": "available", "plugintype": "dir", "content": "iso,vztmpl,backup", "shared": 0,
     "disk": 25 * GiB, "maxdisk": 100 * GiB},
    {"id": "storage/pve/nas", "type": "storage", "storage": "nas", "node": "pve",
     "status": "unknown", "plugintype": "nfs", "content": "backup", "shared": 1},
]  # fmt: skip


@dataclass
class FakePve:
    url: str
    cert_pem: str
    fingerprint: str
    resources: list[dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(CLUSTER))
    body_override: bytes | None = None
    status_override: int | None = None
    auth_seen: list[str] = field(default_factory=list)

    def set_status(self, vmid: int, status: str) -> None:
        for item in self.resources:
            if item.get("vmid") == vmid:
                item["status"] = status


def _handler(state: FakePve) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def _send(self, status: int, body: bytes, reason: str | None = None) -> None:
            self.send_response(status, reason)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            auth = self.headers.get("Authorization", "")
            state.auth_seen.append(auth)
            if self.path != "/api2/json/cluster/resources":
                self._send(501, b'{"data":null}', f"Method 'GET {self.path}' not implemented")
                return
            if auth == f"PVEAPIToken={TOKEN_ID}={NO_ACL_SECRET}":
                self._send(200, b'{"data":[]}')
                return
            if auth != f"PVEAPIToken={TOKEN_ID}={SECRET}":
                self._send(401, b'{"data":null}', "invalid token value!")
                return
            if state.status_override is not None:
                self._send(state.status_override, b'{"data":null}')
                return
            if state.body_override is not None:
                self._send(200, state.body_override)
                return
            self._send(200, json.dumps({"data": state.resources}).encode())

    return Handler


@pytest.fixture
def pve(tmp_path: Path) -> Iterator[FakePve]:
    cert, key = make_self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(None))  # type: ignore[arg-type]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    pem = cert.read_text()
    digest = x509.load_pem_x509_certificate(pem.encode()).fingerprint(hashes.SHA256())
    state = FakePve(
        url=f"https://127.0.0.1:{server.server_address[1]}",
        cert_pem=pem,
        fingerprint=":".join(f"{b:02X}" for b in digest),
    )
    server.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def make(tmp_path, pve: FakePve, **config):
    cfg = {"url": pve.url, "token_id": TOKEN_ID, "token_secret": SECRET}
    cfg.setdefault("fingerprint", pve.fingerprint)
    return ProxmoxPlugin(ProxmoxPlugin.Config(**(cfg | config)), PluginContext(1, tmp_path))


def pick(samples, metric: str, /, **labels: str) -> float:
    found = [s for s in samples if s.name == metric and labels.items() <= s.labels.items()]
    assert len(found) == 1, (metric, labels, found)
    return found[0].value


async def test_nodes_guests_and_storage_through_a_pinned_certificate(tmp_path, pve):
    samples, reason = await collect(make(tmp_path, pve))
    assert reason is None
    assert pick(samples, "up") == 1
    assert pick(samples, "proxmox_node_online", node="pve") == 1
    assert pick(samples, "proxmox_node_online", node="pve2") == 0
    assert pick(samples, "proxmox_node_cpu_percent", node="pve") == pytest.approx(5.23)
    assert pick(samples, "proxmox_node_memory_used_bytes", node="pve") == 8 * GiB
    assert pick(samples, "proxmox_node_memory_total_bytes", node="pve") == 32 * GiB
    assert pick(samples, "proxmox_node_uptime_seconds", node="pve") == 1209600
    assert not [s for s in samples if s.labels.get("node") == "pve2" and "cpu" in s.name]

    ha = {"vmid": "100", "name": "homeassistant", "type": "qemu", "node": "pve"}
    assert pick(samples, "proxmox_guest_running", **ha) == 1
    assert pick(samples, "proxmox_guest_cpu_percent", **ha) == pytest.approx(3.12)
    assert pick(samples, "proxmox_guest_memory_used_bytes", **ha) == 2 * GiB
    assert pick(samples, "proxmox_guest_network_receive_bytes_total", **ha) == 123456789
    assert pick(samples, "proxmox_guest_network_transmit_bytes_total", **ha) == 98765432
    assert pick(samples, "proxmox_guest_disk_read_bytes_total", **ha) == 555000
    assert pick(samples, "proxmox_guest_running", vmid="101", name="win11") == 0
    assert not [s for s in samples if s.labels.get("vmid") == "101" and "cpu" in s.name]
    assert not [s for s in samples if s.labels.get("vmid") == "9000"]  # templates skipped
    assert pick(samples, "proxmox_guest_disk_used_bytes", vmid="200", type="lxc") == 900 * 1024**2
    assert pick(samples, "proxmox_guests") == 3 and pick(samples, "proxmox_guests_running") == 2

    local = {"node": "pve", "storage": "local"}
    assert pick(samples, "proxmox_storage_used_bytes", **local) == 25 * GiB
    assert pick(samples, "proxmox_storage_used_percent", **local) == 25
    assert pick(samples, "proxmox_storage_available", storage="nas") == 0
    assert pve.auth_seen == [f"PVEAPIToken={TOKEN_ID}={SECRET}"]
    assert not any(s.name.endswith("_count") for s in samples)


async def test_a_guest_that_stops_fails_one_run_naming_it(tmp_path, pve):
    plugin = make(tmp_path, pve)
    _, reason = await collect(plugin)
    assert reason is None
    pve.set_status(100, "stopped")
    samples, reason = await collect(plugin)
    assert reason == "stopped since the last run: qemu 100 (homeassistant)"
    assert pick(samples, "proxmox_guest_running", vmid="100") == 0  # still stored for alerts
    _, reason = await collect(plugin)  # it was already stopped: no news, the run passes
    assert reason is None


async def test_a_required_guest_that_is_stopped_fails_every_run(tmp_path, pve):
    plugin = make(tmp_path, pve, require_running=["win11", "100"])
    for _ in range(2):
        _, reason = await collect(plugin)
        assert reason == "required but not running: win11"


async def test_guest_filter_and_bound(tmp_path, pve):
    samples, _ = await collect(make(tmp_path, pve, guests=["homeassistant", "200"], max_guests=1))
    vmids = {s.labels["vmid"] for s in samples if s.name == "proxmox_guest_running"}
    assert vmids == {"100"} and pick(samples, "proxmox_guests") == 2


async def test_a_ca_certificate_is_trusted_instead_of_a_fingerprint(tmp_path, pve):
    plugin = make(tmp_path, pve, fingerprint=None, ca_cert=pve.cert_pem)
    _, reason = await collect(plugin)
    assert reason is None


async def test_self_signed_certificate_without_pin_says_how_to_trust_it(tmp_path, pve):
    with pytest.raises(PluginError) as err:
        await make(tmp_path, pve, fingerprint=None).collect_data()
    assert "not trusted" in str(err.value) and "pvenode cert info" in str(err.value)
    assert pve.auth_seen == []


async def test_a_wrong_fingerprint_stops_before_the_token_is_sent(tmp_path, pve):
    wrong = ":".join(["AB"] * 32)
    with pytest.raises(PluginError) as err:
        await make(tmp_path, pve, fingerprint=wrong).collect_data()
    assert f"certificate fingerprint is {pve.fingerprint}" in str(err.value)
    assert wrong in str(err.value)
    assert pve.auth_seen == []


async def test_a_wrong_secret_says_how_to_create_a_token(tmp_path, pve):
    with pytest.raises(PluginError) as err:
        await make(tmp_path, pve, token_secret="not-the-secret").collect_data()
    text = str(err.value)
    assert "refused the API token 'monitor@pve!unity' (invalid token value!)" in text
    assert "PVEAuditor" in text and "pveum user token add" in text


async def test_a_token_without_permissions_is_told_to_get_pveauditor(tmp_path, pve):
    with pytest.raises(PluginError) as err:
        await make(tmp_path, pve, token_secret=NO_ACL_SECRET).collect_data()
    assert "sees no nodes" in str(err.value)
    assert "--roles PVEAuditor --tokens 'monitor@pve!unity'" in str(err.value)


@pytest.mark.parametrize("body", [b"<html>Welcome to nginx</html>", b'{"data": {"a": 1}}'])
async def test_an_answer_that_is_not_the_api_is_reported(tmp_path, pve, body):
    pve.body_override = body
    samples, reason = await collect(make(tmp_path, pve))
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert "not with the Proxmox API's JSON" in reason


async def test_unreachable_node_is_down(tmp_path, pve):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    plugin = make(tmp_path, pve, url=f"https://127.0.0.1:{port}")
    samples, reason = await collect(plugin)
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert "cannot connect" in reason and "8006" in reason


def test_config_checks_what_people_paste():
    base = {"url": "https://pve.lan:8006", "token_id": TOKEN_ID, "token_secret": SECRET}
    cfg = ProxmoxPlugin.Config(**base, fingerprint="ab" * 32)
    assert cfg.fingerprint == ":".join(["AB"] * 32)
    for bad in (
        {"token_id": "monitor@pve"},
        {"url": "https://pve.lan:8006/api2/json"},
        {"url": "ftp://pve.lan"},
        {"fingerprint": "12:34"},
        {"ca_cert": "not a pem"},
    ):
        with pytest.raises(ValidationError):
            ProxmoxPlugin.Config(**(base | bad))
    assert ProxmoxPlugin.secret_fields() == ["token_secret"]


async def test_a_server_error_is_down_with_its_status(tmp_path, pve):
    pve.status_override = 500
    samples, reason = await collect(make(tmp_path, pve))
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert reason == f"{pve.url}: answered HTTP 500 Internal Server Error"


async def test_a_node_that_never_answers_times_out(tmp_path, never_answers):
    url = f"https://127.0.0.1:{never_answers}"
    cfg = {"url": url, "token_id": TOKEN_ID, "token_secret": SECRET}
    plugin = ProxmoxPlugin(
        ProxmoxPlugin.Config(**cfg, timeout_seconds=0.5), PluginContext(1, tmp_path)
    )
    samples, reason = await collect(plugin)
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert "no answer within 0.5 s" in reason
    assert reason.endswith("check that the host is up and that no firewall drops the port")
