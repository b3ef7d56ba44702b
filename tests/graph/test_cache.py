"""The read cache on its own: entries expire, the least recently used go first, a write
empties it, and a read that began before a write does not store what it read."""

from __future__ import annotations

import asyncio
import time

from graph.cache import ReadCache


def test_entries_are_served_until_they_expire() -> None:
    cache = ReadCache(ttl_s=0.05)
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert cache.read("k", load) == 1
    assert cache.read("k", load) == 1
    time.sleep(0.06)
    assert cache.read("k", load) == 2
    assert (cache.hits, cache.misses) == (1, 2)


def test_invalidate_empties_it() -> None:
    cache = ReadCache(ttl_s=60)
    cache.read("a", lambda: 1)
    cache.invalidate()
    assert cache.read("a", lambda: 2) == 2


def test_a_read_overtaken_by_a_write_is_not_stored() -> None:
    cache = ReadCache(ttl_s=60)

    def load_while_a_write_commits() -> str:
        cache.invalidate()  # the write commits while the read is running
        return "read before the write"

    assert cache.read("k", load_while_a_write_commits) == "read before the write"
    assert cache.get("k") == (False, None)
    assert cache.read("k", lambda: "after") == "after"
    assert cache.get("k") == (True, "after")


def test_the_async_read_too() -> None:
    cache = ReadCache(ttl_s=60)

    async def load() -> str:
        cache.invalidate()
        return "stale"

    async def fresh() -> str:
        return "fresh"

    assert asyncio.run(cache.aread("k", load)) == "stale"
    assert asyncio.run(cache.aread("k", fresh)) == "fresh"
    assert cache.get("k") == (True, "fresh")


def test_the_least_recently_used_entries_go_first() -> None:
    cache = ReadCache(ttl_s=60, max_entries=2)
    cache.read("a", lambda: 1)
    cache.read("b", lambda: 2)
    cache.get("a")
    cache.read("c", lambda: 3)
    assert cache.get("b") == (False, None)
    assert cache.get("a") == (True, 1) and cache.get("c") == (True, 3)


def test_ttl_zero_turns_it_off() -> None:
    cache = ReadCache(ttl_s=0)
    assert cache.read("k", lambda: 1) == 1
    assert cache.read("k", lambda: 2) == 2
    assert len(cache) == 0
