"""Helpers shared by the analytics modules: validated arguments, read queries, id lookups."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.errors import InvalidArgument, NotFound
from graph.model import FINANCING_LIVE, FINANCING_OUTSTANDING, values
from graph.queries import analytics as q

T = TypeVar("T")

# Financing statuses as query parameters: money out (exposure), and holding collateral or a
# line (a second pledge is refused; a firm with one is no prospect).
OUTSTANDING_FINANCING: list[str] = values(FINANCING_OUTSTANDING)
LIVE_FINANCING: list[str] = values(FINANCING_LIVE)


def check_range(name: str, value: int, low: int, high: int) -> int:
    """Refuse an argument outside [low, high] with a message that names the bounds."""
    if not low <= value <= high:
        raise InvalidArgument(f"{name} must be between {low} and {high}, got {value}")
    return value


def read(driver: Driver, database: str, query: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        query, parameters_=params, database_=database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records]


def read_tx(driver: Driver, database: str, work: Callable[[ManagedTransaction], T]) -> T:
    """Run several reads in one managed read transaction (one round of retries, one snapshot)."""
    with driver.session(database=database) as session:
        return session.execute_read(work)


def tx_rows(tx: ManagedTransaction, query: str, **params: Any) -> list[dict[str, Any]]:
    return [r.data() for r in tx.run(query, params)]


def enterprise_names(driver: Driver, database: str, ids: Iterable[str]) -> dict[str, str | None]:
    rows = read(driver, database, q.ENTERPRISE_NAMES, ids=list(ids))
    return {r["id"]: r["name"] for r in rows}


def require_enterprise(driver: Driver, database: str, enterprise_id: str) -> str | None:
    """The enterprise's name; NotFound when no enterprise has this id."""
    names = enterprise_names(driver, database, [enterprise_id])
    if enterprise_id not in names:
        raise NotFound(f"no enterprise with id {enterprise_id!r}")
    return names[enterprise_id]
