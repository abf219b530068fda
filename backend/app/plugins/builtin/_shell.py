"""Running a host's tools (smartctl, zpool, mdadm) on this machine or over agentless SSH.

Shared by the plugins that read a host's disks and pools. The SSH side reuses the `ssh`
plugin's credentials handling and host key pinning, so a server pinned by one plugin is
trusted by the others and a changed key stops them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from pydantic import Field, field_validator, model_validator

from app.plugins.base import Plugin, PluginConfig, PluginError, SecretField
from app.plugins.builtin._common import describe_exc, validate_host

# Non-login SSH sessions and service users often lack the sbin directories where
# smartctl, zpool and mdadm live.
SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin"
NOT_FOUND = 127
PACKAGES = {"smartctl": "smartmontools", "zpool": "zfsutils-linux", "btrfs": "btrfs-progs"}
# Where Debian and Ubuntu put them, for the sudoers line Unity suggests.
TOOL_PATHS = {
    "smartctl": "/usr/sbin/smartctl",
    "zpool": "/usr/sbin/zpool",
    "btrfs": "/usr/bin/btrfs",
}
OUTPUT_LIMIT = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class CommandResult:
    exit_status: int
    stdout: str
    stderr: str


class HostAccessConfig(PluginConfig):
    """Where the tools run: this machine (no host) or a server over SSH."""

    host: str | None = Field(
        None,
        title="SSH host",
        description="Leave empty to read the machine Unity runs on; or a server to reach "
        "over SSH (nothing is installed there).",
        examples=["nas.lan"],
    )
    port: int = Field(22, title="SSH port", description="Only with an SSH host.", ge=1, le=65535)
    username: str | None = Field(
        None,
        title="SSH user",
        description="Login name on the SSH host.",
        max_length=100,
        examples=["monitor"],
    )
    password: str | None = SecretField(
        None, title="SSH password", description="Password login (or use a key).", max_length=1024
    )
    private_key: str | None = SecretField(
        None,
        title="SSH private key",
        description="An OpenSSH or PEM private key, pasted in full. Stored encrypted.",
        max_length=20_000,
    )
    private_key_passphrase: str | None = SecretField(
        None, title="Key passphrase", description="Only for an encrypted private key."
    )
    key_file: str | None = Field(
        None,
        title="SSH key file",
        description="Path of a private key file relative to Unity's data directory, "
        "e.g. ssh/id_ed25519.",
        examples=["ssh/id_ed25519"],
        max_length=500,
    )
    use_sudo: bool = Field(
        False,
        title="Use sudo",
        description="Run the tools with `sudo -n` (no password prompt). Needs a sudoers rule "
        "such as `monitor ALL=(root) NOPASSWD: /usr/sbin/smartctl`.",
    )
    timeout_seconds: float = Field(
        20.0,
        title="Timeout (s)",
        description="Limit for the SSH login and for each command.",
        gt=0,
        le=120,
    )

    @field_validator("host")
    @classmethod
    def _check_host(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
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
    def _ssh_needs_login(self) -> HostAccessConfig:
        if self.host is None:
            return self
        if not self.username:
            raise ValueError("an SSH host needs a user name")
        if not (self.password or self.private_key or self.key_file):
            raise ValueError("an SSH host needs a password, a private key or a key file")
        if self.private_key and self.key_file:
            raise ValueError("set either private_key or key_file, not both")
        return self


class Shell:
    """Runs argv lists on one host; `where` names the host in error sentences."""

    where = "this host"
    remote = False

    def __init__(self, timeout: float, sudo: bool) -> None:
        self.timeout = timeout
        self.sudo = sudo
        self.prefix: list[str] = []  # e.g. ["runuser", "-u", "nobody", "--"] in tests

    def argv(self, argv: list[str]) -> list[str]:
        return [*self.prefix, *(["sudo", "-n"] if self.sudo else []), *argv]

    async def run(self, argv: list[str]) -> CommandResult:
        raise NotImplementedError

    def check_access(self, tool: str, result: CommandResult) -> None:
        """Raise the sentence for a missing tool or a refused sudo; otherwise return."""
        err = result.stderr.strip()
        if result.exit_status == NOT_FOUND or "command not found" in err:
            missing = "sudo" if self.sudo and "sudo" in err and tool not in err else tool
            raise PluginError(
                f"{missing} is not installed on {self.where} (or not on its PATH): install "
                f"it (Debian/Ubuntu: apt-get install {PACKAGES.get(missing, missing)})"
            )
        if self.sudo and "sudo:" in err and ("password" in err or "not allowed" in err):
            raise PluginError(
                f"sudo on {self.where} asked for a password or refused {tool}: allow it "
                f"without one with a sudoers line like `<user> ALL=(root) NOPASSWD: "
                f"{TOOL_PATHS.get(tool, tool)}` (visudo -f /etc/sudoers.d/unity; check the "
                f"path with `command -v {tool}`), or turn off sudo and give the user access"
            )


class LocalShell(Shell):
    async def run(self, argv: list[str]) -> CommandResult:
        full = self.argv(argv)
        exe = shutil.which(full[0]) or shutil.which(full[0], path=SBIN_PATH)
        if exe is None:
            return CommandResult(NOT_FOUND, "", f"{full[0]}: command not found")
        env = {
            **os.environ,
            "LC_ALL": "C",
            "TZ": "UTC",
            "PATH": os.environ.get("PATH", "") + ":" + SBIN_PATH,
        }
        try:
            proc = await asyncio.create_subprocess_exec(
                exe,
                *full[1:],
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
            )
        except PermissionError as exc:
            raise PluginError(
                f"Unity's user may not run {exe} on {self.where}: {describe_exc(exc)}"
            ) from exc
        try:
            out, err = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError as exc:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise PluginError(
                f"`{shlex.join(argv)}` did not finish within {self.timeout:g} s on {self.where}"
            ) from exc
        return CommandResult(
            proc.returncode if proc.returncode is not None else -1,
            out[:OUTPUT_LIMIT].decode("utf-8", "replace"),
            err[:OUTPUT_LIMIT].decode("utf-8", "replace"),
        )


class SshShell(Shell):
    remote = True

    def __init__(self, conn: Any, where: str, timeout: float, sudo: bool) -> None:
        super().__init__(timeout, sudo)
        self.conn = conn
        self.where = where

    async def run(self, argv: list[str]) -> CommandResult:
        command = f'PATH="$PATH:{SBIN_PATH}" TZ=UTC LC_ALL=C {shlex.join(self.argv(argv))}'
        try:
            result = await asyncio.wait_for(self.conn.run(command, check=False), self.timeout)
        except TimeoutError as exc:
            raise PluginError(
                f"`{shlex.join(argv)}` did not finish within {self.timeout:g} s on {self.where}"
            ) from exc
        status = result.exit_status if result.exit_status is not None else -1
        return CommandResult(status, str(result.stdout or ""), str(result.stderr or ""))


@contextlib.asynccontextmanager
async def open_shell(plugin: Plugin, cfg: HostAccessConfig) -> AsyncIterator[Shell]:
    """A shell on the configured host for one run; the SSH connection closes afterwards."""
    if cfg.host is None:
        yield LocalShell(cfg.timeout_seconds, cfg.use_sudo)
        return
    import asyncssh

    from app.plugins.builtin.ssh import SshConfig, SshPlugin

    ssh = SshPlugin(
        SshConfig(
            host=cfg.host,
            port=cfg.port,
            username=cfg.username or "",
            password=cfg.password,
            private_key=cfg.private_key,
            private_key_passphrase=cfg.private_key_passphrase,
            key_file=cfg.key_file,
            timeout_seconds=min(cfg.timeout_seconds, 60),
        ),
        plugin.ctx,
    )
    keys = await plugin.ctx.run_blocking(ssh._client_keys)
    pinned = await plugin.ctx.run_blocking(ssh._pinned_lines)
    known_hosts: Any = asyncssh.import_known_hosts("\n".join(pinned)) if pinned else None
    where = f"{cfg.host}:{cfg.port}"
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
            f"the SSH host key of {where} has CHANGED since Unity first connected. If you "
            f"trust the new key, delete the line starting with {ssh._host_pattern()} from "
            f"{ssh.known_hosts_path}."
        ) from exc
    except asyncssh.PermissionDenied as exc:
        raise PluginError(
            f"SSH login as {cfg.username}@{cfg.host} was refused: check the user name "
            "and the password or key"
        ) from exc
    except TimeoutError as exc:
        raise PluginError(f"{where} did not complete the SSH login in time") from exc
    except (OSError, asyncssh.Error) as exc:
        raise PluginError(f"cannot connect to {where} over SSH: {describe_exc(exc)}") from exc
    async with conn:
        if not pinned and (server_key := conn.get_server_host_key()) is not None:
            await plugin.ctx.run_blocking(ssh._pin, server_key)
        yield SshShell(conn, cfg.host, cfg.timeout_seconds, cfg.use_sudo)
