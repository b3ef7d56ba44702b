"""The API's side of the read cache (`graph/cache.py`): what empties it.

A GraphQL mutation empties it when its operation ends (``api/graphql/extensions.py``,
``ReadCacheInvalidation``); every other write request (POST, PUT, PATCH, DELETE outside
``/graphql`` and the login) empties it when its answer has been sent, here. Both run whether
the write succeeded or not: a write that failed half-way may still have committed a part.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from graph.cache import ReadCache

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Paths whose writes are not writes of the graph the cache reads (a login), or are seen
# elsewhere (GraphQL: only its mutations write, and the extension sees the operation type).
NOT_WRITES = ("/graphql", "/auth/")


class WritesEmptyReadCache:
    """Plain ASGI middleware: a write request served by this process empties ``cache``."""

    def __init__(self, app: ASGIApp, cache: ReadCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in WRITE_METHODS
            or scope["path"].startswith(NOT_WRITES)
        ):
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.cache.invalidate()
