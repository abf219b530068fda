"""A configuration file carries each channel's group window and quiet hours, and says which are
wrong (the round trip of every field is in test_config.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.models import NotificationChannel
from app.services.config.yamlfile import ConfigFileError
from tests.services.test_config import apply, state_of

FILE = """
channels:
  - name: Phone
    url: json://127.0.0.1:9/hook
    group_seconds: {group}
    quiet_start: '23:00'
    quiet_end: {end}
    quiet_timezone: {tz}
"""


async def test_a_file_sets_quiet_hours_and_names_what_is_wrong(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    state = state_of(app)
    await apply(state, FILE.format(group=0, end="'07:00'", tz="Europe/Berlin"), dry_run=False)
    async with state.db.session() as s:
        [phone] = list(await s.scalars(select(NotificationChannel)))
    assert (phone.group_seconds, phone.quiet_start, phone.quiet_end) == (0, "23:00", "07:00")
    assert phone.quiet_timezone == "Europe/Berlin" and phone.quiet_except_critical
    r = await client.get(f"/api/v1/channels/{phone.id}", headers=admin)
    assert r.json()["quiet_end"] == "07:00" and r.json()["group_seconds"] == 0

    with pytest.raises(ConfigFileError) as err:
        await apply(state, FILE.format(group=30, end="null", tz="Mars/Olympus"))
    lines = "\n".join(err.value.lines())
    assert "channels[0].quiet_end: set both quiet_start and quiet_end, or neither" in lines
    assert "channels[0].quiet_timezone: 'Mars/Olympus' is not a time zone name" in lines
    with pytest.raises(ConfigFileError) as err:
        await apply(state, FILE.format(group=30, end="'7am'", tz="UTC"))
    assert "quiet_end" in "\n".join(err.value.lines())
