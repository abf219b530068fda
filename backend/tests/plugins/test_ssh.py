"""The `ssh` plugin against a real asyncssh server on loopback (key and password auth)."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from app.plugins.base import PluginContext, PluginError, validate_samples
from app.plugins.builtin.ssh import SshPlugin

from .conftest import SSH_PASSWORD, SSH_USER, collect, start_ssh_server


def make(data_dir, port, **config):
    config.setdefault("host", "127.0.0.1")
    config.setdefault("username", SSH_USER)
    return SshPlugin(SshPlugin.Config(port=port, **config), PluginContext(7, data_dir))


def key_text(key) -> str:
    return key.export_private_key().decode()


def get(samples, name, **labels):
    found = [s for s in samples if s.name == name and dict(s.labels) == labels]
    assert len(found) == 1, f"{name}{labels}: {found}"
    return found[0]


async def test_password_login_reports_host_metrics(tmp_path, ssh_server):
    plugin = make(tmp_path, ssh_server.port, password=SSH_PASSWORD)
    samples = validate_samples(await plugin.collect_data(), 1000)

    assert get(samples, "up").value == 1
    assert get(samples, "ssh_connect_time").unit == "ms"
    # First run: two /proc/stat readings half a second apart.
    assert ssh_server.stat_reads == 2
    assert get(samples, "cpu_percent").value == pytest.approx(75.0)
    assert get(samples, "cpu_percent", core="0").value == pytest.approx(50.0)
    assert get(samples, "cpu_percent", core="1").value == pytest.approx(100.0)
    assert get(samples, "cpu_percent").unit == "percent"

    assert get(samples, "memory_total").value == 16384000 * 1024
    assert get(samples, "memory_available").value == 8192000 * 1024
    assert get(samples, "memory_used").value == (16384000 - 8192000) * 1024
    assert get(samples, "memory_percent").value == pytest.approx(50.0)
    assert get(samples, "swap_used").value == 1048576 * 1024
    assert get(samples, "swap_percent").value == pytest.approx(50.0)
    assert get(samples, "memory_total").unit == "bytes"

    assert get(samples, "load_average", period="1m").value == 0.52
    assert get(samples, "load_average", period="15m").value == 0.59
    assert get(samples, "uptime").value == 123456.78
    assert get(samples, "uptime").unit == "seconds"

    mounts = {s.labels["mount"] for s in samples if s.name == "disk_used"}
    assert mounts == {"/", "/srv/media files"}  # udev, tmpfs, /run, /dev/shm are skipped
    assert get(samples, "disk_total", mount="/").value == 100e9
    assert get(samples, "disk_free", mount="/").value == 55e9
    # Matches df's Use%, which counts root-reserved blocks as unavailable.
    assert get(samples, "disk_percent", mount="/").value == pytest.approx(40 / 95 * 100)
    assert get(samples, "disk_percent", mount="/srv/media files").value == 50


async def test_second_run_uses_the_previous_reading_for_cpu(tmp_path, ssh_server):
    plugin = make(tmp_path, ssh_server.port, password=SSH_PASSWORD)
    await plugin.collect_data()
    samples = await plugin.collect_data()
    assert ssh_server.stat_reads == 3  # one more reading, no half-second wait
    assert get(samples, "cpu_percent").value == pytest.approx(75.0)


async def test_private_key_login_and_mount_filter(tmp_path, ssh_server, ssh_keys):
    plugin = make(tmp_path, ssh_server.port, private_key=key_text(ssh_keys["client"]), mounts=["/"])
    samples = await plugin.collect_data()
    assert get(samples, "up").value == 1
    assert {s.labels["mount"] for s in samples if s.name == "disk_used"} == {"/"}


async def test_encrypted_private_key_with_passphrase(tmp_path, ssh_server, ssh_keys):
    # PKCS#8: encrypted keys in OpenSSH's own format need the optional bcrypt module.
    pem = ssh_keys["client"].export_private_key("pkcs8-pem", passphrase="open sesame").decode()
    plugin = make(tmp_path, ssh_server.port, private_key=pem, private_key_passphrase="open sesame")
    assert get(await plugin.collect_data(), "up").value == 1
    bad = make(tmp_path, ssh_server.port, private_key=pem, private_key_passphrase="nope")
    with pytest.raises(PluginError, match="private key could not be loaded"):
        await bad.collect_data()


async def test_key_file_under_the_data_dir(tmp_path, ssh_server, ssh_keys):
    (tmp_path / "ssh").mkdir()
    (tmp_path / "ssh" / "id_ed25519").write_text(key_text(ssh_keys["client"]))
    plugin = make(tmp_path, ssh_server.port, key_file="ssh/id_ed25519")
    assert get(await plugin.collect_data(), "up").value == 1

    missing = make(tmp_path, ssh_server.port, key_file="ssh/id_rsa")
    with pytest.raises(PluginError, match=r"key file .*ssh/id_rsa does not exist"):
        await missing.collect_data()


async def test_key_file_symlink_out_of_the_data_dir_is_refused(tmp_path, ssh_server, ssh_keys):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "key").write_text(key_text(ssh_keys["client"]))
    data = tmp_path / "data"
    data.mkdir()
    os.symlink(outside / "key", data / "key")
    plugin = make(data, ssh_server.port, key_file="key")
    with pytest.raises(PluginError, match="outside the data directory"):
        await plugin.collect_data()


@pytest.mark.parametrize("path", ["../secrets/id_rsa", "/root/.ssh/id_rsa", "ssh/../../x"])
def test_key_file_paths_escaping_the_data_dir_are_invalid(path):
    with pytest.raises(ValidationError, match="relative to Unity's data directory"):
        SshPlugin.Config(host="nas.lan", username="u", key_file=path)


async def test_wrong_password_and_unknown_key_fail_loudly(tmp_path, ssh_server, ssh_keys):
    with pytest.raises(PluginError, match=f"SSH login as {SSH_USER}@127.0.0.1 was refused"):
        await make(tmp_path, ssh_server.port, password="wrong").collect_data()
    stranger = make(tmp_path, ssh_server.port, private_key=key_text(ssh_keys["stranger"]))
    with pytest.raises(PluginError, match="was refused"):
        await stranger.collect_data()


async def test_host_key_is_pinned_on_first_use(tmp_path, ssh_server, ssh_keys):
    plugin = make(tmp_path, ssh_server.port, password=SSH_PASSWORD)
    await plugin.collect_data()
    known = (tmp_path / "ssh" / "known_hosts").read_text()
    public = ssh_keys["host"].export_public_key().decode().split()[1]
    assert known.startswith(f"[127.0.0.1]:{ssh_server.port} ssh-ed25519 {public}")
    await plugin.collect_data()  # same key: still fine, and not pinned twice
    assert (tmp_path / "ssh" / "known_hosts").read_text() == known


async def test_changed_host_key_fails_the_run(tmp_path, ssh_keys):
    listener, state = await start_ssh_server(ssh_keys["host"], ssh_keys["client"])
    port = state.port
    plugin = make(tmp_path, port, password=SSH_PASSWORD)
    try:
        assert get(await plugin.collect_data(), "up").value == 1
    finally:
        listener.close()
        await listener.wait_closed()

    # The "server" comes back on the same address with a different host key.
    listener, state = await start_ssh_server(ssh_keys["host2"], ssh_keys["client"], port=port)
    try:
        with pytest.raises(PluginError) as err:
            await plugin.collect_data()
        assert "has CHANGED" in str(err.value)
        assert f"[127.0.0.1]:{port}" in str(err.value)
        assert str(tmp_path / "ssh" / "known_hosts") in str(err.value)
        assert state.commands == []  # nothing was run on the impostor
    finally:
        listener.close()
        await listener.wait_closed()


async def test_unreachable_server_is_down_with_the_reason(tmp_path, ssh_server):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    samples, reason = await collect(make(tmp_path, port, password=SSH_PASSWORD))
    assert [(s.name, s.value) for s in samples] == [("up", 0.0)]
    assert reason is not None and reason.startswith(f"cannot connect to 127.0.0.1:{port}")


async def test_non_linux_host_is_a_clear_error(tmp_path, ssh_server):
    ssh_server.broken.add("cat /proc/stat")
    plugin = make(tmp_path, ssh_server.port, password=SSH_PASSWORD)
    with pytest.raises(PluginError, match=r"`cat /proc/stat` failed .*needs a Linux server"):
        await plugin.collect_data()


def test_config_needs_a_credential_and_marks_secrets():
    with pytest.raises(ValidationError, match="set a password, a private key or a key file"):
        SshPlugin.Config(host="nas.lan", username="u")
    assert set(SshPlugin.secret_fields()) == {
        "password",
        "private_key",
        "private_key_passphrase",
    }
