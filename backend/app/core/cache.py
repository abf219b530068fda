"""A small in-memory cache for what reads look up often and changes rarely."""

from __future__ import annotations

import time
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    """A bounded map whose entries expire, and which a change can empty.

    clear() bumps `epoch`, and put() ignores a value read under an older epoch: a lookup that
    began before a change committed may have read the state from before it, so it must not
    store what it read. Take `epoch` before the lookup and hand it to put().
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.epoch = 0
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def put(self, key: K, value: V, ttl: float, epoch: int) -> None:
        if epoch != self.epoch:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # a burst of distinct keys: start over rather than track age
        self._entries[key] = (time.monotonic() + ttl, value)

    def clear(self) -> None:
        self.epoch += 1
        self._entries.clear()
