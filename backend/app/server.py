"""uvicorn's server with a once-a-second housekeeping tick instead of ten times a second.

An idle backend is woken by nothing but its own timers, and on a small always-on box each
wake-up costs more than the work it does: uvicorn's 0.1 s tick alone was most of an idle
process's CPU. The tick only refreshes the `date` header (once a second anyway) and notices
`should_exit`; a signal now wakes it at once, so SIGTERM is as quick as before. It ticks on
whole seconds, with the scheduled runs (see app.core.timers).
"""

from __future__ import annotations

import asyncio
import contextlib
from types import FrameType

import uvicorn

from app.core.timers import SERVER_PHASE, until_next

TICK_SECONDS = 1.0


class Server(uvicorn.Server):
    _wake: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        # uvicorn counts 0.1 s ticks and refreshes the date header every 10th one.
        while not await self.on_tick(counter):
            counter = (counter + 10) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), until_next(TICK_SECONDS, SERVER_PHASE))

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None and self._wake is not None:
            # A signal handler runs between bytecodes of the main thread while the loop sleeps
            # in epoll: the thread-safe call writes to the loop's self-pipe and wakes it.
            with contextlib.suppress(RuntimeError):  # the loop has closed already
                self._loop.call_soon_threadsafe(self._wake.set)
