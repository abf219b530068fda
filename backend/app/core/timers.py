"""Timer coalescing: periodic housekeeping wakes at shared instants of the wall clock.

On a small always-on box an idle process's CPU is mostly the cost of waking up (cold caches
after each sleep), not the work it then does. Scheduled runs start on whole seconds, so the
server's tick falls on them too, and the metrics writer and the run recorder flush together a
few milliseconds later: one burst of work per second instead of several separate wake-ups.
Linux does the same for its own timers (round_jiffies, timer slack).
"""

from __future__ import annotations

import time

# Offsets after the whole second: runs start at 0 and a quick check is done within tens of ms.
# The writer and the recorder share theirs: separate instants 20 ms apart cost 3 more
# wake-ups a second and ~12 % more CPU at 100 instances (docs/BENCHMARKS.md).
SERVER_PHASE = 0.0
FLUSH_PHASE = 0.06


def until_next(period: float, phase: float = 0.0, now: float | None = None) -> float:
    """Seconds until the wall clock next reads k * period + phase (at least 1 ms away)."""
    now = time.time() if now is None else now
    wait = (phase - now) % period
    return wait if wait >= 0.001 else wait + period
