"""Cypher for the confirmation of receivables (确权) and the registry of security interests.

Writers take a managed transaction and lock the node they change first (`_v`), so that two
answers to the same invoice, or two registrations on the same collateral, serialise and the
second sees the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.model import (
    FINANCING_LIVE,
    InterestKind,
    InterestStatus,
    Label,
    Rel,
    declared,
    values,
)

_E = Label.ENTERPRISE.value
_INV = Label.INVOICE.value
_ASSET = Label.ASSET.value
_CONF = Label.CONFIRMATION.value
_SI = Label.SECURITY_INTEREST.value
_V = Label.VOUCHER.value

Row = dict[str, Any]

# The live financing the invoice is assigned to, if any.
_FINANCED_BY = f"""[(i)-[:{Rel.ASSIGNED_TO.value}]->(f:{Label.FINANCING.value})
                    WHERE f.status IN {values(FINANCING_LIVE)} | f.id][0] AS financing_id"""
_RECEIVABLE_FIELDS = """.id, .amount, .currency, .status, .issued_on, .due_on, .confirmation,
                   .confirmed_minor, .confirmed_due_on, .confirmed_at, .confirmed_by"""

# The invoice locked, with its parties, whether a voucher draws on it and how many answers
# the core has given so far.
LOCK_RECEIVABLE = f"""
MATCH (i:{_INV} {{id: $id}})
SET i._v = coalesce(i._v, 0) + 1
WITH i
OPTIONAL MATCH (i)-[:{Rel.SELLER.value}]->(s:{_E})
OPTIONAL MATCH (i)-[:{Rel.BUYER.value}]->(b:{_E})
RETURN i {{{_RECEIVABLE_FIELDS}}} AS invoice, s.id AS seller_id, b.id AS buyer_id,
       EXISTS {{ MATCH (:{_V})-[:{Rel.ABOUT.value}]->(i) }} AS used,
       COUNT {{ MATCH (:{_CONF})-[:{Rel.CONFIRMS.value}]->(i) }} AS answers
"""

RECORD_CONFIRMATION = f"""
MATCH (i:{_INV} {{id: $invoice_id}})
CREATE (c:{_CONF})
SET c = $props
CREATE (c)-[:{Rel.CONFIRMS.value}]->(i)
SET i += $invoice_props
"""

RECEIVABLE = f"""
MATCH (i:{_INV} {{id: $id}})
OPTIONAL MATCH (i)-[:{Rel.SELLER.value}]->(s:{_E})
OPTIONAL MATCH (i)-[:{Rel.BUYER.value}]->(b:{_E})
CALL (i) {{
  OPTIONAL MATCH (c:{_CONF})-[:{Rel.CONFIRMS.value}]->(i)
  WITH c ORDER BY c.seq
  RETURN [x IN collect(c {{.*}}) WHERE x IS NOT NULL] AS history
}}
RETURN i {{{_RECEIVABLE_FIELDS}}} AS invoice, s.id AS seller_id, b.id AS buyer_id, history,
       {_FINANCED_BY}
"""

# A core's payables (invoices it is the buyer of), by the latest answer ('unanswered' for
# none yet), oldest first.
_PAYABLES_WHERE = f"""
MATCH (i:{_INV})-[:{Rel.BUYER.value}]->(b:{_E} {{id: $core_id}})
WHERE $outcome IS NULL OR coalesce(i.confirmation, 'unanswered') = $outcome
"""
PAYABLES_OF = _PAYABLES_WHERE + f"""
WITH i, b ORDER BY i.issued_on, i.id SKIP $skip LIMIT $limit
OPTIONAL MATCH (i)-[:{Rel.SELLER.value}]->(s:{_E})
RETURN i {{{_RECEIVABLE_FIELDS}}} AS invoice, s.id AS seller_id, b.id AS buyer_id,
       [] AS history, {_FINANCED_BY}
"""
COUNT_PAYABLES_OF = _PAYABLES_WHERE + "RETURN count(i) AS total"


def lock_receivable(tx: ManagedTransaction, id: str) -> Row | None:
    records = list(tx.run(LOCK_RECEIVABLE, id=id))
    return records[0].data() if records else None


def record_confirmation(
    tx: ManagedTransaction, invoice_id: str, props: Row, invoice_props: Row
) -> None:
    tx.run(
        RECORD_CONFIRMATION,
        invoice_id=invoice_id,
        props=declared(Label.CONFIRMATION, props),
        invoice_props=declared(Label.INVOICE, invoice_props),
    ).consume()


def receivable(driver: Driver, database: str, id: str) -> Row | None:
    records, _, _ = driver.execute_query(
        RECEIVABLE, id=id, database_=database, routing_=RoutingControl.READ
    )
    return records[0].data() if records else None


def payables_of(
    driver: Driver, database: str, core_id: str, outcome: str | None, skip: int, limit: int
) -> tuple[list[Row], int]:
    params: Row = {"core_id": core_id, "outcome": outcome}
    records, _, _ = driver.execute_query(
        PAYABLES_OF, **params, skip=skip, limit=limit, database_=database,
        routing_=RoutingControl.READ,
    )  # fmt: skip
    total, _, _ = driver.execute_query(
        COUNT_PAYABLES_OF, **params, database_=database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records], int(total[0]["total"])


# --------------------------------------------------------------------------------------
# The registry of security interests
# --------------------------------------------------------------------------------------

_LIVE = f"'{InterestStatus.LIVE}'"
# A live registration made for a financing holds its collateral while that financing is live
# (or unknown); once the financing is closed, cancelled or written off it lapses.
_HOLDS = f"""r.status = {_LIVE} AND (r.financing_id IS NULL OR NOT EXISTS {{
    MATCH (f:{Label.FINANCING.value} {{id: r.financing_id}})
    WHERE NOT f.status IN {values(FINANCING_LIVE)} }})"""

# The collateral locked (an invoice or an asset), its owner, and the live registrations that
# cover it.
LOCK_COLLATERAL = f"""
CALL () {{
  MATCH (c:{_INV} {{id: $id}}) RETURN c
  UNION
  MATCH (c:{_ASSET} {{id: $id}}) RETURN c
}}
SET c._v = coalesce(c._v, 0) + 1
WITH c
OPTIONAL MATCH (c)-[:{Rel.SELLER.value}]->(seller:{_E})
OPTIONAL MATCH (owner:{_E})-[:{Rel.OWNS.value}]->(c)
OPTIONAL MATCH (r:{_SI})-[:{Rel.COVERS.value}]->(c) WHERE {_HOLDS}
RETURN c.id AS id, labels(c)[0] AS label, c.kind AS kind,
       coalesce(seller.id, owner.id) AS owner_id,
       [x IN collect(r {{.*}}) WHERE x IS NOT NULL] AS live
"""

CREATE_INTEREST = f"""
CALL () {{
  MATCH (c:{_INV} {{id: $collateral_id}}) RETURN c
  UNION
  MATCH (c:{_ASSET} {{id: $collateral_id}}) RETURN c
}}
MATCH (d:{_E} {{id: $debtor_id}})
CREATE (r:{_SI})
SET r = $props
CREATE (r)-[:{Rel.COVERS.value}]->(c)
CREATE (r)-[:{Rel.DEBTOR.value}]->(d)
"""

GET_INTEREST = f"""
MATCH (r:{_SI} {{id: $id}})
RETURN r {{.*}} AS interest
"""

LOCK_INTEREST = f"""
MATCH (r:{_SI} {{id: $id}})
SET r._v = coalesce(r._v, 0) + 1
RETURN r {{.*}} AS interest
"""

UPDATE_INTEREST = f"""
MATCH (r:{_SI} {{id: $id}})
SET r += $props
"""

_SEARCH_WHERE = f"""
MATCH (r:{_SI})
WHERE ($debtor_id IS NULL OR r.debtor_id = $debtor_id)
  AND ($collateral_id IS NULL OR r.collateral_id = $collateral_id)
  AND ($status IS NULL OR r.status = $status)
"""
SEARCH_INTERESTS = _SEARCH_WHERE + """
RETURN r {.*} AS interest
ORDER BY r.registered_on DESC, r.id SKIP $skip LIMIT $limit
"""
COUNT_INTERESTS = _SEARCH_WHERE + "RETURN count(r) AS total"


def lock_collateral(tx: ManagedTransaction, id: str) -> Row | None:
    records = list(tx.run(LOCK_COLLATERAL, id=id))
    return records[0].data() if records else None


def create_interest(
    tx: ManagedTransaction, props: Row, collateral_id: str, debtor_id: str
) -> None:
    tx.run(
        CREATE_INTEREST,
        props=declared(Label.SECURITY_INTEREST, props),
        collateral_id=collateral_id,
        debtor_id=debtor_id,
    ).consume()


def lock_interest(tx: ManagedTransaction, id: str) -> Row | None:
    records = list(tx.run(LOCK_INTEREST, id=id))
    return dict(records[0]["interest"]) if records else None


def update_interest(tx: ManagedTransaction, id: str, props: Row) -> None:
    tx.run(UPDATE_INTEREST, id=id, props=declared(Label.SECURITY_INTEREST, props)).consume()


def get_interest(driver: Driver, database: str, id: str) -> Row | None:
    records, _, _ = driver.execute_query(
        GET_INTEREST, id=id, database_=database, routing_=RoutingControl.READ
    )
    return dict(records[0]["interest"]) if records else None


def search_interests(
    driver: Driver, database: str, debtor_id: str | None, collateral_id: str | None,
    status: str | None, skip: int, limit: int,
) -> tuple[list[Row], int]:  # fmt: skip
    params: Row = {"debtor_id": debtor_id, "collateral_id": collateral_id, "status": status}
    records, _, _ = driver.execute_query(
        SEARCH_INTERESTS, **params, skip=skip, limit=limit, database_=database,
        routing_=RoutingControl.READ,
    )  # fmt: skip
    total, _, _ = driver.execute_query(
        COUNT_INTERESTS, **params, database_=database, routing_=RoutingControl.READ
    )
    return [dict(r["interest"]) for r in records], int(total[0]["total"])


LIVE_INTERESTS = f"""
MATCH (r:{_SI}) WHERE r.collateral_id IN $ids AND {_HOLDS}
RETURN r {{.*}} AS interest ORDER BY r.id
"""


def live_interests(tx: ManagedTransaction, collateral_ids: Sequence[str]) -> list[Row]:
    """Registrations that hold any of these collateral ids (read inside a write)."""
    return [dict(r["interest"]) for r in tx.run(LIVE_INTERESTS, ids=list(collateral_ids))]


# The loaded book's pledges in the registry (after `chainlens ingest`): for each invoice or
# asset pledged or assigned to a live financing loaded from a lender's book, the first such
# pledge (by date, then id) is registered for that lender, keyed `RSI-<financing>-<collateral>`
# as a financing's own registrations are, unless another registration holds the collateral
# (a second pledge of the same collateral in the book is what `duplicatePledges` reports, not
# a second registration). The period runs from the pledge to a year after the later of the
# financing's maturity and the day of the ingest (a loaded book's live loan may be past its
# maturity); the registration lapses with the financing. MERGE on the key: a second ingest
# registers nothing new. Committed per batch of collateral (`IN TRANSACTIONS`), so a bank's
# book of millions of pledges never needs one transaction's memory; a run cut short is
# finished by the next.
REGISTER_LOADED_PLEDGES = f"""
MATCH (c)-[p:{Rel.ASSIGNED_TO.value}|{Rel.PLEDGED_TO.value}]->(f:{Label.FINANCING.value})
WHERE (c:{_INV} OR c:{_ASSET}) AND p.id IS NOT NULL AND f.origin = $loaded
  AND f.status IN $live
WITH DISTINCT c
CALL (c) {{
MATCH (c)-[p:{Rel.ASSIGNED_TO.value}|{Rel.PLEDGED_TO.value}]->(f:{Label.FINANCING.value})
WHERE p.id IS NOT NULL AND f.origin = $loaded AND f.status IN $live
WITH c, p, f ORDER BY p.pledged_on, p.id
WITH c, collect({{p: p, f: f}})[0] AS first
WITH c, first.p AS p, first.f AS f, 'RSI-' + first.f.id + '-' + c.id AS key
WHERE NOT EXISTS {{ MATCH (r:{_SI})-[:{Rel.COVERS.value}]->(c) WHERE r.id <> key AND {_HOLDS} }}
OPTIONAL MATCH (c)-[:{Rel.SELLER.value}]->(seller:{_E})
OPTIONAL MATCH (owner:{_E})-[:{Rel.OWNS.value}]->(c)
OPTIONAL MATCH (asset:{_ASSET} {{id: c.id}})
WITH c, p, f, key, coalesce(seller, owner) AS debtor, asset
WHERE debtor IS NOT NULL
OPTIONAL MATCH (old:{_SI} {{id: key}})
WITH c, p, f, key, debtor, asset, old IS NULL AS created
MERGE (r:{_SI} {{id: key}})
ON CREATE SET
  r.kind = CASE WHEN c:{_INV} AND f.product_kind IN $transfers THEN $transfer ELSE $pledge END,
  r.status = {_LIVE},
  r.collateral_kind = CASE WHEN c:{_INV} THEN 'invoice' ELSE coalesce(asset.kind, 'asset') END,
  r.collateral_id = c.id, r.debtor_id = debtor.id, r.secured_party = f.lender,
  r.financing_id = f.id,
  r.description = 'loaded book: collateral of financing ' + f.id + ' (' + f.lender + ')',
  r.registered_on = p.pledged_on,
  r.expires_on = CASE WHEN f.maturity_on > $today THEN f.maturity_on ELSE $today END
                 + duration({{years: 1}}),
  r.registered_by = $by, r.registered_at = $now
MERGE (r)-[:{Rel.COVERS.value}]->(c)
MERGE (r)-[:{Rel.DEBTOR.value}]->(debtor)
RETURN count(r) AS one, sum(CASE WHEN created THEN 1 ELSE 0 END) AS new
}} IN TRANSACTIONS OF $batch ROWS
RETURN sum(one) AS covered, sum(new) AS registered
"""


def register_loaded_pledges(
    driver: Driver, database: str, *, loaded: str, transfers: Sequence[str], by: str,
    now: datetime, batch: int = 10_000,
) -> tuple[int, int]:  # fmt: skip
    """Register the loaded book's pledges, ``batch`` collateral per transaction; returns
    (registrations covering them, of which new). `IN TRANSACTIONS` needs an auto-commit
    transaction, hence a plain session run."""
    with driver.session(database=database) as session:
        row = session.run(
            REGISTER_LOADED_PLEDGES, loaded=loaded, live=values(FINANCING_LIVE),
            transfers=list(transfers), transfer=InterestKind.TRANSFER.value,
            pledge=InterestKind.PLEDGE.value, by=by, now=now, today=now.date(), batch=batch,
        ).single()  # fmt: skip
    return (int(row["covered"] or 0), int(row["registered"] or 0)) if row else (0, 0)
