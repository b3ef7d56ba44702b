"""Funders (banks, factoring companies, finance companies) as `(:Funder)` nodes, and which
funder owns a record of the book.

A record of the book (application, financing, credit line, decision, ledger account) names
its funder in ``funder_id``; a record without one belongs to ``DEFAULT_FUNDER`` (the loaded
book and everything written before funders existed), so every read compares
``coalesce(x.funder_id, $default)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from neo4j import Driver, RoutingControl

from graph.model import DEFAULT_FUNDER, FunderKind, Label, Rel, declared

_F = Label.FUNDER.value

# Creates the funder once; the same id again answers what is stored (`created` false).
_SAVE_FUNDER = f"""
OPTIONAL MATCH (old:{_F} {{id: $id}})
WITH old IS NULL AS created
MERGE (f:{_F} {{id: $id}})
ON CREATE SET f += $props
RETURN f {{.*}} AS funder, created
"""
_GET_FUNDER = f"MATCH (f:{_F} {{id: $id}}) RETURN f {{.*}} AS funder"
_LIST_FUNDERS = f"MATCH (f:{_F}) RETURN f {{.*}} AS funder ORDER BY f.id"

# The funder a record of the book belongs to; no row when there is no such record.
# `label` is one of the model's labels (`OWNED_LABELS`) and `prop` its declared property,
# never a caller's string.
_FUNDER_OF = """
MATCH (n:{label} {{id: $id}})
RETURN coalesce(n.{prop}, $default) AS funder_id
"""
# Labels whose records name their funder, and the property that does: `funder_id`, except a
# voucher's, which is the funder whose line it occupies (its postings are in that book).
OWNED_LABELS: Mapping[Label, str] = {
    Label.APPLICATION: "funder_id", Label.FINANCING: "funder_id",
    Label.CREDIT_LINE: "funder_id", Label.DECISION: "funder_id", Label.ACCOUNT: "funder_id",
    Label.LINE_PROPOSAL: "funder_id", Label.VOUCHER: "line_funder_id",
}  # fmt: skip


# Alerts by funder. An alert about financings or vouchers belongs to their funders' books
# (a financing's `funder_id`, a voucher's line funder); one about neither (an asset that
# secures nothing live, a chain firm) is the shared chain's, seen by every funder. A
# predicate on `al` with `$funder` (None: every funder's) and `$default_funder`.
_ALERT_BOOKS = f"""
[(al)-[:{Rel.ABOUT.value}]->(f:{Label.FINANCING.value}) | coalesce(f.funder_id, $default_funder)]
+ [(al)-[:{Rel.ABOUT.value}]->(v:{Label.VOUCHER.value}) | coalesce(v.line_funder_id,
                                                                   $default_funder)]
"""
ALERT_IN_BOOK = f"""($funder IS NULL OR size({_ALERT_BOOKS}) = 0
  OR $funder IN {_ALERT_BOOKS})"""
_ALERT_BOOKS_OF = f"""
MATCH (al:{Label.ALERT.value} {{id: $id}})
RETURN {_ALERT_BOOKS} AS books
"""


def alert_books(driver: Driver, database: str, alert_id: str) -> list[str] | None:
    """The funders whose books an alert belongs to (empty: the shared chain's); None when
    there is no such alert."""
    records, _, _ = driver.execute_query(
        _ALERT_BOOKS_OF, id=alert_id, default_funder=DEFAULT_FUNDER, database_=database,
        routing_=RoutingControl.READ,
    )  # fmt: skip
    return sorted(set(records[0]["books"])) if records else None


@dataclass(frozen=True, slots=True)
class Funder:
    id: str
    name: str
    kind: FunderKind
    created_at: datetime | None


def _funder(row: dict[str, Any]) -> Funder:
    created = row.get("created_at")
    return Funder(
        id=str(row["id"]), name=str(row.get("name") or ""), kind=FunderKind(row["kind"]),
        created_at=created.to_native() if created is not None else None,
    )  # fmt: skip


def save_funder(
    driver: Driver, database: str, id: str, name: str, kind: FunderKind, by: str, at: datetime
) -> tuple[Funder, bool]:
    """Create a funder (idempotent by id); returns it and whether this call created it."""
    props = declared(Label.FUNDER, {"name": name, "kind": kind.value, "created_by": by,
                                    "created_at": at})  # fmt: skip
    records, _, _ = driver.execute_query(_SAVE_FUNDER, id=id, props=props, database_=database)
    return _funder(records[0]["funder"]), bool(records[0]["created"])


def get_funder(driver: Driver, database: str, id: str) -> Funder | None:
    records, _, _ = driver.execute_query(
        _GET_FUNDER, id=id, database_=database, routing_=RoutingControl.READ
    )
    return _funder(records[0]["funder"]) if records else None


def list_funders(driver: Driver, database: str) -> list[Funder]:
    records, _, _ = driver.execute_query(
        _LIST_FUNDERS, database_=database, routing_=RoutingControl.READ
    )
    return [_funder(r["funder"]) for r in records]


def funder_of(driver: Driver, database: str, label: Label, id: str) -> str | None:
    """The funder that owns record ``id`` of ``label`` (``DEFAULT_FUNDER`` when it names
    none); None when there is no such record."""
    if label not in OWNED_LABELS:
        raise ValueError(f"{label} records carry no funder")
    records, _, _ = driver.execute_query(
        _FUNDER_OF.format(label=label.value, prop=OWNED_LABELS[label]), id=id,
        default=DEFAULT_FUNDER, database_=database, routing_=RoutingControl.READ,
    )  # fmt: skip
    return str(records[0]["funder_id"]) if records else None
