"""One SSH login for every plugin that reaches a server agentlessly (ssh, smart, storage_pools).

`SshLoginConfig` holds the login fields and their checks; `SshLogin` loads the keys, pins the
server's host key on first use (trust on first use, in the data directory's
ssh/known_hosts) and opens the connection with one set of error sentences. A server pinned
by one plugin is trusted by the others, and a changed key stops them all.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator, model_validator

from app.core.egress import EgressDenied
from app.plugins.base import PluginConfig, PluginContext, PluginError, SecretField
from app.plugins.builtin._common import HostName, describe_exc, policy_address

if TYPE_CHECKING:  # asyncssh loads with the first instance (house style 15)
    import asyncssh

_known_hosts_lock = threading.Lock()


class SshLoginConfig(PluginConfig):
    """Where and how to log in. Without a host nothing is checked (the plugin runs locally)."""

    host: HostName | None = Field(
        None, title="SSH host", description="Server name or IP address.", examples=["nas.lan"]
    )
    port: int = Field(22, title="SSH port", description="SSH port.", ge=1, le=65535)
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
        "e.g. ssh/id_ed25519 for backend/data/ssh/id_ed25519.",
        examples=["ssh/id_ed25519"],
        max_length=500,
    )

    @field_validator("host", "key_file", mode="before")
    @classmethod
    def _blank_is_none(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("key_file")
    @classmethod
    def _relative_key_file(cls, v: str | None) -> str | None:
        if v is None:
            return None
        p = PurePosixPath(v.strip())
        if p.is_absolute() or ".." in p.parts or "\\" in v:
            raise ValueError(
                "give the key path relative to Unity's data directory, without '..' "
                "(e.g. ssh/id_ed25519)"
            )
        return str(p)

    @model_validator(mode="after")
    def _login_is_complete(self) -> SshLoginConfig:
        if self.host is None:
            return self
        if not self.username:
            raise ValueError("an SSH host needs a user name")
        if not (self.password or self.private_key or self.key_file):
            raise ValueError("set a password, a private key or a key file for the SSH login")
        if self.private_key and self.key_file:
            raise ValueError("set either private_key or key_file, not both")
        return self


class SshUnreachable(PluginError):
    """The server did not answer or did not finish the login: the target is down."""


class SshLogin:
    """Connects with a `SshLoginConfig` (whose host is set) for a plugin's context."""

    def __init__(self, cfg: SshLoginConfig, ctx: PluginContext, timeout: float) -> None:
        assert cfg.host is not None
        self.cfg = cfg
        self.host = cfg.host
        self.ctx = ctx
        self.timeout = timeout
        self.where = f"{cfg.host}:{cfg.port}"

    @property
    def known_hosts_path(self) -> Path:
        return self.ctx.data_dir / "ssh" / "known_hosts"

    def host_pattern(self) -> str:
        return self.host if self.cfg.port == 22 else f"[{self.host}]:{self.cfg.port}"

    # --- host key pinning (trust on first use) -------------------------------------

    def pinned_lines(self) -> list[str]:
        try:
            text = self.known_hosts_path.read_text()
        except FileNotFoundError:
            return []
        pattern = self.host_pattern()
        return [
            line
            for line in text.splitlines()
            if line.strip() and not line.startswith("#") and pattern in line.split()[0].split(",")
        ]

    def pin(self, key: asyncssh.SSHKey) -> None:
        line = f"{self.host_pattern()} {key.export_public_key('openssh').decode().strip()}\n"
        path = self.known_hosts_path
        with _known_hosts_lock:
            if self.pinned_lines():
                return  # another instance pinned it meanwhile
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with path.open("a") as f:
                f.write(line)

    # --- credentials ---------------------------------------------------------------

    def key_file_path(self) -> Path:
        assert self.cfg.key_file is not None
        base = self.ctx.data_dir.resolve()
        path = (base / self.cfg.key_file).resolve()
        if not path.is_relative_to(base):  # a symlink pointing outside the data dir
            raise PluginError(f"key file {self.cfg.key_file} resolves outside the data directory")
        return path

    def client_keys(self) -> list[asyncssh.SSHKey] | None:
        import asyncssh

        cfg = self.cfg
        try:
            if cfg.private_key:
                return [asyncssh.import_private_key(cfg.private_key, cfg.private_key_passphrase)]
            if cfg.key_file:
                path = self.key_file_path()
                if not path.is_file():
                    raise PluginError(
                        f"key file {path} does not exist; put the private key there "
                        f"(readable by Unity) or fix key_file"
                    )
                return [asyncssh.read_private_key(path, cfg.private_key_passphrase)]
        except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as exc:
            raise PluginError(f"the private key could not be loaded: {describe_exc(exc)}") from exc
        return None  # None, not []: [] would make asyncssh try ~/.ssh keys

    # --- connecting ----------------------------------------------------------------

    async def connect(self) -> asyncssh.SSHClientConnection:
        """Log in, pinning the host key on first use; PluginError (SshUnreachable) if not."""
        import asyncssh

        cfg = self.cfg
        try:  # the SSRF policy; the login itself uses the name, which the host key is pinned to
            await policy_address(self.host, cfg.port, self.timeout)
        except EgressDenied as exc:
            raise SshUnreachable(str(exc).rstrip(".")) from None
        keys = await self.ctx.run_blocking(self.client_keys)
        pinned = await self.ctx.run_blocking(self.pinned_lines)
        known_hosts: Any = asyncssh.import_known_hosts("\n".join(pinned)) if pinned else None
        try:
            conn = await asyncio.wait_for(
                asyncssh.connect(
                    self.host,
                    cfg.port,
                    username=cfg.username,
                    password=cfg.password,
                    client_keys=keys,
                    passphrase=cfg.private_key_passphrase,
                    known_hosts=known_hosts,
                    agent_path=None,
                    config=[],
                    preferred_auth=("publickey", "password", "keyboard-interactive"),
                    connect_timeout=self.timeout,
                ),
                self.timeout,
            )
        except asyncssh.HostKeyNotVerifiable as exc:
            raise PluginError(
                f"the SSH host key of {self.where} has CHANGED since Unity first "
                "connected. The server may have been reinstalled, or someone may be "
                "intercepting the connection. If you trust the new key, delete the "
                f"line starting with {self.host_pattern()} from {self.known_hosts_path}."
            ) from exc
        except asyncssh.PermissionDenied as exc:
            raise PluginError(
                f"SSH login as {cfg.username}@{self.host} was refused: check the user name "
                "and the password or key"
            ) from exc
        except TimeoutError as exc:
            raise SshUnreachable(
                f"{self.where} did not complete the SSH login in time: check that the host is "
                "up and that nothing in between drops SSH"
            ) from exc
        except (OSError, asyncssh.Error) as exc:
            raise SshUnreachable(
                f"cannot connect to {self.where} over SSH: {describe_exc(exc)}; check the host "
                "name, the port and that the SSH server runs there"
            ) from exc
        if not pinned and (server_key := conn.get_server_host_key()) is not None:
            try:
                await self.ctx.run_blocking(self.pin, server_key)
            except BaseException:
                conn.close()
                raise
        return conn
