"""A real asyncssh server on 127.0.0.1 that answers chosen commands (for smart and pools)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncssh

from .conftest import SSH_PASSWORD, SSH_USER

ENV_PREFIX = "LC_ALL=C "


@dataclass
class CommandServer:
    """answers: command (without Unity's PATH/LC_ALL prefix) -> (exit, stdout, stderr)."""

    answers: dict[str, tuple[int, str, str]]
    port: int = 0
    commands: list[str] = field(default_factory=list)
    listener: asyncssh.SSHAcceptor | None = None

    def config(self, **extra: object) -> dict[str, object]:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "username": SSH_USER,
            "password": SSH_PASSWORD,
            **extra,
        }

    async def close(self) -> None:
        if self.listener is not None:
            self.listener.close()
            await self.listener.wait_closed()


async def start_command_server(host_key, answers) -> CommandServer:
    state = CommandServer(dict(answers))

    class Server(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, password: str) -> bool:
            return username == SSH_USER and password == SSH_PASSWORD

    def answer(process) -> None:
        raw = process.command or ""
        cmd = raw.split(ENV_PREFIX, 1)[1] if ENV_PREFIX in raw else raw
        state.commands.append(cmd)
        status, out, err = state.answers.get(
            cmd, (127, "", f"sh: 1: {cmd.split()[0]}: not found\n")
        )
        process.stdout.write(out)
        process.stderr.write(err)
        process.exit(status)

    state.listener = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        server_factory=Server,
        process_factory=answer,
        reuse_address=True,
    )
    state.port = state.listener.sockets[0].getsockname()[1]
    return state


@contextlib.asynccontextmanager
async def command_server(host_key, answers) -> AsyncIterator[CommandServer]:
    """`start_command_server` for the length of a `with` block."""
    server = await start_command_server(host_key, answers)
    try:
        yield server
    finally:
        await server.close()
