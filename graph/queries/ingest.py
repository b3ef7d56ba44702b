"""Cypher for loading ingest files, and the derived SUPPLIES aggregates.

Every statement is an `UNWIND $rows` batch that MERGEs nodes on their constrained `id` and
relationships on their endpoints (plus `id` where they have one), so that the same rows
written twice give the same graph. A batch and its `IngestBatch` marker are written in one
managed transaction: after a crash a batch is either wholly there, marker included, or not at
all, which is what lets the loader skip committed batches on a re-run.

Node rows are flat maps of the file's converted fields; endpoints are MATCHed (the loader has
checked that they exist), optional ones through OPTIONAL MATCH.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from neo4j import (
    READ_ACCESS,
    Driver,
    ManagedTransaction,
    RoutingControl,
)

from graph.model import Label, Rel

L, R = Label, Rel


def _merge_node(label: Label, props: tuple[str, ...]) -> str:
    # Properties are named one by one: a dynamic `SET n += map` makes the planner insert
    # Eager operators (it cannot rule out conflicts with the id lookups), halving throughput.
    # "prop:field" sets a property from a differently named row field.
    pairs = [(p.partition(":")[0], p.partition(":")[2] or p) for p in props]
    sets = "".join(f", n.{prop} = row.{key}" for prop, key in pairs)
    return (
        f"UNWIND $rows AS row\n"
        f"MERGE (n:{label} {{id: row.id}})\n"
        f"ON CREATE SET n.loaded_at = $loaded_at\n"
        f"SET n.source_file = $source_file{sets}\n"
    )


def _link(var: str, label: Label, key: str, pattern: str) -> str:
    """Link `n` to an optional endpoint: `pattern` uses `n` and `var` (e.g. `(n)-[:X]->(m)`)."""
    return (
        f"WITH n, row\n"
        f"OPTIONAL MATCH ({var}:{label} {{id: row.{key}}})\n"
        f"FOREACH (_ IN CASE WHEN {var} IS NULL THEN [] ELSE [1] END | MERGE {pattern})\n"
    )


def _link_set(var: str, label: Label, key: str, pattern: str, set_clause: str) -> str:
    """Like `_link`, with properties set on the relationship `r` of `pattern`."""
    return (
        f"WITH n, row\n"
        f"OPTIONAL MATCH ({var}:{label} {{id: row.{key}}})\n"
        f"FOREACH (_ IN CASE WHEN {var} IS NULL THEN [] ELSE [1] END |\n"
        f"  MERGE {pattern} SET {set_clause})\n"
    )


# The properties each node file sets (beside id, source_file and loaded_at). Invoices and
# shipments keep their qty as `quantity` on the node (and as `qty` on FOR/OF, per the model):
# one key for both would make the planner add an Eager operator.
NODE_PROPS: dict[Label, tuple[str, ...]] = {
    L.ADDRESS: ("text", "region_code"),
    L.PHONE: ("number",),
    L.GOODS: ("name", "hs_code", "category", "unit"),
    L.PERSON: ("name", "id_hash", "birth_date", "nationality", "address", "phone", "email"),
    L.ENTERPRISE: (
        "name",
        "name_en",
        "uscc",
        "uscc_valid",
        "uscc_problem",
        "legal_form",
        "region_code",
        "industry_code",
        "registered_capital",
        "currency",
        "founded_on",
        "status",
        "is_core",
    ),
    L.WAREHOUSE: ("name", "region_code"),
    L.CONTRACT: ("kind", "amount", "currency", "signed_on", "due_on", "status"),
    L.INVOICE: ("quantity:qty", "amount", "tax", "currency", "issued_on", "due_on", "status"),
    L.SHIPMENT: ("quantity:qty", "shipped_on", "received_on"),
    L.PAYMENT: ("amount", "currency", "paid_on"),
    L.ASSET: ("kind", "quantity", "unit", "unit_value", "currency", "status"),
    L.SENSOR: ("kind", "installed_on", "last_seen"),
    L.FINANCING: (
        "product_kind",
        "lender",
        "amount_minor",
        "outstanding_minor",
        "currency",
        "start_on",
        "maturity_on",
        "status",
        "origin",
        "borrower_id",
    ),
    L.SOURCE_RECORD: (
        "source",
        "name",
        "name_en",
        "uscc",
        "legacy_org_code",
        "registration_no",
        "legal_form",
        "region_code",
        "address",
        "phone",
        "legal_rep",
        "country",
        "city",
        "aliases",
        "identifiers",
    ),
    L.CASE: ("enterprise_id", "outcome", "decided_on", "source", "alert_id", "note"),
}

# The single-valued references of each node file: (relationship, direction seen from the
# node, the row expression naming the other end's id).
_REFERENCES: dict[str, tuple[Label, tuple[tuple[Rel, str, str], ...]]] = {
    "enterprises": (L.ENTERPRISE, ((R.LOCATED_AT, "out", "row.address_id"),
                                   (R.HAS_PHONE, "out", "row.phone_id"))),
    "warehouses": (L.WAREHOUSE, ((R.OPERATES, "in", "row.operator_id"),)),
    "contracts": (L.CONTRACT, ((R.PARTY, "in", "CASE old.role WHEN 'seller' THEN row.seller_id "
                                               "ELSE row.buyer_id END"),)),
    "invoices": (L.INVOICE, ((R.SELLER, "out", "row.seller_id"), (R.BUYER, "out", "row.buyer_id"),
                             (R.UNDER, "out", "row.contract_id"), (R.FOR, "out", "row.goods_id"))),
    "shipments": (L.SHIPMENT, ((R.FROM, "out", "row.from_id"), (R.TO, "out", "row.to_id"),
                               (R.UNDER, "out", "row.contract_id"),
                               (R.DELIVERS, "out", "row.invoice_id"),
                               (R.OF, "out", "row.goods_id"),
                               (R.STORED_AT, "out", "row.warehouse_id"))),
    "payments": (L.PAYMENT, ((R.SETTLES, "out", "row.invoice_id"),
                             (R.PAID_BY, "out", "row.payer_id"),
                             (R.PAID_TO, "out", "row.payee_id"))),
    "assets": (L.ASSET, ((R.OWNS, "in", "row.owner_id"), (R.OF, "out", "row.goods_id"),
                         (R.STORED_AT, "out", "row.warehouse_id"))),
    "sensors": (L.SENSOR, ((R.MONITORS, "out", "row.asset_id"),
                           (R.INSTALLED_AT, "out", "row.warehouse_id"))),
    "financings": (L.FINANCING, ((R.BORROWER, "out", "row.borrower_id"),)),
    "enterprise_records": (L.SOURCE_RECORD, ((R.RESOLVES_TO, "out", "row.enterprise_id"),)),
    "cases": (L.CASE, ((R.CONCERNS, "out", "row.enterprise_id"),
                       (R.ON_ALERT, "out", "row.alert_id"))),
}  # fmt: skip


def _drop_changed(label: Label, refs: tuple[tuple[Rel, str, str], ...]) -> str:
    """Delete the reference relationships of already loaded nodes that no longer match their
    row, so that a re-ingested row whose seller, owner, ... changed leaves nothing pointing at
    the old one; a row without the reference drops it.

    It runs as its own statement before the MERGE one: inside it, deleting and merging the
    same relationship types would make the planner add Eager operators. On a first load no
    node exists yet and it costs one index miss per row.
    """
    parts = [f"UNWIND $rows AS row\nMATCH (n:{label} {{id: row.id}})\n"]
    for direction in ("out", "in"):
        mine = [(rel, key) for rel, d, key in refs if d == direction]
        if not mine:
            continue
        left, right = ("-", "->") if direction == "out" else ("<-", "-")
        types = "|".join(str(rel) for rel, _ in mine)
        whens = " ".join(f"WHEN '{rel}' THEN {key}" for rel, key in mine)
        parts.append(
            f"CALL (n, row) {{\n"
            f"  MATCH (n){left}[old:{types}]{right}(x)\n"
            f"  WITH old, x, CASE type(old) {whens} END AS wanted\n"
            f"  WHERE coalesce(x.id <> wanted, true)\n"
            f"  DELETE old\n"
            f"}}\n"
        )
    return "".join(parts)


DROP_CHANGED: dict[str, str] = {
    file: _drop_changed(label, refs) for file, (label, refs) in _REFERENCES.items()
}
# The row fields DROP_CHANGED reads: only these travel with it (whole rows would double what
# each batch sends to the server).
_DROP_FIELDS: dict[str, tuple[str, ...]] = {
    file: ("id", *sorted({f for _, _, key in refs for f in re.findall(r"row\.(\w+)", key)}))
    for file, (_, refs) in _REFERENCES.items()
}

NODE_QUERIES: dict[str, str] = {
    "addresses": _merge_node(L.ADDRESS, NODE_PROPS[L.ADDRESS]),
    "phones": _merge_node(L.PHONE, NODE_PROPS[L.PHONE]),
    "goods": _merge_node(L.GOODS, NODE_PROPS[L.GOODS]),
    "persons": _merge_node(L.PERSON, NODE_PROPS[L.PERSON]),
    "enterprises": _merge_node(L.ENTERPRISE, NODE_PROPS[L.ENTERPRISE])
    + _link("a", L.ADDRESS, "address_id", f"(n)-[:{R.LOCATED_AT}]->(a)")
    + _link("p", L.PHONE, "phone_id", f"(n)-[:{R.HAS_PHONE}]->(p)"),
    "warehouses": _merge_node(L.WAREHOUSE, NODE_PROPS[L.WAREHOUSE])
    + "SET n.geo = CASE WHEN row.lat IS NULL OR row.lon IS NULL THEN null\n"
    "  ELSE point({latitude: row.lat, longitude: row.lon}) END\n"
    + _link("o", L.ENTERPRISE, "operator_id", f"(o)-[:{R.OPERATES}]->(n)"),
    "contracts": _merge_node(L.CONTRACT, NODE_PROPS[L.CONTRACT]) + "WITH n, row\n"
    f"MATCH (s:{L.ENTERPRISE} {{id: row.seller_id}})\n"
    f"MATCH (b:{L.ENTERPRISE} {{id: row.buyer_id}})\n"
    f"MERGE (s)-[:{R.PARTY} {{role: 'seller'}}]->(n)\n"
    f"MERGE (b)-[:{R.PARTY} {{role: 'buyer'}}]->(n)\n",
    "invoices": _merge_node(L.INVOICE, NODE_PROPS[L.INVOICE]) + "WITH n, row\n"
    f"MATCH (s:{L.ENTERPRISE} {{id: row.seller_id}})\n"
    f"MATCH (b:{L.ENTERPRISE} {{id: row.buyer_id}})\n"
    f"MERGE (n)-[:{R.SELLER}]->(s)\n"
    f"MERGE (n)-[:{R.BUYER}]->(b)\n"
    + _link("c", L.CONTRACT, "contract_id", f"(n)-[:{R.UNDER}]->(c)")
    + _link_set("g", L.GOODS, "goods_id", f"(n)-[r:{R.FOR}]->(g)", "r.qty = row.qty"),
    "shipments": _merge_node(L.SHIPMENT, NODE_PROPS[L.SHIPMENT]) + "WITH n, row\n"
    f"MATCH (f:{L.ENTERPRISE} {{id: row.from_id}})\n"
    f"MATCH (t:{L.ENTERPRISE} {{id: row.to_id}})\n"
    f"MERGE (n)-[:{R.FROM}]->(f)\n"
    f"MERGE (n)-[:{R.TO}]->(t)\n"
    + _link("c", L.CONTRACT, "contract_id", f"(n)-[:{R.UNDER}]->(c)")
    + _link("i", L.INVOICE, "invoice_id", f"(n)-[:{R.DELIVERS}]->(i)")
    + _link_set("g", L.GOODS, "goods_id", f"(n)-[r:{R.OF}]->(g)", "r.qty = row.qty")
    + _link("w", L.WAREHOUSE, "warehouse_id", f"(n)-[:{R.STORED_AT}]->(w)"),
    "payments": _merge_node(L.PAYMENT, NODE_PROPS[L.PAYMENT]) + "WITH n, row\n"
    f"MATCH (i:{L.INVOICE} {{id: row.invoice_id}})\n"
    f"MATCH (p:{L.ENTERPRISE} {{id: row.payer_id}})\n"
    f"MATCH (q:{L.ENTERPRISE} {{id: row.payee_id}})\n"
    f"MERGE (n)-[:{R.SETTLES}]->(i)\n"
    f"MERGE (n)-[:{R.PAID_BY}]->(p)\n"
    f"MERGE (n)-[:{R.PAID_TO}]->(q)\n",
    "assets": _merge_node(L.ASSET, NODE_PROPS[L.ASSET]) + "WITH n, row\n"
    f"MATCH (o:{L.ENTERPRISE} {{id: row.owner_id}})\n"
    f"MERGE (o)-[:{R.OWNS}]->(n)\n"
    + _link("g", L.GOODS, "goods_id", f"(n)-[:{R.OF}]->(g)")
    + _link("w", L.WAREHOUSE, "warehouse_id", f"(n)-[:{R.STORED_AT}]->(w)"),
    "sensors": _merge_node(L.SENSOR, NODE_PROPS[L.SENSOR])
    + _link("a", L.ASSET, "asset_id", f"(n)-[:{R.MONITORS}]->(a)")
    + _link("w", L.WAREHOUSE, "warehouse_id", f"(n)-[:{R.INSTALLED_AT}]->(w)"),
    "financings": _merge_node(L.FINANCING, NODE_PROPS[L.FINANCING]) + "WITH n, row\n"
    f"MATCH (b:{L.ENTERPRISE} {{id: row.borrower_id}})\n"
    f"MERGE (n)-[:{R.BORROWER}]->(b)\n",
    "enterprise_records": _merge_node(L.SOURCE_RECORD, NODE_PROPS[L.SOURCE_RECORD])
    + _link_set(
        "e",
        L.ENTERPRISE,
        "enterprise_id",
        f"(n)-[r:{R.RESOLVES_TO}]->(e)",
        "r.score = row.score, r.method = row.method",
    ),
    # A loaded case is a decided one: `disposition` is left to the analysts' history.
    "cases": _merge_node(L.CASE, NODE_PROPS[L.CASE]) + "WITH n, row\n"
    f"MATCH (e:{L.ENTERPRISE} {{id: row.enterprise_id}})\n"
    f"MERGE (n)-[:{R.CONCERNS}]->(e)\n"
    + _link("a", L.ALERT, "alert_id", f"(n)-[:{R.ON_ALERT}]->(a)"),
}


def _holds(holder: Label) -> str:
    return (
        "UNWIND $rows AS row\n"
        f"MATCH (h:{holder} {{id: row.holder_id}})\n"
        f"MATCH (e:{L.ENTERPRISE} {{id: row.enterprise_id}})\n"
        f"MERGE (h)-[r:{R.HOLDS}]->(e)\n"
        "SET r.pct = row.pct, r.since = row.since, r.source_file = $source_file\n"
    )


def _guarantees(guarantor: Label) -> str:
    return (
        "UNWIND $rows AS row\n"
        f"MATCH (g:{guarantor} {{id: row.guarantor_id}})\n"
        f"MATCH (e:{L.ENTERPRISE} {{id: row.beneficiary_id}})\n"
        f"MERGE (g)-[r:{R.GUARANTEES} {{id: row.id}}]->(e)\n"
        "SET r.amount = row.amount, r.currency = row.currency, r.signed_on = row.signed_on,\n"
        "    r.expires_on = row.expires_on, r.source_file = $source_file\n"
    )


def _pledges(collateral: Label, rel: Rel) -> str:
    return (
        "UNWIND $rows AS row\n"
        f"MATCH (c:{collateral} {{id: row.collateral_id}})\n"
        f"MATCH (f:{L.FINANCING} {{id: row.financing_id}})\n"
        f"MERGE (c)-[r:{rel} {{id: row.id}}]->(f)\n"
        "SET r.pledged_on = row.pledged_on, r.source_file = $source_file\n"
    )


# Relationship files: (file, kind value) -> query; the kind picks the endpoint label.
REL_QUERIES: dict[tuple[str, str | None], str] = {
    ("holdings", "person"): _holds(L.PERSON),
    ("holdings", "enterprise"): _holds(L.ENTERPRISE),
    ("roles", None): (
        "UNWIND $rows AS row\n"
        f"MATCH (p:{L.PERSON} {{id: row.person_id}})\n"
        f"MATCH (e:{L.ENTERPRISE} {{id: row.enterprise_id}})\n"
        f"MERGE (p)-[r:{R.ROLE} {{kind: row.kind}}]->(e)\n"
        "SET r.source_file = $source_file\n"
    ),
    ("guarantees", "person"): _guarantees(L.PERSON),
    ("guarantees", "enterprise"): _guarantees(L.ENTERPRISE),
    ("goods_inputs", None): (
        "UNWIND $rows AS row\n"
        f"MATCH (a:{L.GOODS} {{id: row.input_id}})\n"
        f"MATCH (b:{L.GOODS} {{id: row.output_id}})\n"
        f"MERGE (a)-[r:{R.INPUT_TO}]->(b)\n"
        "SET r.source_file = $source_file\n"
    ),
    ("pledges", "invoice"): _pledges(L.INVOICE, R.ASSIGNED_TO),
    ("pledges", "asset"): _pledges(L.ASSET, R.PLEDGED_TO),
}

MARK_BATCH = f"""
MERGE (b:{L.INGEST_BATCH} {{id: $id}})
ON CREATE SET b.folder_hash = $folder_hash, b.file = $file, b.batch_no = $batch_no,
              b.rows = $rows, b.committed_at = datetime()
"""

COMMITTED_BATCHES = f"""
MATCH (b:{L.INGEST_BATCH}) WHERE b.id STARTS WITH $prefix
RETURN b.id AS id
"""

_EXISTING = {
    label: f"UNWIND $ids AS id MATCH (n:{label} {{id: id}}) RETURN collect(n.id) AS found"
    for label in Label
}


@dataclass(frozen=True, slots=True)
class BatchMark:
    """The `IngestBatch` marker written in the same transaction as its rows."""

    id: str
    folder_hash: str
    file: str
    batch_no: int
    rows: int


@dataclass(frozen=True, slots=True)
class Statement:
    query: str
    rows: list[dict[str, Any]]


def node_statements(file: str, rows: list[dict[str, Any]]) -> list[Statement]:
    """The statements that write a batch of a node file: stale references out, then MERGE."""
    merge = Statement(NODE_QUERIES[file], rows)
    if file not in DROP_CHANGED:
        return [merge]
    fields = _DROP_FIELDS[file]
    slim = [{f: row.get(f) for f in fields} for row in rows]
    return [Statement(DROP_CHANGED[file], slim), merge]


def rel_statement(file: str, kind: str | None, rows: list[dict[str, Any]]) -> Statement:
    return Statement(REL_QUERIES[(file, kind)], rows)


def write_batch(
    driver: Driver,
    database: str,
    statements: Sequence[Statement],
    *,
    source_file: str,
    loaded_at: datetime,
    mark: BatchMark | None,
) -> None:
    """Write the statements and the batch marker in one managed (retried) transaction."""

    def work(tx: ManagedTransaction) -> None:
        for st in statements:
            if st.rows:
                params = {"rows": st.rows, "source_file": source_file, "loaded_at": loaded_at}
                tx.run(st.query, params).consume()
        if mark is not None:
            tx.run(
                MARK_BATCH, id=mark.id, folder_hash=mark.folder_hash, file=mark.file,
                batch_no=mark.batch_no, rows=mark.rows,
            ).consume()  # fmt: skip

    with driver.session(database=database) as session:
        session.execute_write(work)


def committed_batches(driver: Driver, database: str, prefix: str) -> set[str]:
    """Ids of the `IngestBatch` markers whose id starts with `prefix`."""
    records, _, _ = driver.execute_query(
        COMMITTED_BATCHES, prefix=prefix, database_=database, routing_=RoutingControl.READ
    )
    return {r["id"] for r in records}


def existing_ids(driver: Driver, database: str, label: Label, ids: Iterable[str]) -> set[str]:
    """Which of `ids` exist as nodes of `label` (for references to nodes loaded earlier)."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    records, _, _ = driver.execute_query(
        _EXISTING[label], ids=wanted, database_=database, routing_=RoutingControl.READ
    )
    return set(records[0]["found"]) if records else set()


# ---- SUPPLIES -----------------------------------------------------------------------------
SELLERS = f"""
MATCH (s:{L.ENTERPRISE}) WHERE EXISTS {{ (s)<-[:{R.SELLER}]-(:{L.INVOICE}) }}
RETURN s.id AS id ORDER BY id
"""

SELLERS_WITH_SUPPLIES = f"""
MATCH (s:{L.ENTERPRISE}) WHERE EXISTS {{ (s)-[:{R.SUPPLIES}]->() }}
RETURN s.id AS id ORDER BY id
"""

LATEST_INVOICE_DATE = f"""
MATCH (i:{L.INVOICE}) WHERE i.issued_on IS NOT NULL
RETURN max(i.issued_on) AS latest
"""

# Recomputes SUPPLIES of a batch of sellers from their non-void invoices: the old edges of
# these sellers are deleted and rebuilt in the same transaction, so the result depends only
# on the invoices and `as_of`. Amounts sum CNY invoices only (money of different currencies
# is never added); counts include every non-void invoice.
RECOMPUTE_SUPPLIES = f"""
UNWIND $seller_ids AS sid
MATCH (s:{L.ENTERPRISE} {{id: sid}})
CALL (s) {{
  MATCH (s)-[old:{R.SUPPLIES}]->()
  DELETE old
}}
CALL (s) {{
  MATCH (s)<-[:{R.SELLER}]-(i:{L.INVOICE})-[:{R.BUYER}]->(b:{L.ENTERPRISE})
  WHERE coalesce(i.status, '') <> 'void' AND i.issued_on <= $as_of
  WITH b, i,
       CASE WHEN coalesce(i.currency, 'CNY') = 'CNY' THEN i.amount ELSE 0 END AS cny,
       i.issued_on > $since AS recent
  WITH b, count(i) AS invoices_total, sum(cny) AS amount_total,
       sum(CASE WHEN recent THEN 1 ELSE 0 END) AS invoices_12m,
       sum(CASE WHEN recent THEN cny ELSE 0 END) AS amount_12m,
       min(i.issued_on) AS first_on, max(i.issued_on) AS last_on
  CREATE (s)-[r:{R.SUPPLIES} {{
    amount_12m: amount_12m, invoices_12m: invoices_12m, amount_total: amount_total,
    invoices_total: invoices_total, first_on: first_on, last_on: last_on,
    currency: 'CNY', as_of: $as_of
  }}]->(b)
  RETURN count(r) AS created
}}
RETURN sum(created) AS created
"""


def supplies_sellers(driver: Driver, database: str) -> list[str]:
    """Enterprises that sell on some invoice or still have SUPPLIES edges (to rebuild)."""
    ids: set[str] = set()
    # SUPPLIES is a registered token (`graph.schema.register_vocabulary`, run by `db init`
    # and before every load), so reading it before the first edge exists raises no warning.
    with driver.session(database=database, default_access_mode=READ_ACCESS) as session:
        for query in (SELLERS, SELLERS_WITH_SUPPLIES):
            ids.update(session.execute_read(_ids, query))
    return sorted(ids)


def _ids(tx: ManagedTransaction, query: str) -> list[str]:
    return [r["id"] for r in tx.run(query)]


def latest_invoice_date(driver: Driver, database: str) -> date | None:
    records, _, _ = driver.execute_query(
        LATEST_INVOICE_DATE, database_=database, routing_=RoutingControl.READ
    )
    latest = records[0]["latest"] if records else None
    return latest.to_native() if latest is not None else None


def recompute_supplies_batch(
    driver: Driver, database: str, seller_ids: list[str], *, as_of: date, since: date
) -> int:
    """Rebuild the SUPPLIES edges of `seller_ids`; returns how many edges now exist."""

    def work(tx: ManagedTransaction) -> int:
        record = tx.run(
            RECOMPUTE_SUPPLIES, seller_ids=seller_ids, as_of=as_of, since=since
        ).single()
        return int(record["created"]) if record and record["created"] is not None else 0

    with driver.session(database=database) as session:
        return session.execute_write(work)


# ---- the benchmark's baseline -------------------------------------------------------------
# `bench/ingest.py` compares the loader with the plainest loading one could hand-write: CREATE
# nodes, then MATCH both endpoints and CREATE each relationship; no MERGE, no validation, no
# markers. It lives here because only `graph/` speaks Cypher.
def baseline_create_nodes(label: Label) -> str:
    return f"UNWIND $rows AS row CREATE (n:{label}) SET n = row"


def baseline_create_rels(start: Label, rel: Rel, end: Label) -> str:
    return (
        f"UNWIND $rows AS row MATCH (a:{start} {{id: row.a}}) MATCH (b:{end} {{id: row.b}}) "
        f"CREATE (a)-[r:{rel}]->(b) SET r += row.p"
    )


def baseline_write(driver: Driver, database: str, statements: Sequence[Statement]) -> None:
    """Run the statements of one baseline batch in one transaction."""

    def work(tx: ManagedTransaction) -> None:
        for st in statements:
            if st.rows:
                tx.run(st.query, rows=st.rows).consume()

    with driver.session(database=database) as session:
        session.execute_write(work)
