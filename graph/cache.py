"""An in-process read cache for hot reads (the enterprise card), emptied by every write.

Scope, plainly: the cache lives in one process and only sees the writes that process makes.
The API empties it after every GraphQL mutation and every other write request it serves
(``api/app.py``, ``api/graphql/extensions.py``), so a write answered by this process shows
in the next read. A write made elsewhere (``chainlens ingest`` from the CLI, a second API
worker, the sensors' intake running in the background) shows once the entries it touched
expire: at most ``ttl_s`` later (``CHAINLENS_READ_CACHE_TTL_S``; 0 turns the cache off).

Invalidation is coarse on purpose: a write empties every entry, not only the cards it
touched. A card shows the relationships of every kind around a firm and the exposure of its
whole group, so working out which cards one write touches would be a second copy of the
queries; writes are rare next to card reads, and a miss costs what a read cost before.

A read that began before a write and ends after it is not stored (each entry remembers the
write generation its read started in), so an answer read from the graph before a commit never
outlives the invalidation that followed it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class ReadCache:
    """Entries keyed by any hashable key, each kept ``ttl_s`` seconds at most, the least
    recently used dropped beyond ``max_entries``; ``invalidate()`` empties it."""

    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._generation = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0 and self.max_entries > 0

    @property
    def generation(self) -> int:
        """How many invalidations so far: a read remembers it when it starts."""
        return self._generation

    def invalidate(self) -> None:
        """Forget every entry; reads in flight will not store what they read."""
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def get(self, key: Hashable) -> tuple[bool, Any]:
        """(True, value) for a live entry, (False, None) otherwise."""
        if not self.enabled:
            return False, None
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] < time.monotonic():
                if found is not None:
                    del self._entries[key]
                self.misses += 1
                return False, None
            self._entries.move_to_end(key)
            self.hits += 1
            return True, found[1]

    def put(self, key: Hashable, value: Any, generation: int) -> None:
        """Store ``value`` read since ``generation``, unless a write came in between."""
        if not self.enabled:
            return
        with self._lock:
            if generation != self._generation:
                return
            self._entries[key] = (time.monotonic() + self.ttl_s, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def read(self, key: Hashable, load: Callable[[], T]) -> T:
        """The cached value for ``key``, else ``load()`` stored under it."""
        hit, value = self.get(key)
        if hit:
            return value  # type: ignore[no-any-return]
        generation = self._generation
        loaded = load()
        self.put(key, loaded, generation)
        return loaded

    async def aread(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """``read`` for an asynchronous ``load`` (a DataLoader's, a threadpool call)."""
        hit, value = self.get(key)
        if hit:
            return value  # type: ignore[no-any-return]
        generation = self._generation
        loaded = await load()
        self.put(key, loaded, generation)
        return loaded
