"""ExpiringCache: entries expire, the map stays bounded, and a change outruns a slow lookup."""

from __future__ import annotations

import time

from app.core.cache import ExpiringCache


def test_entries_expire_and_the_map_stays_bounded() -> None:
    cache: ExpiringCache[int, str] = ExpiringCache(max_entries=3)
    cache.put(1, "one", 0.05, cache.epoch)
    cache.put(2, "two", 60, cache.epoch)
    assert cache.get(1) == "one" and cache.get(2) == "two" and cache.get(3) is None
    time.sleep(0.06)
    assert cache.get(1) is None and cache.get(2) == "two"
    for key in (3, 4):
        cache.put(key, str(key), 60, cache.epoch)
    assert len(cache._entries) <= 3 and cache.get(4) == "4"


def test_a_lookup_that_began_before_a_change_stores_nothing() -> None:
    cache: ExpiringCache[int, str] = ExpiringCache(max_entries=10)
    cache.put(1, "old", 60, cache.epoch)
    epoch = cache.epoch  # a lookup begins ...
    cache.clear()  # ... a change commits ...
    cache.put(2, "read before the change", 60, epoch)  # ... what the lookup read is dropped
    assert cache.get(1) is None and cache.get(2) is None
    cache.put(2, "read after", 60, cache.epoch)
    assert cache.get(2) == "read after"
