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

from neo4j import READ_ACCESS, Driver, ManagedTransaction, NotificationDisabledClassification

from graph.model import Label, Rel

_E = Label.ENTERPRISE.value

ENTERPRISE_PAGE = f"""
MATCH (e:{_E})
WHERE e.id > $after
WITH e ORDER BY e.id LIMIT $limit
RETURN e.id AS id, e.name AS name, e.registered_capital AS registered_capital,
       e.equity AS equity, coalesce(e.is_core, false) AS is_core, e.status AS status,
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
WHERE NOT coalesce(v.status, 'live') IN ['settled', 'paid', 'void', 'split', 'cancelled']
  AND NOT EXISTS {{ (:{Label.VOUCHER.value})-[:{Rel.SPLIT_FROM.value}]->(v) }} AND h <> i
RETURN h.id AS creditor, i.id AS debtor, sum(v.amount) AS amount
"""

# An enterprise shareholder loses its share of the held firm's equity.
EQUITY_EXPOSURES = f"""
UNWIND $ids AS hid
MATCH (h:{_E} {{id: hid}})-[r:{Rel.HOLDS.value}]->(t:{_E})
WITH h, t, toFloat(r.pct) / 100.0 * coalesce(t.equity, t.registered_capital, 0) AS value
WHERE value > 0 AND h <> t
RETURN h.id AS creditor, t.id AS debtor, toInteger(round(sum(value))) AS amount
"""

# Lenders' live financings per borrower: the lender's exposure hit in a "what if".
FINANCING_EXPOSURES = f"""
UNWIND $ids AS bid
MATCH (f:{Label.FINANCING.value})-[:{Rel.BORROWER.value}]->(e:{_E} {{id: bid}})
WHERE coalesce(f.status, 'live') IN ['live', 'overdue']
RETURN e.id AS borrower, coalesce(f.lender, 'unknown') AS lender,
       sum(coalesce(f.outstanding, f.amount)) AS amount, count(f) AS financings
"""

WRITE_SCORES = f"""
UNWIND $rows AS row
MATCH (e:{_E} {{id: row.id}})
SET e.fraud_score = row.fraud_score,
    e.default_score = row.default_score,
    e.score_model_version = $model_version,
    e.scored_at = $scored_at,
    e.score_explanation = row.explanation
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
    equity: int | None
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
    """A routed read; optional properties are the norm here, so their warnings are muted."""
    with driver.session(
        database=database,
        default_access_mode=READ_ACCESS,
        notifications_disabled_classifications=[NotificationDisabledClassification.UNRECOGNIZED],
    ) as session:
        return session.execute_read(lambda tx: [r.data() for r in tx.run(query, params)])


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
                equity=r["equity"],
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
    rows = _read(driver, database, query, ids=list(creditor_ids), as_of=at)
    return [ExposureRow(r["creditor"], r["debtor"], int(r["amount"])) for r in rows]


def financings_for(
    driver: Driver, database: str, borrower_ids: Sequence[str]
) -> list[FinancingRow]:
    """Live financings of ``borrower_ids``, summed per (borrower, lender)."""
    rows = _read(driver, database, FINANCING_EXPOSURES, ids=list(borrower_ids))
    return [
        FinancingRow(r["borrower"], r["lender"], int(r["amount"]), int(r["financings"]))
        for r in rows
    ]


def _write_batch(
    tx: ManagedTransaction, rows: list[dict[str, Any]], model_version: str, scored_at: datetime
) -> None:
    tx.run(WRITE_SCORES, rows=rows, model_version=model_version, scored_at=scored_at).consume()


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
    took most of the client's time at a million rows). Setting the same values again
    changes nothing, so a re-run is idempotent.
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
# Each query returns one page after the key `$after` and a `_key` column to continue from.
# Pages are over a node label's unique id (or a relationship's indexed id), so that every
# page is an index range scan.

_ENT_PAGE = f"MATCH (e:{_E}) WHERE e.id > $after WITH e ORDER BY e.id LIMIT $limit\n"

EXPORT_QUERIES: dict[str, str] = {
    "enterprises": _ENT_PAGE
    + f"""
RETURN e.id AS _key, e.id AS id, e.registered_capital AS registered_capital,
       e.founded_on AS founded_on, e.is_core AS is_core,
       COLLECT {{ MATCH (e)-[:{Rel.LOCATED_AT.value}]->(a:{Label.ADDRESS.value})
                  RETURN a.id ORDER BY a.id LIMIT 1 }}[0] AS address_id,
       COLLECT {{ MATCH (e)-[:{Rel.HAS_PHONE.value}]->(p:{Label.PHONE.value})
                  RETURN p.id ORDER BY p.id LIMIT 1 }}[0] AS phone_id
""",
    "invoices": f"""
MATCH (i:{Label.INVOICE.value}) WHERE i.id > $after WITH i ORDER BY i.id LIMIT $limit
MATCH (i)-[:{Rel.SELLER.value}]->(s:{_E})
MATCH (i)-[:{Rel.BUYER.value}]->(b:{_E})
RETURN i.id AS _key, i.id AS id, s.id AS seller_id, b.id AS buyer_id, i.amount AS amount,
       i.tax AS tax, i.issued_on AS issued_on, i.due_on AS due_on, i.status AS status
""",
    "payments": f"""
MATCH (p:{Label.PAYMENT.value}) WHERE p.id > $after WITH p ORDER BY p.id LIMIT $limit
MATCH (p)-[:{Rel.SETTLES.value}]->(i:{Label.INVOICE.value})
RETURN p.id AS _key, i.id AS invoice_id, p.amount AS amount, p.paid_on AS paid_on
""",
    "shipments": f"""
MATCH (s:{Label.SHIPMENT.value}) WHERE s.id > $after WITH s ORDER BY s.id LIMIT $limit
MATCH (s)-[:{Rel.DELIVERS.value}]->(i:{Label.INVOICE.value})
RETURN s.id AS _key, i.id AS invoice_id, s.shipped_on AS shipped_on,
       s.received_on AS received_on
""",
    "guarantees": _ENT_PAGE
    + f"""
OPTIONAL MATCH (g)-[r:{Rel.GUARANTEES.value}]->(e)
WHERE g:{_E} OR g:{Label.PERSON.value}
RETURN e.id AS _key, g.id AS guarantor_id,
       CASE WHEN g:{_E} THEN 'enterprise' ELSE 'person' END AS guarantor_kind,
       e.id AS beneficiary_id, r.amount AS amount, r.signed_on AS signed_on,
       r.expires_on AS expires_on
""",
    "holdings": _ENT_PAGE
    + f"""
OPTIONAL MATCH (h)-[r:{Rel.HOLDS.value}]->(e)
WHERE h:{_E} OR h:{Label.PERSON.value}
RETURN e.id AS _key, h.id AS holder_id,
       CASE WHEN h:{_E} THEN 'enterprise' ELSE 'person' END AS holder_kind,
       e.id AS enterprise_id, r.pct AS pct, r.since AS since
""",
    "roles": _ENT_PAGE
    + f"""
OPTIONAL MATCH (p:{Label.PERSON.value})-[r:{Rel.ROLE.value}]->(e)
RETURN e.id AS _key, p.id AS person_id, e.id AS enterprise_id, r.kind AS kind
""",
}


def iter_export(
    driver: Driver, database: str, table: str, page_size: int = 10_000
) -> Iterator[list[dict[str, Any]]]:
    """Pages of ``table`` rows (keys of ``EXPORT_QUERIES``); dates come back as ISO strings.

    Relationship tables are paged by their target enterprise, so a page holds the
    relationships of ``page_size`` enterprises; rows without a relationship are dropped.
    """
    query = EXPORT_QUERIES[table]
    after = ""
    while True:
        rows = _read(driver, database, query, after=after, limit=page_size)
        if not rows:
            return
        after = max(str(r["_key"]) for r in rows)
        out = []
        for r in rows:
            r.pop("_key")
            if table in ("guarantees", "holdings", "roles") and None in (
                r.get("guarantor_id", r.get("holder_id", r.get("person_id"))),
            ):
                continue
            out.append({k: _plain(v) for k, v in r.items()})
        yield out


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, int | float | str | bool):
        return value
    if hasattr(value, "iso_format"):
        return str(value.iso_format())
    return str(value)
