"""A configuration built through the API: every kind of object, secrets included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

HTTP_PASSWORD = "hunter2-http-secret"
CHANNEL_URL = "json://127.0.0.1:9/hook?token=chan-secret-77"
SSH_KEY_PASSPHRASE = "ssh-passphrase-secret"
SECRETS = (HTTP_PASSWORD, "chan-secret-77", SSH_KEY_PASSPHRASE)


async def build(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    async def post(path: str, body: dict[str, object]) -> int:
        r = await client.post(f"/api/v1/{path}", json=body, headers=admin)
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    web = await post(
        "plugins",
        {
            "name": "Home page",
            "type": "http",
            "config": {
                "url": "http://127.0.0.1:9/${not-a-ref}",
                "basic_auth_username": "me",
                "basic_auth_password": HTTP_PASSWORD,
            },
            "interval_seconds": 30,
            "timeout_seconds": 10,
        },
    )
    port22 = await post(
        "plugins", {"name": "port 22", "type": "tcp", "config": {"host": "127.0.0.1", "port": 22}}
    )
    await post(
        "plugins",
        {
            "name": "nas ssh",
            "type": "ssh",
            # created before its parent when a file is applied (names sort): links come last
            "depends_on": [port22],
            "enabled": False,
            "config": {
                "host": "127.0.0.1",
                "username": "root",
                "private_key": "-----BEGIN KEY-----\nabc\n-----END KEY-----\n",
                "private_key_passphrase": SSH_KEY_PASSPHRASE,
            },
        },
    )
    phone = await post(
        "channels",
        {
            "name": "Phone",
            "url": CHANNEL_URL,
            "group_seconds": 60,
            "quiet_start": "23:00",
            "quiet_end": "07:00",
            "quiet_timezone": "Europe/Berlin",
            "quiet_except_critical": False,
        },
    )
    await post("channels", {"name": "Mail", "url": "json://127.0.0.1:9/mail", "enabled": False})
    rule = await post(
        "alerts/rules",
        {
            "name": "Slow home page",
            "kind": "metric",
            "plugin_id": web,
            "metric": "http_response_time_seconds",
            "labels": {"b": "2", "a": "1"},
            "op": ">",
            "threshold": 2,
            "channel_ids": [phone],
        },
    )
    await post(
        "alerts/rules",
        {"name": "Anything down", "kind": "health", "for_seconds": 300, "severity": "critical"},
    )
    now = datetime.now(UTC).replace(microsecond=0)
    await post(
        "alerts/silences",
        {
            "plugin_id": web,
            "rule_id": rule,
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=1)).isoformat(),
            "comment": "moving the NAS",
        },
    )
    await post(
        "alerts/silences",
        {
            "starts_at": (now - timedelta(days=2)).isoformat(),
            "ends_at": (now - timedelta(days=1)).isoformat(),
            "comment": "over: not exported",
        },
    )
    await post(
        "maintenance",
        {
            "name": "Sunday backups",
            "kind": "weekly",
            "weekdays": [6, 2],
            "start_time": "03:00",
            "duration_seconds": 7200,
            "timezone": "Europe/Berlin",
            "plugin_ids": [web, port22],
        },
    )
    await post(
        "maintenance",
        {
            "name": "NAS firmware",
            "starts_at": (now + timedelta(days=3)).isoformat(),
            "ends_at": (now + timedelta(days=3, hours=2)).isoformat(),
            "all_plugins": True,
        },
    )
    await post(
        "maintenance",
        {
            "name": "Monthly patching",
            "kind": "cron",
            "cron": "0 4 1 * *",
            "duration_seconds": 3600,
            "starts_at": (now - timedelta(days=1)).isoformat(),
            "plugin_ids": [web],
        },
    )
    await post(
        "maintenance",
        {
            "name": "last week",
            "starts_at": (now - timedelta(days=8)).isoformat(),
            "ends_at": (now - timedelta(days=7)).isoformat(),
            "all_plugins": True,
        },
    )
    await post(
        "status-pages",
        {
            "slug": "home",
            "title": "Home lab",
            "published": True,
            "groups": [
                {"name": "Web", "items": [{"plugin_id": web, "name": "Site"}]},
                {"items": [{"plugin_id": port22, "name": "SSH", "show_response_time": True}]},
            ],
            "announcements": [{"title": "Posted in the UI, not part of the file"}],
        },
    )
