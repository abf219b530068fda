"""The UI's guided channel forms build Apprise URLs that Apprise itself reads as meant.

`frontend/src/pages/alerts/channelKinds.examples.json` holds one form per service and the URL the
UI builds from it (Vitest checks the builder against it); here each URL goes through the Apprise
the backend sends with, which must pick the right service and read back the fields typed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import apprise
import pytest

EXAMPLES = (
    Path(__file__).resolve().parents[3] / "frontend/src/pages/alerts/channelKinds.examples.json"
)
CASES: list[dict[str, Any]] = json.loads(EXAMPLES.read_text())


def test_every_guided_service_has_an_example() -> None:
    assert len({c["kind"] for c in CASES}) == 10


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['kind']}:{c['url'].split(':')[0]}")
def test_apprise_reads_the_built_url_as_the_form_meant(case: dict[str, Any]) -> None:
    plugin = apprise.Apprise.instantiate(case["url"])
    assert plugin is not None, f"Apprise rejects {case['url']}"
    assert plugin.service_name == case["service"]
    for attr, want in case.get("attrs", {}).items():
        got = getattr(plugin, attr)
        assert (sorted(got) if isinstance(got, set | list | tuple) else got) == want, attr
