"""The metric names the dashboard's card test ranks (frontend/src/pages/pluginMetricNames.json)
are the ones the homelab pack's plugins emit: a renamed or added metric fails here, so the
card's key values are never tested on names no plugin sends."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
NAMES = json.loads((ROOT / "frontend" / "src" / "pages" / "pluginMetricNames.json").read_text())
BUILTIN = ROOT / "backend" / "app" / "plugins" / "builtin"
# Each type's own metric prefix, to find the names its module spells out.
PREFIXES = {
    "smart": ("disk_",),
    "nut": ("ups_",),
    "storage_pools": ("zfs_pool_", "md_array_", "btrfs_device_"),
    "snmp": ("interface_", "snmp_"),
    "proxmox": ("proxmox_",),
    "postgres": ("postgres_",),
    "mysql": ("mysql_",),
    "redis": ("redis_",),
}
NOT_METRICS = {"redis_version"}  # INFO fields the modules read, not samples they send


def literals(type_: str) -> set[str]:
    text = (BUILTIN / f"{type_}.py").read_text()
    found = set(re.findall(r'"([a-z][a-z0-9_]*)"', text))
    return {n for n in found if n.startswith(PREFIXES[type_])} - NOT_METRICS


@pytest.mark.parametrize("type_", sorted(PREFIXES))
def test_the_card_tests_names_are_the_plugins_names(type_):
    listed = set(NAMES[type_]) - {"up"}
    assert listed == literals(type_)
    if "up" in NAMES[type_]:
        assert "up_sample(" in (BUILTIN / f"{type_}.py").read_text()
