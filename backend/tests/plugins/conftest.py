"""Fixtures for the built-in plugin tests: real servers on 127.0.0.1, stopped afterwards."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import http.server
import io
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.plugins.base import Plugin, PluginError, Sample, validate_samples
from app.plugins.builtin._host import REMOTE_COMMAND_LINES, REMOTE_PROCESSES, REMOTE_SENSORS
from tests.live import stop_process

CERT_VALID_DAYS = 30
MAX_SAMPLES = 1000


async def collect(plugin: Plugin) -> tuple[list[Sample], str | None]:
    """One run as the engine sees it: (samples, down reason), the reason None when up.

    A down target raises PluginError carrying what was still measured; those samples are
    validated like returned ones. A PluginError without samples (misconfiguration) is not
    a down target and propagates.
    """
    try:
        samples = await plugin.collect_data()
    except PluginError as exc:
        if not exc.samples:
            raise
        return validate_samples(exc.samples, MAX_SAMPLES), str(exc)
    return validate_samples(samples, MAX_SAMPLES), None


@contextlib.asynccontextmanager
async def tcp_server(handle: Callable[..., Any]) -> AsyncIterator[int]:
    """A loopback TCP server running `handle(reader, writer)` per connection; yields its port."""
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield int(server.sockets[0].getsockname()[1])


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(5)
    writer.close()


@pytest.fixture
async def never_answers() -> AsyncIterator[int]:
    """The port of a server that accepts connections and never says a word."""
    async with tcp_server(_silent) as port:
        yield port


def make_self_signed(directory: Path, days: int = CERT_VALID_DAYS) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost expiring in `days` days."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Handler(http.server.BaseHTTPRequestHandler):
    """Routes a test needs: plain pages, status codes, redirects, slowness, auth, headers."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
        return

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = self.path
        if path == "/":
            self._send(200, b"<h1>Welcome to the homelab</h1>")
        elif path.startswith("/status/"):
            self._send(int(path.rsplit("/", 1)[1]), b"status page")
        elif path == "/redirect":
            self._send(302, b"", {"Location": "/"})
        elif path == "/loop":
            self._send(302, b"", {"Location": "/loop"})
        elif path == "/slow":
            time.sleep(1.5)
            self._send(200, b"late")
        elif path == "/auth":
            expected = "Basic " + base64.b64encode(b"monitor:s3cret").decode()
            if self.headers.get("Authorization") == expected:
                self._send(200, b"authorized area")
            else:
                self._send(401, b"no", {"WWW-Authenticate": 'Basic realm="x"'})
        elif path == "/echo":
            body = "\n".join(f"{k}: {v}" for k, v in self.headers.items()).encode()
            self._send(200, body)
        else:
            self._send(404, b"not found")


@dataclass
class HttpServers:
    http_url: str
    https_url: str
    cert_days: int


def _serve(server: http.server.ThreadingHTTPServer) -> threading.Thread:
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    return t


@pytest.fixture(scope="session")
def http_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServers]:
    """A plain HTTP and an HTTPS server (self-signed, 30 days left) on 127.0.0.1."""
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    cert, key = make_self_signed(tmp_path_factory.mktemp("tls"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
    threads = [_serve(plain), _serve(tls)]
    try:
        yield HttpServers(
            http_url=f"http://127.0.0.1:{plain.server_address[1]}",
            https_url=f"https://127.0.0.1:{tls.server_address[1]}",
            cert_days=CERT_VALID_DAYS,
        )
    finally:
        for srv in (plain, tls):
            srv.shutdown()
            srv.server_close()
        for t in threads:
            t.join(timeout=5)


# --- a real Docker engine -------------------------------------------------------------

DOCKERD = "/usr/sbin/dockerd"
DOCKER_CLI = "/usr/bin/docker"
BUSYBOX = "/bin/busybox"
TEST_IMAGE = "unity-test-busybox:1"
BUSYBOX_APPLETS = ("sh", "sleep", "yes", "true", "false", "cat", "head", "dd", "echo")


@dataclass
class DockerEngine:
    """A private dockerd for the test session, with a local busybox image."""

    root: Path
    socket: str
    image: str = TEST_IMAGE

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def cli(self, *args: str, check: bool = True, input: bytes | None = None) -> str:
        proc = subprocess.run(
            [DOCKER_CLI, "-H", self.url, *args],
            input=input,
            capture_output=True,
            timeout=120,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"docker {' '.join(args)} failed ({proc.returncode}): {proc.stderr.decode()}"
            )
        return proc.stdout.decode().strip()


def _unavailable(reason: str) -> None:
    """In CI a missing engine is a failure; on a laptop it is a loud skip."""
    message = (
        f"Docker plugin tests need a real dockerd: {reason}. "
        "Install with: apt-get install -y docker.io busybox-static (and run as root)."
    )
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _busybox_rootfs_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in ("bin", "tmp", "proc", "sys", "dev", "etc"):
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
        tar.add(BUSYBOX, arcname="bin/busybox")
        for applet in BUSYBOX_APPLETS:
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            tar.addfile(info)
    return buf.getvalue()


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[DockerEngine]:
    """Starts dockerd on a private socket (vfs storage, no networking), stops it afterwards."""
    missing = [p for p in (DOCKERD, DOCKER_CLI, BUSYBOX) if not os.path.exists(p)]
    if missing:
        _unavailable(f"{', '.join(missing)} not installed")
    if os.geteuid() != 0:
        _unavailable("dockerd must run as root")

    # unix socket paths are limited to ~108 bytes, so keep the directory short.
    root = Path(tempfile.mkdtemp(prefix="udk", dir="/tmp"))
    sock = root / "docker.sock"
    log = open(root / "dockerd.log", "wb")  # noqa: SIM115 - closed in teardown
    proc = subprocess.Popen(
        [
            DOCKERD,
            "--iptables=false",
            "--ip-masq=false",
            "--bridge=none",
            "--storage-driver=vfs",
            "-H",
            f"unix://{sock}",
            "--data-root",
            str(root / "data"),
            "--exec-root",
            str(root / "exec"),
            "--pidfile",
            str(root / "dockerd.pid"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    engine = DockerEngine(root=root, socket=str(sock))
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError("dockerd exited")
            if (
                sock.exists()
                and subprocess.run(
                    [DOCKER_CLI, "-H", engine.url, "version"], capture_output=True, timeout=10
                ).returncode
                == 0
            ):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("dockerd did not answer within 30 s")
            time.sleep(0.1)
        engine.cli("import", "-", TEST_IMAGE, input=_busybox_rootfs_tar())
    except Exception as exc:
        _stop_dockerd(engine, proc, log)
        tail = (root / "dockerd.log").read_text(errors="replace")[-3000:]
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start a test dockerd: {exc}\n--- dockerd.log ---\n{tail}")
    try:
        yield engine
    finally:
        _stop_dockerd(engine, proc, log)
        shutil.rmtree(root, ignore_errors=True)


def _stop_dockerd(engine: DockerEngine, proc: subprocess.Popen[bytes], log: object) -> None:
    if proc.poll() is None:
        ids = engine.cli("ps", "-aq", check=False).split()
        if ids:
            engine.cli("rm", "-f", *ids, check=False)
        stop_process(proc, 20, 10)
    log.close()  # type: ignore[attr-defined]


# --- a DNS stub ------------------------------------------------------------------------

DNS_ZONE = {
    ("nas.home.arpa.", "A"): ["192.168.1.10", "192.168.1.11"],
    ("nas.home.arpa.", "AAAA"): ["fd00::10"],
    ("home.arpa.", "MX"): ["10 mail.home.arpa."],
    ("home.arpa.", "TXT"): ['"v=spf1 -all"'],
}


@dataclass
class DnsStub:
    port: int
    queries: list[str]


@pytest.fixture(scope="session")
def dns_stub() -> Iterator[DnsStub]:
    """A tiny authoritative UDP DNS server on 127.0.0.1 answering from DNS_ZONE.

    `slow.home.arpa` is never answered (timeouts), `broken.home.arpa` gets SERVFAIL,
    a name that exists with another type gets an empty NOERROR, the rest NXDOMAIN.
    """
    import dns.flags
    import dns.message
    import dns.rcode
    import dns.rrset

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stub = DnsStub(port=sock.getsockname()[1], queries=[])
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            q = query.question[0]
            qname = q.name.to_text().lower()
            qtype = dns.rdatatype.to_text(q.rdtype)
            stub.queries.append(f"{qname} {qtype}")
            if qname == "slow.home.arpa.":
                continue
            resp = dns.message.make_response(query)
            resp.flags |= dns.flags.AA
            if qname == "broken.home.arpa.":
                resp.set_rcode(dns.rcode.SERVFAIL)
            elif (qname, qtype) in DNS_ZONE:
                resp.answer.append(
                    dns.rrset.from_text_list(qname, 300, "IN", qtype, DNS_ZONE[(qname, qtype)])
                )
            elif not any(name == qname for name, _ in DNS_ZONE):
                resp.set_rcode(dns.rcode.NXDOMAIN)
            sock.sendto(resp.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()


# --- an SSH server ---------------------------------------------------------------------

SSH_USER = "monitor"
SSH_PASSWORD = "correct horse"

PROC_MEMINFO = """MemTotal:       16384000 kB
MemFree:         2000000 kB
MemAvailable:    8192000 kB
Buffers:          100000 kB
Cached:          5000000 kB
SwapCached:            0 kB
SwapTotal:       2097152 kB
SwapFree:        1048576 kB
"""
PROC_LOADAVG = "0.52 0.58 0.59 2/812 12345\n"
PROC_UPTIME = "123456.78 234567.89\n"
DF_OUTPUT = """Filesystem        1-blocks          Used     Available Capacity Mounted on
udev            8000000000             0    8000000000       0% /dev
tmpfs           1600000000       2000000    1598000000       1% /run
/dev/sda1     100000000000   40000000000   55000000000      43% /
tmpfs           8000000000             0    8000000000       0% /dev/shm
/dev/sdb1    2000000000000 1000000000000 1000000000000      50% /srv/media files
"""


def proc_stat(step: int) -> str:
    """/proc/stat after `step` readings. Between any two readings core 0 is 50 % busy,
    core 1 is 100 % busy, so the whole CPU is 75 % busy."""
    u, s, i = 100 + 25 * step, 100 + 25 * step, 800 + 50 * step
    c1u, c1i = 50 + 100 * step, 400
    return (
        f"cpu  {u + c1u} 0 {s} {i + c1i} 0 0 0 0 0 0\n"
        f"cpu0 {u} 0 {s} {i} 0 0 0 0 0 0\n"
        f"cpu1 {c1u} 0 0 {c1i} 0 0 0 0 0 0\n"
        "intr 12345 0 0\nctxt 99999\nbtime 1700000000\nprocesses 4242\n"
        "procs_running 1\nprocs_blocked 0\n"
    )


@dataclass
class SshServer:
    port: int
    host_key: object
    client_key: object
    commands: list[str]
    broken: set[str]  # commands that fail, to imitate a non-Linux box
    stat_reads: int = 0
    sensors: str | None = None  # what `sensors -j` prints; None: lm-sensors not installed
    uptime: str = PROC_UPTIME  # what `cat /proc/uptime` prints (a test reboots the host)


@pytest.fixture(scope="session")
def ssh_keys():
    import asyncssh

    return {
        "host": asyncssh.generate_private_key("ssh-ed25519"),
        "host2": asyncssh.generate_private_key("ssh-ed25519"),
        "client": asyncssh.generate_private_key("ssh-ed25519"),
        "stranger": asyncssh.generate_private_key("ssh-ed25519"),
    }


async def start_ssh_server(host_key, client_key, port: int = 0, state: SshServer | None = None):
    """A real asyncssh server on 127.0.0.1: key and password auth, canned /proc answers."""
    import asyncssh

    class Server(asyncssh.SSHServer):
        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, password: str) -> bool:
            return username == SSH_USER and password == SSH_PASSWORD

    srv_state = state or SshServer(0, host_key, client_key, [], set())

    def answer(process) -> None:
        cmd = process.command or ""
        srv_state.commands.append(cmd)
        if cmd in srv_state.broken:
            process.stderr.write(f"sh: {cmd.split()[0]}: not found\n")
            process.exit(127)
            return
        if cmd == "cat /proc/stat":
            text = proc_stat(srv_state.stat_reads)
            srv_state.stat_reads += 1
        elif cmd in (REMOTE_PROCESSES, REMOTE_COMMAND_LINES):
            # The real thing: this machine's processes, read by the real shell and ps.
            text = subprocess.run(
                ["sh", "-c", cmd], capture_output=True, text=True, check=True
            ).stdout
        elif cmd == REMOTE_SENSORS:
            if srv_state.sensors is None:
                process.stderr.write("sh: 1: sensors: not found\n")
                process.exit(127)
                return
            text = srv_state.sensors
        else:
            text = {
                "cat /proc/meminfo": PROC_MEMINFO,
                "cat /proc/loadavg": PROC_LOADAVG,
                "cat /proc/uptime": srv_state.uptime,
                "df -P -B1": DF_OUTPUT,
            }.get(cmd)
        if text is None:
            process.stderr.write("unexpected command\n")
            process.exit(1)
            return
        process.stdout.write(text)
        process.exit(0)

    authorized = asyncssh.import_authorized_keys(client_key.export_public_key().decode())
    listener = await asyncssh.listen(
        "127.0.0.1",
        port,
        server_host_keys=[host_key],
        authorized_client_keys=authorized,
        server_factory=Server,
        process_factory=answer,
        reuse_address=True,
    )
    srv_state.port = listener.sockets[0].getsockname()[1]
    srv_state.host_key = host_key
    return listener, srv_state


@pytest.fixture
async def ssh_server(ssh_keys):
    listener, state = await start_ssh_server(ssh_keys["host"], ssh_keys["client"])
    try:
        yield state
    finally:
        listener.close()
        await listener.wait_closed()
