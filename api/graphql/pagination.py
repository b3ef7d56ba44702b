"""Relay-style connections for every list: one generic `Connection[T]` with `totalCount`.

`Connection[Financing]` is the GraphQL type `FinancingConnection` (edges `FinancingEdge`). A
node type whose `XConnection` name an older hand-written connection already holds gets a
named subclass (see `api/graphql/lists.py`); `page()` and `from_page()` return a plain
`Connection`, which strawberry accepts for the subclass.

Cursors are offsets, opaque to clients (`graph.enterprises.encode_cursor`); `first` is 1 to
`MAX_FIRST`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Generic, TypeVar

import strawberry

from graph.enterprises import decode_cursor, encode_cursor
from graph.errors import InvalidArgument
from graph.queries.lists import Page

MAX_FIRST = 200

T = TypeVar("T")
D = TypeVar("D")
First = Annotated[int, strawberry.argument(description=f"Page size, 1 to {MAX_FIRST}.")]
After = Annotated[
    str | None, strawberry.argument(description="The `endCursor` of the previous page.")
]


@strawberry.type
class PageInfo:
    end_cursor: str | None
    has_next_page: bool


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int = strawberry.field(description="How many match the filters in all.")


def check_first(first: int) -> int:
    if not 1 <= first <= MAX_FIRST:
        raise InvalidArgument(f"first must be between 1 and {MAX_FIRST}, got {first}")
    return first


def window(first: int, after: str | None) -> tuple[int, int]:
    """(skip, limit) of the page asked for, checked."""
    return decode_cursor(after), check_first(first)


def connection(nodes: Sequence[T], skip: int, total: int) -> Connection[T]:
    """A connection of one page of ``nodes`` that starts at offset ``skip`` of ``total``."""
    edges = [Edge(cursor=encode_cursor(skip + i + 1), node=n) for i, n in enumerate(nodes)]
    end = skip + len(nodes)
    return Connection(
        edges=edges,
        page_info=PageInfo(end_cursor=encode_cursor(end) if nodes else None,
                           has_next_page=end < total),
        total_count=total,
    )  # fmt: skip


def from_page(found: Page, convert: Callable[[dict[str, object]], T]) -> Connection[T]:
    """A connection of a page read by `graph.queries.lists` (rows converted one by one)."""
    return connection([convert(r) for r in found.rows], found.skip, found.total)


def page(
    items: Sequence[D], first: int, after: str | None, convert: Callable[[D], T]
) -> Connection[T]:
    """A connection over a list already in memory (a domain function's whole answer)."""
    skip, limit = window(first, after)
    return connection([convert(x) for x in items[skip : skip + limit]], skip, len(items))
