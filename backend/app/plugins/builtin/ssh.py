"""The `ssh` plugin: CPU, memory, load, disks and uptime of a Linux server, agentless over SSH."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path, PurePosixPath
from typing import Any

import asyncssh
from pydantic import Field, field_validator, model_validator

from app.plugins.base import Plugin, PluginConfig, PluginError, Sample, SecretField
from app.plugins.builtin._common import (
    describe_exc,
    elapsed_ms,
    is_pseudo_filesystem,
    target_down,
    up_sample,
    validate_host,
)
from app.plugins.builtin._host import (
    REMOTE_SENSORS,
    ProcessCommandLines,
    RawProcesses,
    Readings,
    TopProcesses,
    parse_remote_processes,
    read_remote_processes,
    remote_sensor_samples,
    top_process_samples,
)
from app.plugins.builtin._procfs import busy_percent, cpu_times, df_rows, meminfo

COMMANDS = {
    "stat": "cat /proc/stat",
    "meminfo": "cat /proc/meminfo",
    "loadavg": "cat /proc/loadavg",
    "uptime": "cat /proc/uptime",
    "df": "df -P -B1",
}
FIRST_CPU_WINDOW_SECONDS = 0.5
_known_hosts_lock = threading.Lock()


class SshConfig(PluginConfig):
    host: str = Field(
        ..., title="Host", description="Server name or IP address.", examples=["nas.lan"]
    )
    port: int = Field(22, title="Port", description="SSH port.", ge=1, le=65535)
    username: str = Field(
        ...,
        title="User",
        description="Login name; it only needs to read /proc and run df.",
        min_length=1,
        max_length=100,
        examples=["monitor"],
    )
    password: str | None = SecretField(
        None, title="Password", description="Password login (or use a key).", max_length=1024
    )
    private_key: str | None = SecretField(
        None,
        title="Private key",
        description="An OpenSSH or PEM private key, pasted in full. Stored encrypted.",
        max_length=20_000,
    )
    private_key_passphrase: str | None = SecretField(
        None, title="Key passphrase", description="Only for an encrypted private key."
    )
    key_file: str | None = Field(
        None,
        title="Key file",
        description="Path of a private key file relative to Unity's data directory, "
        "e.g. ssh/id_ed25519 for backend/data/ssh/id_ed25519.",
        examples=["ssh/id_ed25519"],
        max_length=500,
    )
    mounts: list[str] = Field(
        [],
        title="Mounts",
        description="Only report these mount points. Empty means every real filesystem.",
        examples=[["/", "/srv"]],
        max_length=100,
    )
    timeout_seconds: float = Field(
        10.0,
        title="Connect timeout (s)",
        description="A server that has not completed the SSH login in this time is down.",
        gt=0,
        le=60,
    )
    temperatures: bool = Field(
        True,
        title="Temperatures and fans",
        description="Read temperatures and fan speeds with `sensors -j` where lm-sensors "
        "is installed on the server (skipped where it is not).",
    )
    top_processes: TopProcesses = 5
    process_command_lines: ProcessCommandLines = False

    @field_validator("host")
    @classmethod
    def _check_host(cls, v: str) -> str:
        return validate_host(v)

    @field_validator("key_file")
    @classmethod
    def _relative_key_file(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        p = PurePosixPath(v.strip())
        if p.is_absolute() or ".." in p.parts or "\\" in v:
            raise ValueError(
                "give the key path relative to Unity's data directory, without '..' "
                "(e.g. ssh/id_ed25519)"
            )
        return str(p)

    @model_validator(mode="after")
    def _some_credential(self) -> SshConfig:
        if not (self.password or self.private_key or self.key_file):
            raise ValueError("set a password, a private key or a key file")
        if self.private_key and self.key_file:
            raise ValueError("set either private_key or key_file, not both")
        return self


class SshPlugin(Plugin[SshConfig]):
    type = "ssh"
    name = "Linux server over SSH"
    description = (
        "CPU, memory, swap, load, disk usage and uptime of a remote Linux server, read "
        "from /proc and df over SSH. Nothing to install on the server."
    )
    category = "system"
    Config = SshConfig
    default_interval_seconds = 60

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prev_cpu: dict[str, tuple[float, float]] | None = None
        self._prev_procs: tuple[float, Readings] | None = None

    @property
    def cfg(self) -> SshConfig:
        return self.config

    @property
    def known_hosts_path(self) -> Path:
        return self.ctx.data_dir / "ssh" / "known_hosts"

    def _host_pattern(self) -> str:
        host, port = self.cfg.host, self.cfg.port
        return host if port == 22 else f"[{host}]:{port}"

    # --- host key pinning (trust on first use) -------------------------------------

    def _pinned_lines(self) -> list[str]:
        try:
            text = self.known_hosts_path.read_text()
        except FileNotFoundError:
            return []
        pattern = self._host_pattern()
        return [
            line
            for line in text.splitlines()
            if line.strip() and not line.startswith("#") and pattern in line.split()[0].split(",")
        ]

    def _pin(self, key: asyncssh.SSHKey) -> None:
        line = f"{self._host_pattern()} {key.export_public_key('openssh').decode().strip()}\n"
        path = self.known_hosts_path
        with _known_hosts_lock:
            if self._pinned_lines():
                return  # another instance pinned it meanwhile
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with path.open("a") as f:
                f.write(line)

    # --- credentials ---------------------------------------------------------------

    def _key_file_path(self) -> Path:
        assert self.cfg.key_file is not None
        base = self.ctx.data_dir.resolve()
        path = (base / self.cfg.key_file).resolve()
        if not path.is_relative_to(base):  # a symlink pointing outside the data dir
            raise PluginError(f"key file {self.cfg.key_file} resolves outside the data directory")
        return path

    def _client_keys(self) -> list[asyncssh.SSHKey] | None:
        cfg = self.cfg
        try:
            if cfg.private_key:
                return [asyncssh.import_private_key(cfg.private_key, cfg.private_key_passphrase)]
            if cfg.key_file:
                path = self._key_file_path()
                if not path.is_file():
                    raise PluginError(
                        f"key file {path} does not exist; put the private key there "
                        f"(readable by Unity) or fix key_file"
                    )
                return [asyncssh.read_private_key(path, cfg.private_key_passphrase)]
        except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as exc:
            raise PluginError(f"the private key could not be loaded: {describe_exc(exc)}") from exc
        return None  # None, not []: [] would make asyncssh try ~/.ssh keys

    # --- collection ----------------------------------------------------------------

    async def collect_data(self) -> list[Sample]:
        cfg = self.cfg
        keys = await self.ctx.run_blocking(self._client_keys)
        pinned = await self.ctx.run_blocking(self._pinned_lines)
        known_hosts: Any = asyncssh.import_known_hosts("\n".join(pinned)) if pinned else None
        start = time.perf_counter()
        try:
            conn = await asyncio.wait_for(
                asyncssh.connect(
                    cfg.host,
                    cfg.port,
                    username=cfg.username,
                    password=cfg.password,
                    client_keys=keys,
                    passphrase=cfg.private_key_passphrase,
                    known_hosts=known_hosts,
                    agent_path=None,
                    config=[],
                    preferred_auth=("publickey", "password", "keyboard-interactive"),
                    connect_timeout=cfg.timeout_seconds,
                ),
                cfg.timeout_seconds,
            )
        except asyncssh.HostKeyNotVerifiable as exc:
            raise PluginError(
                f"the SSH host key of {cfg.host}:{cfg.port} has CHANGED since Unity first "
                "connected. The server may have been reinstalled, or someone may be "
                "intercepting the connection. If you trust the new key, delete the "
                f"line starting with {self._host_pattern()} from {self.known_hosts_path}."
            ) from exc
        except asyncssh.PermissionDenied as exc:
            raise PluginError(
                f"SSH login as {cfg.username}@{cfg.host} was refused: check the user name "
                "and the password or key"
            ) from exc
        except (TimeoutError, OSError, asyncssh.Error) as exc:
            reason = f"cannot connect to {cfg.host}:{cfg.port}: {describe_exc(exc)}"
            if isinstance(exc, TimeoutError):
                reason = f"{cfg.host}:{cfg.port} did not complete SSH login in time"
            raise target_down(self, reason, [up_sample(False)]) from exc

        connect_ms = elapsed_ms(start)
        async with conn:
            if not pinned:
                server_key = conn.get_server_host_key()
                if server_key is not None:
                    await self.ctx.run_blocking(self._pin, server_key)
            outputs = await self._run_all(conn)
            procs = await self._processes(conn)
            first_stat = first_procs = None
            if self._prev_cpu is None:
                # CPU % needs two readings; on the first run take them half a second apart.
                first_stat = outputs["stat"]
                first_procs = procs
                await asyncio.sleep(FIRST_CPU_WINDOW_SECONDS)
                outputs["stat"] = await self._run(conn, COMMANDS["stat"])
                procs = await self._processes(conn)
            sensors = await self._sensors(conn)

        try:
            samples = self._parse(outputs, first_stat)
            if procs is not None:
                cur = (procs[0], parse_remote_processes(procs[1], procs[2]))
                prev = self._prev_procs
                if first_procs:
                    prev = (first_procs[0], parse_remote_processes(first_procs[1], first_procs[2]))
                prev = prev or cur
                samples += top_process_samples(prev[1], cur[1], cur[0] - prev[0], cfg.top_processes)
                self._prev_procs = cur
            samples += remote_sensor_samples(sensors, cfg.host)
        except (ValueError, IndexError) as exc:
            raise PluginError(
                f"{cfg.host} answered in an unexpected format ({describe_exc(exc)}); "
                "is it a Linux server?"
            ) from exc
        return [up_sample(True), Sample("ssh_connect_time", connect_ms, "ms"), *samples]

    async def _run(
        self,
        conn: asyncssh.SSHClientConnection,
        command: str,
        hint: str = "the ssh plugin needs a Linux server with /proc and df",
    ) -> str:
        result = await conn.run(command, check=False)
        if result.exit_status != 0:
            err = str(result.stderr or "").strip()[:200]
            raise PluginError(
                f"`{command}` failed on {self.cfg.host} (exit {result.exit_status}): {err}; {hint}"
            )
        return str(result.stdout or "")

    async def _processes(self, conn: asyncssh.SSHClientConnection) -> RawProcesses | None:
        if not self.cfg.top_processes:
            return None
        return await read_remote_processes(
            lambda cmd, hint: self._run(conn, cmd, hint), self.cfg.process_command_lines
        )

    async def _sensors(self, conn: asyncssh.SSHClientConnection) -> str | None:
        """`sensors -j` output; None without lm-sensors or sensors (most VMs have none)."""
        if not self.cfg.temperatures:
            return None
        result = await conn.run(REMOTE_SENSORS, check=False)
        return str(result.stdout or "") if result.exit_status == 0 else None

    async def _run_all(self, conn: asyncssh.SSHClientConnection) -> dict[str, str]:
        keys = list(COMMANDS)
        texts = await asyncio.gather(*(self._run(conn, COMMANDS[k]) for k in keys))
        return dict(zip(keys, texts, strict=True))

    def _parse(self, out: dict[str, str], first_stat: str | None) -> list[Sample]:
        samples: list[Sample] = []
        cur = cpu_times(out["stat"])
        prev = cpu_times(first_stat) if first_stat is not None else self._prev_cpu
        self._prev_cpu = cur
        if prev is not None:
            for name, times in cur.items():
                if name in prev and (pct := busy_percent(prev[name], times)) is not None:
                    labels = {} if name == "cpu" else {"core": name[3:]}
                    samples.append(Sample("cpu_percent", pct, "percent", labels))

        load = out["loadavg"].split()
        for period, value in zip(("1m", "5m", "15m"), load[:3], strict=True):
            samples.append(Sample("load_average", float(value), "", {"period": period}))

        mem = meminfo(out["meminfo"])
        total = mem["MemTotal"]
        # Kernels before 3.14 have no MemAvailable; free + buffers + cache is the old estimate.
        fallback = mem.get("MemFree", 0.0) + mem.get("Buffers", 0.0) + mem.get("Cached", 0.0)
        available = mem.get("MemAvailable", fallback)
        mem_used = total - available
        samples += [
            Sample("memory_total", total, "bytes"),
            Sample("memory_used", mem_used, "bytes"),
            Sample("memory_available", available, "bytes"),
            Sample("memory_percent", mem_used / total * 100.0 if total else 0.0, "percent"),
        ]
        swap_total = mem.get("SwapTotal", 0.0)
        swap_used = swap_total - mem.get("SwapFree", 0.0)
        swap_pct = swap_used / swap_total * 100.0 if swap_total else 0.0
        samples += [
            Sample("swap_total", swap_total, "bytes"),
            Sample("swap_used", swap_used, "bytes"),
            Sample("swap_percent", swap_pct, "percent"),
        ]

        samples.append(Sample("uptime", float(out["uptime"].split()[0]), "seconds"))

        seen: set[str] = set()
        for device, mount, fs_total, used, avail in df_rows(out["df"]):
            if self.cfg.mounts:
                if mount not in self.cfg.mounts:
                    continue
            elif is_pseudo_filesystem(device, mount):
                continue
            if mount in seen or fs_total <= 0:
                continue
            seen.add(mount)
            labels = {"mount": mount}
            # Same figure as df's Use%: root-reserved blocks count as unavailable.
            percent = used / (used + avail) * 100.0 if used + avail > 0 else 0.0
            samples += [
                Sample("disk_total", fs_total, "bytes", labels),
                Sample("disk_used", used, "bytes", labels),
                Sample("disk_free", avail, "bytes", labels),
                Sample("disk_percent", percent, "percent", labels),
            ]
        return samples


PLUGIN = SshPlugin
