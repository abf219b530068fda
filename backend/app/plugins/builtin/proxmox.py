"""The `proxmox` plugin: nodes, VMs, containers and storage of a Proxmox VE cluster via its API."""

from __future__ import annotations

import re
import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from app.plugins.base import Plugin, PluginConfig, PluginError, Sample, SecretField
from app.plugins.builtin._common import (
    NO_ANSWER_HINT,
    TimeoutField,
    describe_exc,
    target_down,
    up_sample,
)
from app.plugins.builtin._tls_pin import FingerprintMismatch, normalize_fingerprint, pinned_context

if TYPE_CHECKING:  # httpx loads with the first instance (house style 15)
    import httpx

RESOURCES_PATH = "/api2/json/cluster/resources"
MAX_NAME = 64  # label values are cut to this length
_TOKEN_ID = re.compile(r"^[^\s@!=]+@[A-Za-z0-9._-]+![A-Za-z][A-Za-z0-9._-]*$")

CREATE_ACCESS_STEPS = (
    "create a read-only token on a node: pveum user add monitor@pve; "
    "pveum acl modify / --roles PVEAuditor --users monitor@pve; "
    "pveum user token add monitor@pve unity --privsep 0 "
    "(the token ID is then monitor@pve!unity; its secret is printed once)"
)
TLS_HELP = (
    "Proxmox ships a self-signed certificate: paste its SHA-256 fingerprint (Datacenter → "
    "node → System → Certificates, or `pvenode cert info` on the node) into `fingerprint`, "
    "or the cluster CA from /etc/pve/pve-root-ca.pem into `ca_cert`"
)


class ProxmoxConfig(PluginConfig):
    url: str = Field(
        ...,
        title="URL",
        description="Address of any node's web UI/API, with its port.",
        examples=["https://pve.lan:8006"],
        max_length=500,
    )
    token_id: str = Field(
        ...,
        title="API token ID",
        description="user@realm!tokenname, as shown under Datacenter → Permissions → API Tokens.",
        examples=["monitor@pve!unity"],
        max_length=200,
    )
    token_secret: str = SecretField(
        ...,
        title="API token secret",
        description="The secret (a UUID) Proxmox shows once when the token is created. "
        "Stored encrypted.",
        min_length=1,
        max_length=200,
    )
    verify_tls: bool = Field(
        True,
        title="Verify TLS",
        description="Check the node's certificate. Keep it on and set a fingerprint or CA "
        "for Proxmox's self-signed certificate instead of turning it off.",
    )
    fingerprint: str | None = Field(
        None,
        title="Certificate fingerprint (SHA-256)",
        description="Trust exactly this certificate, as Proxmox shows it "
        "(AA:BB:…, 32 bytes). Replaces the CA check.",
        max_length=200,
        examples=["3F:1A:9C:…:E2"],
    )
    ca_cert: str | None = Field(
        None,
        title="CA certificate (PEM)",
        description="Trust certificates signed by this CA, e.g. the contents of "
        "/etc/pve/pve-root-ca.pem.",
        max_length=20000,
    )
    guests: list[str] = Field(
        [],
        title="Guests",
        description="Report only these VMs/containers (VM IDs or names). Empty means all.",
        max_length=200,
        examples=[["100", "pihole"]],
    )
    require_running: list[str] = Field(
        [],
        title="Must be running",
        description="VM IDs or names that must always run: while one is stopped every "
        "run fails and says which.",
        max_length=200,
        examples=[["101", "homeassistant"]],
    )
    max_guests: int = Field(
        100,
        title="Most guests charted",
        description="At most this many guests get charts (lowest VM IDs first).",
        ge=1,
        le=500,
    )
    timeout_seconds: float = TimeoutField(
        15.0, 120, "A node that has not answered within this time is reported down."
    )

    @field_validator("url")
    @classmethod
    def _http_only(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        parts = urlsplit(v)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValueError("use the node's address, e.g. https://pve.lan:8006")
        if parts.path not in ("", "/") or parts.query:
            raise ValueError("give only scheme, host and port, e.g. https://pve.lan:8006")
        return v

    @field_validator("token_id")
    @classmethod
    def _token_id(cls, v: str) -> str:
        v = v.strip()
        if not _TOKEN_ID.match(v):
            raise ValueError("must look like user@realm!tokenname, e.g. monitor@pve!unity")
        return v

    @field_validator("fingerprint")
    @classmethod
    def _fingerprint(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        return normalize_fingerprint(v)

    @field_validator("ca_cert")
    @classmethod
    def _pem(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        if "-----BEGIN CERTIFICATE-----" not in v:
            raise ValueError("paste a PEM certificate (-----BEGIN CERTIFICATE----- …)")
        return v.strip()


def tls_context(cfg: ProxmoxConfig) -> ssl.SSLContext | bool:
    """How to trust the node: a pinned certificate, a given CA, the system CAs, or nothing."""
    if cfg.url.lower().startswith("http://"):
        return True
    if cfg.fingerprint:
        return pinned_context(cfg.fingerprint)
    if not cfg.verify_tls:
        return False
    if cfg.ca_cert:
        return ssl.create_default_context(cadata=cfg.ca_cert)
    return True


def _num(item: dict[str, Any], key: str) -> float | None:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _label(value: object) -> str:
    return str(value)[:MAX_NAME]


class ProxmoxPlugin(Plugin[ProxmoxConfig]):
    type = "proxmox"
    name = "Proxmox VE"
    description = (
        "Reads a Proxmox VE cluster through its API with a read-only token: nodes, VMs and "
        "containers (running, CPU, memory, disk, network) and storage usage."
    )
    category = "system"
    Config = ProxmoxConfig
    requires = {"httpx": "httpx"}
    default_interval_seconds = 60

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._was_running: dict[tuple[str, str], str] | None = None  # (type, vmid) -> name

    async def collect_data(self) -> list[Sample]:
        resources = await self._fetch()
        nodes = [r for r in resources if r.get("type") == "node"]
        if not nodes:
            raise PluginError(
                f"{self.config.url}: the token sees no nodes, so it lacks permissions; give it "
                "the PVEAuditor role on / (pveum acl modify / --roles PVEAuditor --tokens "
                f"'{self.config.token_id}'), or create it with --privsep 0"
            )
        samples = [up_sample(True)]
        for node in nodes:
            samples += self._node_samples(node)
        samples += self._storage_samples([r for r in resources if r.get("type") == "storage"])
        guest_samples, problems = self._guest_samples(
            [r for r in resources if r.get("type") in ("qemu", "lxc") and not r.get("template")]
        )
        samples += guest_samples
        if problems:
            raise PluginError("; ".join(problems), samples=samples)
        return samples

    async def _fetch(self) -> list[dict[str, Any]]:
        import httpx

        cfg = self.config
        url = cfg.url + RESOURCES_PATH
        headers = {"Authorization": f"PVEAPIToken={cfg.token_id}={cfg.token_secret}"}
        try:
            async with httpx.AsyncClient(
                verify=tls_context(cfg),
                timeout=cfg.timeout_seconds,
                trust_env=False,
                follow_redirects=False,
                headers={"User-Agent": "Unity-monitor/1.0"},
            ) as client:
                resp = await client.get(url, headers=headers)
        except httpx.TimeoutException as exc:
            raise self._down(
                f"no answer within {cfg.timeout_seconds:g} s; {NO_ANSWER_HINT}"
            ) from exc
        except httpx.HTTPError as exc:
            raise self._connect_error(exc) from exc
        if resp.status_code == 401:
            raise PluginError(
                f"{cfg.url}: Proxmox refused the API token {cfg.token_id!r} "
                f"({resp.reason_phrase}); check token_id and token_secret, or {CREATE_ACCESS_STEPS}"
            )
        if resp.status_code == 403:
            raise PluginError(
                f"{cfg.url}: the token may not read cluster resources ({resp.reason_phrase}); "
                "give it the PVEAuditor role on /"
            )
        if resp.status_code != 200:
            raise self._down(f"answered HTTP {resp.status_code} {resp.reason_phrase}")
        try:
            data = resp.json().get("data")
        except (ValueError, AttributeError):
            data = None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise self._down(
                "answered, but not with the Proxmox API's JSON; is the URL a Proxmox node's "
                "(https://host:8006) and not a proxy or another service?"
            )
        return data

    def _down(self, reason: str) -> PluginError:
        return target_down(self, f"{self.config.url}: {reason}", [up_sample(False)])

    def _connect_error(self, exc: httpx.HTTPError) -> PluginError:
        import httpx

        text = describe_exc(exc)
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, FingerprintMismatch) or "fingerprint is" in text:
            return PluginError(
                f"{self.config.url}: the node's {text}, not the configured "
                f"{self.config.fingerprint}; if its certificate was renewed, copy the new "
                "fingerprint (pvenode cert info), otherwise something is impersonating it"
            )
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return PluginError(f"{self.config.url}: the TLS certificate is not trusted; {TLS_HELP}")
        if isinstance(exc, httpx.ConnectError):
            return self._down(f"cannot connect ({text}); is the address and port 8006 right?")
        return self._down(text)

    def _node_samples(self, node: dict[str, Any]) -> list[Sample]:
        labels = {"node": _label(node.get("node", node.get("id", "?")))}
        online = node.get("status") == "online"
        samples = [Sample("proxmox_node_online", 1.0 if online else 0.0, "bool", labels)]
        if not online:
            return samples  # an offline node's figures are stale
        cpu, cpus = _num(node, "cpu"), _num(node, "maxcpu")
        mem, maxmem = _num(node, "mem"), _num(node, "maxmem")
        uptime = _num(node, "uptime")
        if cpu is not None:
            samples.append(
                Sample("proxmox_node_cpu_percent", round(cpu * 100, 3), "percent", labels)
            )
        if cpus is not None:
            samples.append(Sample("proxmox_node_cpus", cpus, "count", labels))
        if mem is not None:
            samples.append(Sample("proxmox_node_memory_used_bytes", mem, "bytes", labels))
        if maxmem:
            samples.append(Sample("proxmox_node_memory_total_bytes", maxmem, "bytes", labels))
        if uptime is not None:
            samples.append(Sample("proxmox_node_uptime_seconds", uptime, "seconds", labels))
        return samples

    def _storage_samples(self, storages: list[dict[str, Any]]) -> list[Sample]:
        samples: list[Sample] = []
        for st in storages:
            labels = {
                "node": _label(st.get("node", "?")),
                "storage": _label(st.get("storage", "?")),
            }
            available = st.get("status") == "available"
            samples.append(Sample("proxmox_storage_available", float(available), "bool", labels))
            used, total = _num(st, "disk"), _num(st, "maxdisk")
            if not available or used is None or not total:
                continue
            samples += [
                Sample("proxmox_storage_used_bytes", used, "bytes", labels),
                Sample("proxmox_storage_total_bytes", total, "bytes", labels),
                Sample(
                    "proxmox_storage_used_percent", round(100 * used / total, 3), "percent", labels
                ),
            ]
        return samples

    def _guest_samples(self, guests: list[dict[str, Any]]) -> tuple[list[Sample], list[str]]:
        cfg = self.config
        running_anywhere = {
            (str(g.get("vmid")), str(g.get("name"))) for g in guests if g.get("status") == "running"
        }
        wanted = set(cfg.guests)
        if wanted:
            guests = [g for g in guests if str(g.get("vmid")) in wanted or g.get("name") in wanted]
        guests.sort(key=lambda g: (int(_num(g, "vmid") or 0), str(g.get("type"))))
        running_now: dict[tuple[str, str], str] = {}
        stopped_now: dict[tuple[str, str], str] = {}
        samples = [
            Sample("proxmox_guests", float(len(guests)), "count"),
            Sample(
                "proxmox_guests_running",
                float(sum(g.get("status") == "running" for g in guests)),
                "count",
            ),
        ]
        for g in guests:
            key = (str(g.get("type")), str(g.get("vmid")))
            name = _label(g.get("name") or f"{key[0]} {key[1]}")
            running = g.get("status") == "running"
            (running_now if running else stopped_now)[key] = name
        for g in guests[: cfg.max_guests]:
            samples += _one_guest(g)

        problems: list[str] = []
        if self._was_running is not None:
            newly = [
                f"{k[0]} {k[1]} ({n})" for k, n in stopped_now.items() if k in self._was_running
            ]
            if newly:
                problems.append("stopped since the last run: " + ", ".join(newly))
        self._was_running = running_now
        missing = [
            r
            for r in cfg.require_running
            if not any(r in (vmid, name) for vmid, name in running_anywhere)
        ]
        if missing:
            problems.append("required but not running: " + ", ".join(missing))
        return samples, problems


def _one_guest(g: dict[str, Any]) -> list[Sample]:
    labels = {
        "node": _label(g.get("node", "?")),
        "vmid": _label(g.get("vmid", "?")),
        "name": _label(g.get("name") or g.get("vmid", "?")),
        "type": "qemu" if g.get("type") == "qemu" else "lxc",
    }
    running = g.get("status") == "running"
    samples = [Sample("proxmox_guest_running", 1.0 if running else 0.0, "bool", labels)]
    maxmem, maxdisk = _num(g, "maxmem"), _num(g, "maxdisk")
    if maxmem:
        samples.append(Sample("proxmox_guest_memory_total_bytes", maxmem, "bytes", labels))
    if maxdisk:
        samples.append(Sample("proxmox_guest_disk_total_bytes", maxdisk, "bytes", labels))
    if not running:
        return samples
    fields = (
        ("cpu", "proxmox_guest_cpu_percent", "percent", 100.0),
        ("mem", "proxmox_guest_memory_used_bytes", "bytes", 1.0),
        ("uptime", "proxmox_guest_uptime_seconds", "seconds", 1.0),
        ("netin", "proxmox_guest_network_receive_bytes_total", "bytes", 1.0),
        ("netout", "proxmox_guest_network_transmit_bytes_total", "bytes", 1.0),
        ("diskread", "proxmox_guest_disk_read_bytes_total", "bytes", 1.0),
        ("diskwrite", "proxmox_guest_disk_written_bytes_total", "bytes", 1.0),
    )
    for key, metric, unit, scale in fields:
        value = _num(g, key)
        if value is not None:
            samples.append(Sample(metric, round(value * scale, 6), unit, labels))
    # A VM's `disk` is 0 unless its guest agent reports it; a container's is real.
    disk = _num(g, "disk")
    if disk and labels["type"] == "lxc":
        samples.append(Sample("proxmox_guest_disk_used_bytes", disk, "bytes", labels))
    return samples


PLUGIN = ProxmoxPlugin
