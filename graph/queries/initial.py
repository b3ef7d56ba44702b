"""A first load as `neo4j-admin database import full` input: what the ingest queries make.

`ingest.initial` writes the validated rows of an ingest folder as the offline importer's CSV
files instead of running `graph.queries.ingest`'s statements. For the two paths to make the
same graph, the shape of every node and relationship is declared here, beside those
statements and from the same property lists (`NODE_PROPS`): a node file's node, the
relationships its references make (`NODE_LINKS`, as `NODE_QUERIES` MERGEs them), the
relationship files (`REL_FILE_LINKS`, as `REL_QUERIES`), the batch markers and the derived
SUPPLIES edges (as `RECOMPUTE_SUPPLIES` computes them).

A property is `(property, row field)`; the field `$source_file` is the file's name and
`$loaded_at` the load's time, as the statements' parameters of the same names.
"""

from __future__ import annotations

from dataclasses import dataclass

from neo4j import Driver, RoutingControl

from graph.model import Label, Rel
from graph.queries.ingest import NODE_PROPS

L, R = Label, Rel

SOURCE_FILE = "$source_file"
LOADED_AT = "$loaded_at"


def _pairs(props: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((p.partition(":")[0], p.partition(":")[2] or p) for p in props)


def node_properties(label: Label) -> tuple[tuple[str, str], ...]:
    """The properties a node file's statement sets, beside the `id` key (in this order)."""
    return (("loaded_at", LOADED_AT), ("source_file", SOURCE_FILE), *_pairs(NODE_PROPS[label]))


@dataclass(frozen=True, slots=True)
class Link:
    """A relationship a node file's row makes to another node (None field value: none).

    `out`: from the row's node to the other one; else from the other one to the row's node.
    """

    rel: Rel
    out: bool
    field: str
    other: Label
    props: tuple[tuple[str, str], ...] = ()
    fixed: tuple[tuple[str, str], ...] = ()  # constant properties, e.g. PARTY's role


def _o(rel: Rel, field: str, other: Label, *props: str) -> Link:
    return Link(rel, True, field, other, _pairs(props))


NODE_LINKS: dict[str, tuple[Link, ...]] = {
    "enterprises": (_o(R.LOCATED_AT, "address_id", L.ADDRESS),
                    _o(R.HAS_PHONE, "phone_id", L.PHONE)),
    "warehouses": (Link(R.OPERATES, False, "operator_id", L.ENTERPRISE),),
    "contracts": (Link(R.PARTY, False, "seller_id", L.ENTERPRISE, fixed=(("role", "seller"),)),
                  Link(R.PARTY, False, "buyer_id", L.ENTERPRISE, fixed=(("role", "buyer"),))),
    "invoices": (_o(R.SELLER, "seller_id", L.ENTERPRISE), _o(R.BUYER, "buyer_id", L.ENTERPRISE),
                 _o(R.UNDER, "contract_id", L.CONTRACT), _o(R.FOR, "goods_id", L.GOODS, "qty")),
    "shipments": (_o(R.FROM, "from_id", L.ENTERPRISE), _o(R.TO, "to_id", L.ENTERPRISE),
                  _o(R.UNDER, "contract_id", L.CONTRACT), _o(R.DELIVERS, "invoice_id", L.INVOICE),
                  _o(R.OF, "goods_id", L.GOODS, "qty"),
                  _o(R.STORED_AT, "warehouse_id", L.WAREHOUSE)),
    "payments": (_o(R.SETTLES, "invoice_id", L.INVOICE), _o(R.PAID_BY, "payer_id", L.ENTERPRISE),
                 _o(R.PAID_TO, "payee_id", L.ENTERPRISE)),
    "assets": (Link(R.OWNS, False, "owner_id", L.ENTERPRISE), _o(R.OF, "goods_id", L.GOODS),
               _o(R.STORED_AT, "warehouse_id", L.WAREHOUSE)),
    "sensors": (_o(R.MONITORS, "asset_id", L.ASSET),
                _o(R.INSTALLED_AT, "warehouse_id", L.WAREHOUSE)),
    "financings": (_o(R.BORROWER, "borrower_id", L.ENTERPRISE),),
    "enterprise_records": (_o(R.RESOLVES_TO, "enterprise_id", L.ENTERPRISE, "score", "method"),),
    # A case's alert link needs an Alert node, which a first load never has.
    "cases": (_o(R.CONCERNS, "enterprise_id", L.ENTERPRISE),),
}  # fmt: skip

# Warehouses also get `geo`, a WGS-84 point from the row's lat and lon (both, or none).
GEO = ("geo", "lat", "lon")


@dataclass(frozen=True, slots=True)
class FileLink:
    """The relationship one row of a relationship file makes."""

    rel: Rel
    start: Label
    start_field: str
    end: Label
    end_field: str
    props: tuple[tuple[str, str], ...]


_HOLDER = {"person": L.PERSON, "enterprise": L.ENTERPRISE}


def _holds(holder: Label) -> FileLink:
    return FileLink(R.HOLDS, holder, "holder_id", L.ENTERPRISE, "enterprise_id",
                    (("pct", "pct"), ("since", "since"), ("source_file", SOURCE_FILE)))  # fmt: skip


def _guarantees(guarantor: Label) -> FileLink:
    return FileLink(R.GUARANTEES, guarantor, "guarantor_id", L.ENTERPRISE, "beneficiary_id",
                    (*_pairs(("id", "amount", "currency", "signed_on", "expires_on")),
                     ("source_file", SOURCE_FILE)))  # fmt: skip


def _pledges(collateral: Label, rel: Rel) -> FileLink:
    return FileLink(rel, collateral, "collateral_id", L.FINANCING, "financing_id",
                    (("id", "id"), ("pledged_on", "pledged_on"),
                     ("source_file", SOURCE_FILE)))  # fmt: skip


# Relationship files: (file, the value of its kind field) -> the relationship (as REL_QUERIES).
REL_FILE_KIND: dict[str, str | None] = {
    "holdings": "holder_kind", "roles": None, "guarantees": "guarantor_kind",
    "goods_inputs": None, "pledges": "collateral_kind",
}  # fmt: skip
REL_FILE_LINKS: dict[tuple[str, str | None], FileLink] = {
    ("holdings", "person"): _holds(L.PERSON),
    ("holdings", "enterprise"): _holds(L.ENTERPRISE),
    ("roles", None): FileLink(R.ROLE, L.PERSON, "person_id", L.ENTERPRISE, "enterprise_id",
                              (("kind", "kind"), ("source_file", SOURCE_FILE))),
    ("guarantees", "person"): _guarantees(L.PERSON),
    ("guarantees", "enterprise"): _guarantees(L.ENTERPRISE),
    ("goods_inputs", None): FileLink(R.INPUT_TO, L.GOODS, "input_id", L.GOODS, "output_id",
                                     (("source_file", SOURCE_FILE),)),
    ("pledges", "invoice"): _pledges(L.INVOICE, R.ASSIGNED_TO),
    ("pledges", "asset"): _pledges(L.ASSET, R.PLEDGED_TO),
}  # fmt: skip

# The batch markers (as MARK_BATCH writes them) and the derived SUPPLIES edges (as
# RECOMPUTE_SUPPLIES creates them).
BATCH_LABEL = L.INGEST_BATCH
BATCH_PROPS = ("folder_hash", "file", "batch_no", "rows", "committed_at")
SUPPLIES = R.SUPPLIES
SUPPLIES_PROPS = ("amount_12m", "invoices_12m", "amount_total", "invoices_total", "first_on",
                  "last_on", "currency", "as_of")  # fmt: skip
VOID_INVOICE = "void"  # RECOMPUTE_SUPPLIES leaves void invoices out
SUPPLIES_CURRENCY = "CNY"  # and sums only these amounts

ANY_NODE = "MATCH (n) RETURN count(n) > 0 AS any"


def has_nodes(driver: Driver, database: str) -> bool:
    """Whether the database holds any node at all (an initial load needs it empty)."""
    records, _, _ = driver.execute_query(ANY_NODE, database_=database, routing_=RoutingControl.READ)
    return bool(records and records[0]["any"])
