"""The loop shape the background workers share: one-line error text, backoff, a bounded drain.

The metrics writer, the run recorder and the hub's Redis listener each retry a failing store
or connection: they report the failure the same way (`error_text`), wait the same growing
delay (`Backoff`), log an outage in a few lines, not one per retry (`Outage`), and stop the same
way (`drain`: finish within a deadline, else cancel).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

BACKOFF_FIRST_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 30.0
# Each delay is spread by up to this fraction either way, so replicas and workers that failed
# together do not all retry in the same instant.
BACKOFF_JITTER = 0.2
OUTAGE_REPORT_SECONDS = 60.0
CANCEL_GRACE_SECONDS = 0.2

log = logging.getLogger(__name__)


def error_text(exc: BaseException) -> str:
    """`Type: first line of the message` (at most 300 characters), for logs and /health."""
    message = str(exc)
    first = message.splitlines()[0][:300] if message else ""
    return f"{type(exc).__name__}: {first}"


class Backoff:
    """Delays that double after each failure up to a cap, and start over after a success."""

    def __init__(
        self,
        first: float = BACKOFF_FIRST_SECONDS,
        cap: float = BACKOFF_MAX_SECONDS,
        jitter: float = BACKOFF_JITTER,
    ) -> None:
        self.first = first
        self.cap = cap
        self.jitter = jitter
        self.delay = first

    def failed(self) -> float:
        """The delay to wait now (with jitter); the next one is twice as long, up to the cap."""
        delay, self.delay = self.delay, min(self.delay * 2, self.cap)
        return delay * random.uniform(1 - self.jitter, 1 + self.jitter)  # noqa: S311  # nosec B311 - jitter, not a secret

    def reset(self) -> None:
        self.delay = self.first


class Outage:
    """The log of a store that keeps failing: one line when it starts, one a minute while it
    lasts, one when it ends with how long it lasted; never a line per retry or a traceback.

    `what` names the store ("metrics writes"); `counts()` says what is held or was dropped
    ("1200 samples buffered, 0 dropped"), for each line.
    """

    def __init__(
        self,
        log: logging.Logger,
        what: str,
        counts: Callable[[], str],
        every: float = OUTAGE_REPORT_SECONDS,
    ) -> None:
        self.log = log
        self.what = what
        self.counts = counts
        self.every = every
        self.since: float | None = None  # monotonic start of the current outage
        self.failures = 0
        self._reported = 0.0

    def failed(self, exc: BaseException, retry_in: float | None = None) -> None:
        now = time.monotonic()
        self.failures += 1
        if self.since is None:
            self.since = self._reported = now
            self.log.warning(
                "%s failing%s: %s; %s",
                self.what,
                "" if retry_in is None else f", retrying with backoff (next in {retry_in:.1f}s)",
                error_text(exc),
                self.counts(),
            )
        elif now - self._reported >= self.every:
            self._reported = now
            self.log.warning(
                "%s still failing after %.0fs (%d attempts): %s; %s",
                self.what,
                now - self.since,
                self.failures,
                error_text(exc),
                self.counts(),
            )

    def recovered(self) -> None:
        if self.since is None:
            return
        self.log.warning(
            "%s recovered after %.1fs and %d failed attempts; %s",
            self.what,
            time.monotonic() - self.since,
            self.failures,
            self.counts(),
        )
        self.since = None
        self.failures = 0


async def drain(task: asyncio.Task[Any] | None, deadline: float) -> bool:
    """Let `task` finish within `deadline` seconds, else cancel it; True if it finished."""
    if task is None:
        return True
    try:
        await asyncio.wait_for(asyncio.shield(task), deadline)
        return True
    except TimeoutError:
        task.cancel()
        # Its cleanup may wait on a silent database: give it a moment, not more.
        await asyncio.wait({task}, timeout=CANCEL_GRACE_SECONDS)
        return False


async def bounded(step: Awaitable[Any], seconds: float, what: str) -> bool:
    """Await `step` for at most `seconds`, then cancel it without waiting for it (its cleanup may
    hang on a silent database); log and go on, never raise. True if it finished in time."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=max(seconds, 0.01))
    if not done:
        task.cancel()
        log.warning("shutdown: %s did not finish within %.1fs; going on without it", what, seconds)
        return False
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.warning("shutdown: %s failed: %s", what, error_text(exc))
    return True


def http_drain_seconds(shutdown_timeout: float) -> float:
    """Of SHUTDOWN_TIMEOUT_SECONDS, what requests in flight get before the server cancels them
    (a run-now waiting on a slow plugin among them); the lifespan's drains get the rest."""
    return min(2.0, shutdown_timeout / 4)


class ShutdownClock:
    """One deadline for the whole shutdown (SHUTDOWN_TIMEOUT_SECONDS), shared by its steps."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds

    def left(self, reserve: float = 0.0) -> float:
        """Seconds left, keeping `reserve` for the steps after this one."""
        return max(0.05, self.ends - reserve - time.monotonic())
