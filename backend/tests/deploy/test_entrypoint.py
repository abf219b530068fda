"""The image's entrypoint, run for real as root: it drops to the app user and gives it the
Docker socket's group (whatever gid the host's `docker` group has), never group root."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from .conftest import BACKEND, need

ENTRYPOINT = BACKEND / "docker-entrypoint.sh"
APP_UID = 10001


@pytest.fixture
def as_root() -> None:
    need(os.geteuid() == 0, "the entrypoint's privilege drop is tested only as root")
    need(shutil.which("setpriv") is not None, "setpriv (util-linux) is not installed")


def make_socket(path: Path, gid: int) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    os.chown(path, 0, gid)
    return sock


def start(tmp_path: Path, sock: Path) -> subprocess.CompletedProcess[str]:
    """The entrypoint with `id` as the command: what uid and groups the app would run with."""
    root = tmp_path / "app"
    root.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ["PATH"],
        "DATA_DIR": str(root / "data"),
        "UNITY_DOCKER_SOCKET": str(sock),
    }
    return subprocess.run(
        ["sh", str(ENTRYPOINT), "sh", "-c", "id -u; id -g; id -G"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )


def test_app_user_gets_the_sockets_group(tmp_path: Path, as_root: None) -> None:
    path = tmp_path / "docker.sock"
    with make_socket(path, 4242):
        result = start(tmp_path, path)
    uid, gid, groups = result.stdout.split("\n")[:3]
    assert (int(uid), int(gid)) == (APP_UID, APP_UID)
    assert set(groups.split()) == {str(APP_UID), "4242"}


def test_a_socket_of_group_root_is_not_shared(tmp_path: Path, as_root: None) -> None:
    path = tmp_path / "docker.sock"
    with make_socket(path, 0):
        result = start(tmp_path, path)
    assert result.stdout.split("\n")[2].split() == [str(APP_UID)]
    assert "belongs to group root" in result.stderr and "chgrp docker" in result.stderr


def test_without_a_socket_no_extra_group(tmp_path: Path, as_root: None) -> None:
    result = start(tmp_path, tmp_path / "missing.sock")
    assert result.stdout.split("\n")[2].split() == [str(APP_UID)]
    assert result.stderr == ""
