"""Running a host's tools (smartctl, zpool, mdadm) on this machine or over agentless SSH.

Shared by the plugins that read a host's disks and pools. The SSH side is the shared login
of `_ssh.py`, so a server pinned by one plugin is trusted by the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
from abc import abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pydantic import Field
from typing_extensions import TypeVar

from app.plugins.base import Plugin, PluginError, Sample
from app.plugins.builtin._common import HostName, TimeoutField, describe_exc
from app.plugins.builtin._ssh import SshLogin, SshLoginConfig

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


class HostAccessConfig(SshLoginConfig):
    """Where the tools run: this machine (no host) or a server over SSH."""

    host: HostName | None = Field(
        None,
        title="SSH host",
        description="Leave empty to read the machine Unity runs on; or a server to reach "
        "over SSH (nothing is installed there).",
        examples=["nas.lan"],
    )
    use_sudo: bool = Field(
        False,
        title="Use sudo",
        description="Run the tools with `sudo -n` (no password prompt). Needs a sudoers rule "
        "such as `monitor ALL=(root) NOPASSWD: /usr/sbin/smartctl`.",
    )
    timeout_seconds: float = TimeoutField(
        20.0, 120, "Limit for the SSH login and for each command."
    )


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
    async with await SshLogin(cfg, plugin.ctx, cfg.timeout_seconds).connect() as conn:
        yield SshShell(conn, cfg.host, cfg.timeout_seconds, cfg.use_sudo)


H = TypeVar("H", bound=HostAccessConfig, default=HostAccessConfig, covariant=True)


class HostToolsPlugin(Plugin[H]):
    """A plugin that runs a host's tools here or over SSH: it implements `collect_with`."""

    async def collect_data(self) -> list[Sample]:
        async with open_shell(self, self.config) as shell:
            return await self.collect_with(shell)

    @abstractmethod
    async def collect_with(self, shell: Shell) -> list[Sample]:
        """One run's samples, reading the host through `shell`."""
