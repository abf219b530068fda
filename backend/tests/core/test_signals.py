"""SIGTERM and SIGINT stop the worker and probe commands through their asyncio.Event."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from app.core.signals import stop_on_signals


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_sets_the_stop_event(sig: signal.Signals) -> None:
    stop = asyncio.Event()
    stop_on_signals(stop)
    loop = asyncio.get_running_loop()
    try:
        os.kill(os.getpid(), sig)
        await asyncio.wait_for(stop.wait(), 5)
    finally:
        for s in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(s)
    assert stop.is_set()
