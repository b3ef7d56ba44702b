"""Cypher for risk scoring: exposure export, feature export and score write-back.

Exports page through enterprises by their unique ``id`` (keyset pagination over the
constraint's index: ``WHERE e.id > $after ORDER BY e.id LIMIT $limit``), then expand each
page's relationships with ``UNWIND $ids``; memory stays bounded by the page size whatever
the graph's size. Aggregation per (creditor, debtor) pair happens in Cypher so that a core
enterprise with many invoices returns one row per counterparty.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from neo4j import (
    READ_ACCESS,
    Driver,
    ManagedTransaction,
    Result,
)

from graph.model import FINANCING_OUTSTANDING, VOUCHER_OPEN, Label, Rel, values

_E = Label.ENTERPRISE.value

ENTERPRISE_PAGE = f"""
MATCH (e:{_E})
WHERE e.id > $after
WITH e ORDER BY e.id LIMIT $limit
RETURN e.id AS id, e.name AS name, e.registered_capital AS registered_capital,
       coalesce(e.is_core, false) AS is_core, e.status AS status,
       e.founded_on AS founded_on, e.region_code AS region_code,
       e.industry_code AS industry_code
"""

# Seller is exposed to buyer for what is still unpaid. Without `as_of` the invoice status
# decides (paid and void invoices are settled); with `as_of` only invoices issued by then
# count and only payments made by then are subtracted.
TRADE_EXPOSURES = f"""
UNWIND $ids AS sid
MATCH (s:{_E} {{id: sid}})<-[:{Rel.SELLER.value}]-(i:{Label.INVOICE.value})
      -[:{Rel.BUYER.value}]->(b:{_E})
WHERE coalesce(i.status, 'issued') <> 'void'
  AND ($as_of IS NULL OR i.issued_on <= $as_of)
  AND ($as_of IS NOT NULL OR coalesce(i.status, 'issued') <> 'paid')
CALL (i) {{
  OPTIONAL MATCH (p:{Label.PAYMENT.value})-[:{Rel.SETTLES.value}]->(i)
  WHERE $as_of IS NULL OR p.paid_on <= $as_of
  RETURN coalesce(sum(p.amount), 0) AS paid
}}
WITH s, b, i.amount + coalesce(i.tax, 0) - paid AS outstanding
WHERE outstanding > 0 AND s <> b
RETURN s.id AS creditor, b.id AS debtor, sum(outstanding) AS amount
"""

# A guarantor stands to pay for its beneficiary: exposed for the guaranteed amount while
# the guarantee is in force.
GUARANTEE_EXPOSURES = f"""
WITH coalesce($as_of, date()) AS at
UNWIND $ids AS gid
MATCH (g:{_E} {{id: gid}})-[r:{Rel.GUARANTEES.value}]->(b:{_E})
WHERE (r.signed_on IS NULL OR r.signed_on <= at)
  AND (r.expires_on IS NULL OR r.expires_on >= at) AND g <> b
RETURN g.id AS creditor, b.id AS debtor, sum(r.amount) AS amount
"""

# A holder of an e-credit voucher is owed by its issuer; only leaves of the split tree are
# live holdings (a split voucher lives on in its parts).
VOUCHER_EXPOSURES = f"""
UNWIND $ids AS hid
MATCH (h:{_E} {{id: hid}})<-[:{Rel.HELD_BY.value}]-(v:{Label.VOUCHER.value})
      -[:{Rel.ISSUED_BY.value}]->(i:{_E})
WHERE v.status IN $open_vouchers AND h <> i
RETURN h.id AS creditor, i.id AS debtor, sum(v.face_minor) AS amount
"""

# An enterprise shareholder loses its share of the held firm's equity.
EQUITY_EXPOSURES = f"""
UNWIND $ids AS hid
MATCH (h:{_E} {{id: hid}})-[r:{Rel.HOLDS.value}]->(t:{_E})
WITH h, t, toFloat(r.pct) / 100.0 * coalesce(t.registered_capital, 0) AS value
WHERE value > 0 AND h <> t
RETURN h.id AS creditor, t.id AS debtor, toInteger(round(sum(value))) AS amount
"""

# Lenders' live financings per borrower: the lender's exposure hit in a "what if".
FINANCING_EXPOSURES = f"""
UNWIND $ids AS bid
MATCH (f:{Label.FINANCING.value})-[:{Rel.BORROWER.value}]->(e:{_E} {{id: bid}})
WHERE f.status IN $outstanding
RETURN e.id AS borrower, f.lender AS lender,
       sum(f.outstanding_minor) AS amount, count(f) AS financings
"""

# The latest scores on the enterprise, and the run's in its history (a `Score` keyed by the
# enterprise, the model version and the run's time), for point-in-time reads.
WRITE_SCORES = f"""
UNWIND $rows AS row
MATCH (e:{_E} {{id: row.id}})
SET e.fraud_score = row.fraud_score,
    e.default_score = row.default_score,
    e.score_model_version = $model_version,
    e.scored_at = $scored_at,
    e.score_explanation = row.explanation
MERGE (s:{Label.SCORE.value} {{id: row.id + '@' + $model_version + '@' + $run}})
ON CREATE SET s.fraud_score = row.fraud_score, s.default_score = row.default_score,
              s.model_version = $model_version, s.scored_at = $scored_at
MERGE (e)-[:{Rel.SCORED.value}]->(s)
"""

READ_SCORES = f"""
UNWIND $ids AS id
MATCH (e:{_E} {{id: id}})
RETURN e.id AS id, e.fraud_score AS fraud_score, e.default_score AS default_score,
       e.score_model_version AS model_version, e.scored_at AS scored_at,
       e.score_explanation AS explanation
"""

EXPOSURE_QUERIES: dict[str, str] = {
    "trade": TRADE_EXPOSURES,
    "guarantee": GUARANTEE_EXPOSURES,
    "voucher": VOUCHER_EXPOSURES,
    "equity": EQUITY_EXPOSURES,
}


@dataclass(frozen=True, slots=True)
class EnterpriseRow:
    id: str
    name: str | None
    registered_capital: int | None
    is_core: bool
    status: str | None
    founded_on: date | None
    region_code: str | None
    industry_code: str | None


@dataclass(frozen=True, slots=True)
class ExposureRow:
    """``creditor`` loses up to ``amount`` (minor units) if ``debtor`` defaults."""

    creditor: str
    debtor: str
    amount: int


@dataclass(frozen=True, slots=True)
class FinancingRow:
    borrower: str
    lender: str
    amount: int
    financings: int


def _read(driver: Driver, database: str, query: str, **params: Any) -> list[dict[str, Any]]:
    """A routed read in one managed transaction."""
    with driver.session(database=database, default_access_mode=READ_ACCESS) as session:
        return session.execute_read(lambda tx: _flat_rows(tx.run(query, params)))


def _flat_rows(result: Result) -> list[dict[str, Any]]:
    """Rows of plain values as dicts. ``Record.data()`` would walk every value looking for
    nodes and paths that these queries never return: most of an export's client time."""
    keys = result.keys()
    return [dict(zip(keys, record, strict=True)) for record in result]


def _native_date(value: Any) -> date | None:
    native = value.to_native() if value is not None and hasattr(value, "to_native") else value
    return native if isinstance(native, date) else None


def iter_enterprise_pages(
    driver: Driver, database: str, page_size: int = 5000
) -> Iterator[list[EnterpriseRow]]:
    """Every enterprise, ordered by id, ``page_size`` at a time."""
    after = ""
    while True:
        rows = _read(driver, database, ENTERPRISE_PAGE, after=after, limit=page_size)
        if not rows:
            return
        yield [
            EnterpriseRow(
                id=r["id"],
                name=r["name"],
                registered_capital=r["registered_capital"],
                is_core=bool(r["is_core"]),
                status=r["status"],
                founded_on=_native_date(r["founded_on"]),
                region_code=r["region_code"],
                industry_code=r["industry_code"],
            )
            for r in rows
        ]
        after = rows[-1]["id"]


def exposures_for(
    driver: Driver,
    database: str,
    kind: str,
    creditor_ids: Sequence[str],
    as_of: date | datetime | None = None,
) -> list[ExposureRow]:
    """Exposures of one ``kind`` (a key of ``EXPOSURE_QUERIES``) held by ``creditor_ids``."""
    query = EXPOSURE_QUERIES[kind]
    at = as_of.date() if isinstance(as_of, datetime) else as_of
    rows = _read(
        driver, database, query, ids=list(creditor_ids), as_of=at,
        open_vouchers=values(VOUCHER_OPEN),
    )  # fmt: skip
    return [ExposureRow(r["creditor"], r["debtor"], int(r["amount"])) for r in rows]


def financings_for(
    driver: Driver, database: str, borrower_ids: Sequence[str]
) -> list[FinancingRow]:
    """Live financings of ``borrower_ids``, summed per (borrower, lender)."""
    rows = _read(
        driver, database, FINANCING_EXPOSURES, ids=list(borrower_ids),
        outstanding=values(FINANCING_OUTSTANDING),
    )  # fmt: skip
    return [
        FinancingRow(r["borrower"], r["lender"], int(r["amount"]), int(r["financings"]))
        for r in rows
    ]


def _write_batch(
    tx: ManagedTransaction, rows: list[dict[str, Any]], model_version: str, scored_at: datetime
) -> None:
    tx.run(WRITE_SCORES, rows=rows, model_version=model_version, scored_at=scored_at,
           run=scored_at.isoformat()).consume()  # fmt: skip


def write_scores(
    driver: Driver,
    database: str,
    rows: Sequence[dict[str, Any]],
    *,
    model_version: str,
    scored_at: datetime,
    batch_size: int = 5000,
) -> int:
    """Set scores on enterprises in ``UNWIND`` batches, each its own managed transaction.

    Each row: ``id, fraud_score, default_score, explanation``; the model version and the
    scoring time are the run's, sent once per batch (packing a timezone-aware time per row
    took most of the client's time at a million rows). Each run's scores are also kept in
    the enterprise's history (`Score`), keyed by model version and time. Setting the same
    values again changes nothing, so a re-run is idempotent.
    """
    written = 0
    with driver.session(database=database) as session:
        for start in range(0, len(rows), batch_size):
            batch = list(rows[start : start + batch_size])
            session.execute_write(_write_batch, batch, model_version, scored_at)
            written += len(batch)
    return written


def read_scores(driver: Driver, database: str, ids: Sequence[str]) -> list[dict[str, Any]]:
    """The stored scores of ``ids`` (missing enterprises are left out)."""
    return _read(driver, database, READ_SCORES, ids=list(ids))


# -- export of the tables that scoring reads (see gnn/dataset.py TABLES) -----------------
# Pages are over a node label's unique id, so that every page is an index range scan. A page
# comes back as one record (the key to continue after, and its rows as lists): a record per
# row cost the client more than the server's work, since the driver handles each record as a
# message of its own. Dates come back as ISO strings (`toString`), as the files hold them.


@dataclass(frozen=True, slots=True)
class ExportTable:
    """One table's page query.

    ``page`` matches the rows whose ``key`` is after ``$after``, for at most ``$limit`` keys;
    ``columns`` maps each output column to its Cypher expression; a row whose ``present``
    expression is null (a key without the relationship) is left out, its key still counted.
    """

    page: str
    key: str
    columns: dict[str, str]
    present: str | None = None

    @property
    def query(self) -> str:
        row = "[" + ", ".join(self.columns.values()) + "]"
        kept = f"CASE WHEN {self.present} IS NULL THEN null ELSE {row} END" if self.present else row
        return f"{self.page}\nRETURN max({self.key}) AS after, collect({kept}) AS rows"


_ENT_PAGE = f"MATCH (e:{_E}) WHERE e.id > $after WITH e ORDER BY e.id LIMIT $limit\n"

_FIRST_ADDRESS = f"""COLLECT {{ MATCH (e)-[:{Rel.LOCATED_AT.value}]->(a:{Label.ADDRESS.value})
    RETURN a.id ORDER BY a.id LIMIT 1 }}[0]"""
_FIRST_PHONE = f"""COLLECT {{ MATCH (e)-[:{Rel.HAS_PHONE.value}]->(p:{Label.PHONE.value})
    RETURN p.id ORDER BY p.id LIMIT 1 }}[0]"""

EXPORT_TABLES: dict[str, ExportTable] = {
    "enterprises": ExportTable(
        _ENT_PAGE,
        "e.id",
        {
            "id": "e.id",
            "registered_capital": "e.registered_capital",
            "founded_on": "toString(e.founded_on)",
            "is_core": "e.is_core",
            "address_id": _FIRST_ADDRESS,
            "phone_id": _FIRST_PHONE,
        },
    ),
    "invoices": ExportTable(
        f"""MATCH (i:{Label.INVOICE.value}) WHERE i.id > $after WITH i ORDER BY i.id LIMIT $limit
MATCH (i)-[:{Rel.SELLER.value}]->(s:{_E})
MATCH (i)-[:{Rel.BUYER.value}]->(b:{_E})""",
        "i.id",
        {
            "id": "i.id",
            "seller_id": "s.id",
            "buyer_id": "b.id",
            "amount": "i.amount",
            "tax": "i.tax",
            "issued_on": "toString(i.issued_on)",
            "due_on": "toString(i.due_on)",
            "status": "i.status",
        },
    ),
    "payments": ExportTable(
        f"""MATCH (p:{Label.PAYMENT.value}) WHERE p.id > $after WITH p ORDER BY p.id LIMIT $limit
MATCH (p)-[:{Rel.SETTLES.value}]->(i:{Label.INVOICE.value})""",
        "p.id",
        {"invoice_id": "i.id", "amount": "p.amount", "paid_on": "toString(p.paid_on)"},
    ),
    "shipments": ExportTable(
        f"""MATCH (s:{Label.SHIPMENT.value}) WHERE s.id > $after WITH s ORDER BY s.id LIMIT $limit
MATCH (s)-[:{Rel.DELIVERS.value}]->(i:{Label.INVOICE.value})""",
        "s.id",
        {
            "invoice_id": "i.id",
            "shipped_on": "toString(s.shipped_on)",
            "received_on": "toString(s.received_on)",
        },
    ),
    # Relationship tables are paged by their target enterprise: a page holds the
    # relationships of `$limit` enterprises.
    "guarantees": ExportTable(
        _ENT_PAGE
        + f"""OPTIONAL MATCH (g)-[r:{Rel.GUARANTEES.value}]->(e)
WHERE g:{_E} OR g:{Label.PERSON.value}""",
        "e.id",
        {
            "guarantor_id": "g.id",
            "guarantor_kind": f"CASE WHEN g:{_E} THEN 'enterprise' ELSE 'person' END",
            "beneficiary_id": "e.id",
            "amount": "r.amount",
            "signed_on": "toString(r.signed_on)",
            "expires_on": "toString(r.expires_on)",
        },
        present="g.id",
    ),
    "holdings": ExportTable(
        _ENT_PAGE
        + f"""OPTIONAL MATCH (h)-[r:{Rel.HOLDS.value}]->(e)
WHERE h:{_E} OR h:{Label.PERSON.value}""",
        "e.id",
        {
            "holder_id": "h.id",
            "holder_kind": f"CASE WHEN h:{_E} THEN 'enterprise' ELSE 'person' END",
            "enterprise_id": "e.id",
            "pct": "r.pct",
            "since": "toString(r.since)",
        },
        present="h.id",
    ),
    "roles": ExportTable(
        _ENT_PAGE + f"OPTIONAL MATCH (p:{Label.PERSON.value})-[r:{Rel.ROLE.value}]->(e)",
        "e.id",
        {"person_id": "p.id", "enterprise_id": "e.id", "kind": "r.kind"},
        present="p.id",
    ),
}


def iter_export(
    driver: Driver, database: str, table: str, page_size: int = 10_000
) -> Iterator[list[list[Any]]]:
    """Pages of ``table`` rows (keys of ``EXPORT_TABLES``), each row a list in the order of
    the table's ``columns``; dates come back as ISO strings. Lists, not dicts: the caller
    turns a page into columns, and a dict per row was a third of the export's Python time."""
    query = EXPORT_TABLES[table].query
    after = ""
    while True:
        (page,) = _read(driver, database, query, after=after, limit=page_size)
        if page["after"] is None:
            return
        after = page["after"]
        yield page["rows"]
