"""docs/PLUGINS.md: the homelab pack's sections name every config field, and their alert rule
examples are rules the API accepts, for metrics the section documents."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.plugins.registry import PluginRegistry
from app.schemas.alerts import RuleCreate
from app.services.plugins.discovery import KNOWN_LABELS

DOC = Path(__file__).resolve().parents[3] / "docs" / "PLUGINS.md"
# Every plugin type issue 21 (the homelab pack) added: each needs what it measures, its
# config, the access it needs and an alert rule example.
PACK = ("smart", "nut", "storage_pools", "snmp", "proxmox", "postgres", "mysql", "redis")


def sections() -> dict[str, str]:
    text = DOC.read_text()
    found: dict[str, str] = {}
    for m in re.finditer(r"^### `([a-z0-9_]+)`.*?(?=^##)", text, re.S | re.M):
        found[m.group(1)] = m.group(0)
    return found


def rule_examples(section: str) -> list[dict[str, Any]]:
    """Alert rules in a section: ```json blocks, bodies of `curl … alerts/rules -d '…'`, and
    inline `{"metric": …}` fragments (completed with a name and kind, which they leave out)."""
    rules = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", section, re.S)]
    for body in re.findall(r"/alerts/rules\b.*?-d '(.*?)'", section, re.S):
        rules.append(json.loads(body))
    for fragment in re.findall(r"`(\{\"metric\":.*?\})`", section, re.S):
        rules.append({"name": "example", "kind": "metric", **json.loads(fragment)})
    return [r for r in rules if "kind" in r]  # a ```json block may show something else


def documented_fields(section: str) -> set[str]:
    """Names in backticks in the first column of the section's tables."""
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| "):
            names.update(re.findall(r"`([a-z0-9_]+)`", line.split("|")[1]))
    return names


@pytest.mark.parametrize("type_", PACK)
def test_section_names_every_config_field_and_access(type_):
    section = sections().get(type_)
    assert section is not None, f"docs/PLUGINS.md has no ### `{type_}` section"
    entry = PluginRegistry().load().get(type_)
    assert entry is not None and entry.cls is not None
    missing = set(entry.cls.config_schema()["properties"]) - documented_fields(section)
    assert not missing, f"{type_}: config fields not documented: {sorted(missing)}"
    assert "| metric |" in section, f"{type_}: no table of what it measures"
    assert re.search(r"^.*\*\*Access[.:]\*\*", section, re.M), f"{type_}: no **Access.** part"


@pytest.mark.parametrize("type_", [*PACK, "system"])
def test_section_has_a_valid_alert_rule_for_a_documented_metric(type_):
    section = sections()[type_]
    rules = rule_examples(section)
    assert rules, f"{type_}: no alert rule example"
    for rule in rules:
        parsed = RuleCreate(**rule)
        assert parsed.metric is None or f"`{parsed.metric}`" in section, parsed.metric


def test_system_section_gives_rules_for_processes_and_temperatures():
    metrics = {r.get("metric") for r in rule_examples(sections()["system"])}
    assert {"temperature_celsius"} <= metrics
    assert metrics & {"process_cpu_percent", "process_memory_bytes"}


def test_every_discovery_label_and_the_secret_rule_are_documented():
    docker = sections()["docker"]
    for label in KNOWN_LABELS:
        assert f"`{label}`" in docker, f"{label} is not documented"
    assert "No secrets in labels" in docker
