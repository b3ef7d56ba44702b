"""The per-request GraphQL context: who is asking, the driver, and the request's DataLoaders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar, cast

from neo4j import Driver
from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from api.availability import DatabaseBreaker, unreachable
from api.security import CurrentUser
from chainlens.settings import Settings
from finance.batching import GroupCommitter, LedgerJob, run_alone
from graph.cache import ReadCache
from graph.enterprises import Enterprise, get_enterprises

V = TypeVar("V")


@dataclass
class Context(BaseContext):
    settings: Settings
    driver: Driver
    user: CurrentUser
    correlation_id: str
    loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)
    breaker: DatabaseBreaker | None = None
    read_cache: ReadCache | None = None
    # The app's group committer of ledger writes (finance/batching.py); None: one
    # transaction per write.
    ledger: GroupCommitter | None = None

    def __post_init__(self) -> None:
        super().__init__()

    @property
    def database(self) -> str:
        return self.settings.neo4j_database

    async def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a blocking domain function (driver, database, ...) off the event loop; while
        the database is known to be unreachable, refuse at once (503)."""
        if self.breaker is not None:
            self.breaker.check()
        try:
            return await run_in_threadpool(
                partial(fn, self.driver, self.database, *args, **kwargs)
            )
        except Exception as e:
            if self.breaker is not None and unreachable(e):
                self.breaker.trip(e)
            raise

    async def commit(self, job: LedgerJob[V]) -> V:
        """A ledger write: through the app's group committer, which answers each job on its
        own while it shares a transaction with the others waiting (`finance/batching.py`),
        or alone when there is none; refused at once while the database is known to be gone.
        """
        if self.breaker is not None:
            self.breaker.check()
        try:
            if self.ledger is None:
                return cast(V, await run_in_threadpool(
                    partial(run_alone, self.driver, self.database, job)))  # fmt: skip
            return await asyncio.wrap_future(self.ledger.submit(job))
        except Exception as e:
            if self.breaker is not None and unreachable(e):
                self.breaker.trip(e)
            raise

    async def cached(self, key: Hashable, load: Callable[[], Awaitable[V]]) -> V:
        """``load()``'s answer from the app's read cache (`graph/cache.py`), which every
        write this process serves empties; ``key`` must name everything the answer depends
        on, the caller's scope (its funder's book) included."""
        if self.read_cache is None:
            return await load()
        return await self.read_cache.aread(key, load)

    def batch_loader(
        self, key: str, fetch: Callable[..., Mapping[str, V]], missing: Callable[[], V],
        *args: Any, max_batch_size: int = 500,
    ) -> DataLoader[str, V]:  # fmt: skip
        """The request's loader named `key`: every `load(id)` made while resolving one level
        of the query becomes a single `fetch(driver, database, ids, *args)` call, which
        returns a value per id (`missing()` for ids it does not know)."""
        loader = self.loaders.get(key)
        if loader is None:

            async def load(ids: list[str]) -> list[V]:
                found = cast(Mapping[str, V], await self.call(fetch, list(ids), *args))
                return [found[i] if i in found else missing() for i in ids]

            loader = DataLoader(load_fn=load, max_batch_size=max_batch_size)
            self.loaders[key] = loader
        return loader

    @property
    def enterprise_loader(self) -> DataLoader[str, Enterprise | None]:
        """Batches every enterprise lookup of one request into a single round trip."""
        return self.batch_loader("enterprise", get_enterprises, lambda: None)
