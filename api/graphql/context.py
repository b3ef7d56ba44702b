"""The per-request GraphQL context: who is asking, the driver, and the request's DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from neo4j import Driver
from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from api.security import CurrentUser
from chainlens.settings import Settings
from graph.enterprises import Enterprise, get_enterprises

T = TypeVar("T")


@dataclass
class Context(BaseContext):
    settings: Settings
    driver: Driver
    user: CurrentUser
    correlation_id: str
    loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__()

    @property
    def database(self) -> str:
        return self.settings.neo4j_database

    async def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a blocking domain function (driver, database, ...) off the event loop."""
        return await run_in_threadpool(partial(fn, self.driver, self.database, *args, **kwargs))

    @property
    def enterprise_loader(self) -> DataLoader[str, Enterprise | None]:
        """Batches every enterprise lookup of one request into a single round trip."""
        loader = self.loaders.get("enterprise")
        if loader is None:

            async def load(ids: list[str]) -> list[Enterprise | None]:
                found: dict[str, Enterprise] = await self.call(get_enterprises, list(ids))
                return [found.get(i) for i in ids]

            loader = DataLoader(load_fn=load, max_batch_size=500)
            self.loaders["enterprise"] = loader
        return loader
