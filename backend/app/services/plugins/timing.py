"""A plugin's interval, its run's timeout and its check's own timeout, kept consistent.

A run that outlasts `timeout_seconds` is stopped. Many checks (http, tcp, dns, …) also have a
`config.timeout_seconds` of their own, which must run out first so that a slow target is
reported as what it is ("no response within 10 s"), not as a stopped run. A timeout someone
typed is never cut short: a conflict is refused with the range that would be accepted. A
check timeout nobody typed (the type's default) follows the run's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from app.plugins.base import Plugin

CHECK_TIMEOUT = "timeout_seconds"  # the config field of the checks that have one


def settle(
    cls: type[Plugin],
    typed: Mapping[str, Any],
    config: dict[str, Any],
    interval: int | None,
    timeout: int | None,
) -> tuple[int, int, dict[str, str]]:
    """(interval, run timeout, {field: problem}) for a new plugin; see `fit`."""
    interval = interval or cls.default_interval_seconds
    if timeout is None:  # room for a typed check timeout, within the interval
        check = config.get(CHECK_TIMEOUT) if CHECK_TIMEOUT in typed else None
        timeout = min(interval, max(cls.default_timeout_seconds, math.ceil(check or 0)))
    return interval, timeout, fit(typed, config, interval, timeout)


def fit(
    typed: Mapping[str, Any], config: dict[str, Any], interval: int, timeout: int
) -> dict[str, str]:
    """{field: problem} for these timings. `typed` is the config as given and `config` the
    validated one (with defaults): its check timeout, when a default longer than the run's,
    is lowered to it in place."""
    check = config.get(CHECK_TIMEOUT)
    if check is not None and CHECK_TIMEOUT not in typed and check > timeout:
        config[CHECK_TIMEOUT] = type(check)(timeout)  # as the field stores it: 5.0, not 5
    return problems(interval, timeout, config.get(CHECK_TIMEOUT))


def problems(interval: int, timeout: int, check: float | None) -> dict[str, str]:
    """{field: sentence} for timings that cannot work together; empty when they can."""
    if timeout > interval:
        return {
            "timeout_seconds": f"must not exceed interval_seconds ({interval} s): "
            "a run must finish before the next one is due"
        }
    if check is not None and check > timeout == interval:
        return {
            f"config.{CHECK_TIMEOUT}": f"is {check:g} s, longer than the interval ({interval} s): "
            f"a check must give up before the next run is due; use at most {interval} s"
        }
    if check is not None and check > timeout:
        return {
            f"config.{CHECK_TIMEOUT}": f"is {check:g} s, longer than the run's timeout_seconds "
            f"({timeout} s), so the run would be stopped before the check gives up; use at "
            f"most {timeout} s, or raise timeout_seconds (up to the interval, {interval} s)"
        }
    return {}
