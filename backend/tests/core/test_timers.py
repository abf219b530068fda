"""Shared timer instants: the next k * period + phase on the wall clock."""

from __future__ import annotations

import pytest

from app.core.timers import until_next


@pytest.mark.parametrize(
    ("now", "period", "phase", "expected"),
    [
        (100.25, 1.0, 0.0, 0.75),  # to the next whole second
        (100.25, 1.0, 0.08, 0.83),  # to the next whole second + 80 ms
        (100.05, 1.0, 0.08, 0.03),  # the phase point of this very second is still ahead
        (100.0, 1.0, 0.0, 1.0),  # exactly on it: the next one, never a zero wait
        (100.0004, 1.0, 0.0, 0.9996),
        (100.3, 0.5, 0.06, 0.26),  # a half-second period: 100.56
    ],
)
def test_until_next(now: float, period: float, phase: float, expected: float) -> None:
    assert until_next(period, phase, now) == pytest.approx(expected)
