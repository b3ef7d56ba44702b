"""A transaction timeout on every read the API makes for a client.

The GraphQL resolvers get the app's driver through this wrapper: each read-routed
``execute_query`` and each ``execute_read`` transaction carries ``timeout_s``
(``CHAINLENS_NEO4J_TX_TIMEOUT_S``, or the query's own when that is shorter), so Neo4j ends a
runaway read on the server instead of letting it hold memory and CPU for everyone. A read that
runs out of time answers ``QueryTimedOut``: HTTP 504, GraphQL code ``TIMEOUT``, "ask for less".

Writes are left as they are: the finance writers bound their own attempts
(`finance/ledger.py`, ``WRITE_TIMEOUT_S``) and retry what may be retried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from neo4j import Driver, Query, RoutingControl
from neo4j.exceptions import Neo4jError

from graph.errors import GraphError


class QueryTimedOut(GraphError):
    """A read ran longer than the API's transaction timeout and was ended by Neo4j."""

    http_status = 504


def _timed_out(error: BaseException) -> bool:
    code = getattr(error, "code", None) or ""
    return isinstance(error, Neo4jError) and code.startswith(
        "Neo.ClientError.Transaction.TransactionTimedOut"
    )


def _shorter(given: float | None, limit: float) -> float:
    return limit if given is None or given <= 0 else min(given, limit)


class ReadTimeoutDriver:
    """Delegates to a real driver; reads get a transaction timeout (see the module)."""

    def __init__(self, driver: Driver, timeout_s: float) -> None:
        self._driver = driver
        self.timeout_s = timeout_s

    def _refuse(self, error: Neo4jError) -> QueryTimedOut:
        return QueryTimedOut(
            f"the query ran longer than {self.timeout_s:g} s and was stopped; ask for less "
            "(fewer hops or nodes, a smaller page)"
        )

    def execute_query(self, *args: Any, **kwargs: Any) -> Any:
        # The driver's own keywords end in "_"; every other keyword is a query parameter (a
        # search's `query` among them), so the query is taken by position or as `query_`.
        routing = kwargs.get("routing_")
        if routing not in (RoutingControl.READ, "r"):
            return self._driver.execute_query(*args, **kwargs)
        if args:
            query, rest = args[0], args[1:]
        else:
            query, rest = kwargs.pop("query_"), ()
        if isinstance(query, Query):
            timed = Query(query.text, query.metadata, _shorter(query.timeout, self.timeout_s))
        else:
            timed = Query(query, timeout=self.timeout_s)
        try:
            return self._driver.execute_query(timed, *rest, **kwargs)
        except Neo4jError as e:
            if _timed_out(e):
                raise self._refuse(e) from e
            raise

    def session(self, *args: Any, **kwargs: Any) -> _Session:
        return _Session(self, self._driver.session(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._driver, name)


class _Session:
    def __init__(self, owner: ReadTimeoutDriver, inner: Any) -> None:
        self._owner = owner
        self._inner = inner

    def __enter__(self) -> _Session:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._inner.__exit__(*exc)

    def execute_read(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def work(tx: Any, *a: Any, **k: Any) -> Any:
            return fn(tx, *a, **k)

        # The driver reads these attributes, as set by @unit_of_work.
        work.timeout = _shorter(getattr(fn, "timeout", None), self._owner.timeout_s)  # type: ignore[attr-defined]
        work.metadata = getattr(fn, "metadata", None)  # type: ignore[attr-defined]
        try:
            return self._inner.execute_read(work, *args, **kwargs)
        except Neo4jError as e:
            if _timed_out(e):
                raise self._owner._refuse(e) from e
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
