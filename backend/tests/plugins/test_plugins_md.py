"""docs/PLUGINS.md: each plugin section's alert rule examples are rules the API accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.plugins.registry import PluginRegistry
from app.schemas.alerts import RuleCreate

DOC = Path(__file__).resolve().parents[3] / "docs" / "PLUGINS.md"
DOCUMENTED_WITH_RULES = ("postgres", "mysql", "redis", "proxmox")


def sections() -> dict[str, str]:
    text = DOC.read_text()
    found: dict[str, str] = {}
    for m in re.finditer(r"^### `([a-z0-9_]+)`.*?(?=^##)", text, re.S | re.M):
        found[m.group(1)] = m.group(0)
    return found


@pytest.mark.parametrize("type_", DOCUMENTED_WITH_RULES)
def test_section_names_every_config_field_and_has_a_valid_alert_rule(type_):
    section = sections()[type_]
    entry = PluginRegistry().load().get(type_)
    assert entry is not None and entry.cls is not None
    for field in entry.cls.config_schema()["properties"]:
        assert f"| `{field}` |" in section, f"{type_}: config field {field} is not documented"
    rules = re.findall(r"```json\n(.*?)```", section, re.S)
    assert rules, f"{type_}: no alert rule example"
    for rule in rules:
        parsed = RuleCreate(**json.loads(rule))
        assert parsed.metric is None or f"`{parsed.metric}`" in section
