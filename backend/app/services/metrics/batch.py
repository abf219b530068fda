"""What the metrics write path carries: a run's batch, a group ready to store, the counters."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.plugins.base import Sample


@dataclass
class Batch:
    """One plugin run's samples, all stamped with the run's time."""

    plugin_id: int
    ts: datetime
    samples: list[Sample]
    written: asyncio.Event = field(default_factory=asyncio.Event)
    published: bool = False  # went live when accepted, so not again once committed
    # per sample its (series id, unit), or None when its plugin is gone; set by the writer
    refs: list[tuple[int, str] | None] = field(default_factory=list)


@dataclass
class WriterStats:
    buffered: int = 0
    written: int = 0
    dropped: int = 0
    discarded: int = 0  # samples of plugins deleted before they were written
    batches: int = 0
    failures: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_flush_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# What one run wrote: plugin, time, and per sample its (series id, unit).
Committed = tuple[int, datetime, list[tuple[tuple[int, str], Sample]]]


@dataclass(slots=True)
class Prepared:
    """A group of batches ready to store."""

    records: list[tuple[int, datetime, float]]  # (series id, ts, value) for COPY
    latest: dict[int, tuple[datetime, float]]  # series -> its newest (ts, value) in the group
    committed: list[Committed]  # what goes to publish once stored (not published before)
    discarded: int  # samples of plugins deleted meanwhile
    oldest: datetime | None


Publish = Callable[[int, datetime, list[tuple[tuple[int, str], Sample]]], Awaitable[None]]
