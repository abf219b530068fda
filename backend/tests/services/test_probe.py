"""The database probe: stop() cancels its loop and a stuck check, waiting only briefly; and what
silent_since() asks before the request deadline calls a database silent."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from app.core.worker import CANCEL_GRACE_SECONDS
from app.services.replica.probe import DatabaseProbe


class _Stuck:
    """A connection that never answers and shrugs off the first cancel (a silent socket)."""

    async def __aenter__(self) -> Any:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(3600)

    async def __aexit__(self, *exc: object) -> None:
        return None


class _Db:
    class engine:  # stands in for Database.engine
        @staticmethod
        def connect() -> _Stuck:
            return _Stuck()


async def test_stop_cancels_a_stuck_check_without_waiting_for_it() -> None:
    probe = DatabaseProbe(_Db(), every=0.05)  # type: ignore[arg-type]
    await probe.start()
    assert probe.down() is True and probe.ok is False  # no answer within `every`
    check = probe._check
    assert check is not None and not check.done()
    t0 = time.monotonic()
    await probe.stop()
    assert time.monotonic() - t0 < CANCEL_GRACE_SECONDS + 0.5
    assert probe._task is not None and probe._task.done()
    check.cancel()  # let the stubborn check go for good
    await asyncio.wait({check}, timeout=1)


async def test_silent_since_needs_a_check_waiting_and_nothing_answered_during_the_request() -> None:
    probe = DatabaseProbe(_Db(), every=0.05)  # type: ignore[arg-type]
    began = time.monotonic() - 1.0  # a request that has waited a second
    assert probe.silent_since(began) is False  # no check under way: nothing to go on
    await probe.start()  # its check never answers
    try:
        probe._answered_at = began - 0.01  # the last answer came just before the request
        assert probe.silent_since(began) is True
        probe._answered_at = began + 0.5  # something answered while the request waited
        assert probe.silent_since(began) is False
        probe._answered_at = time.monotonic()  # before the request, but within two periods
        assert probe.silent_since(time.monotonic() + 1) is False
    finally:
        check = probe._check
        await probe.stop()
        if check is not None:
            check.cancel()
            await asyncio.wait({check}, timeout=1)
