"""Cypher for post-loan work: follow-up records (collections, inspections) and the alerts the
end-of-day job raises before maturity and on overdue (financings and e-credit vouchers)."""

from __future__ import annotations

from datetime import date
from typing import Any

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.model import (
    FINANCING_OUTSTANDING,
    VOUCHER_UNPAID_AT_MATURITY,
    FinancingOrigin,
    FinancingStatus,
    Label,
    Rel,
    VoucherStatus,
    values,
)
from graph.model import declared as _declared

_FIN, _FU, _AL, _E = Label.FINANCING, Label.FOLLOW_UP, Label.ALERT, Label.ENTERPRISE
_V = Label.VOUCHER

MERGE_FOLLOW_UP = f"""
MATCH (f:{_FIN} {{id: $financing_id}})
MERGE (u:{_FU} {{id: $id}})
ON CREATE SET u += $props, u._new = true
MERGE (u)-[:{Rel.ABOUT}]->(f)
WITH u, coalesce(u._new, false) AS created
REMOVE u._new
RETURN u {{.*}} AS follow_up, created
"""

FOLLOW_UPS_OF = f"""
MATCH (u:{_FU})-[:{Rel.ABOUT}]->(:{_FIN} {{id: $financing_id}})
RETURN u {{.*}} AS follow_up ORDER BY u.on, u.recorded_at, u.id
"""

# Originated financings that mature within the window and have money out, and those overdue.
DUE_SOON = f"""
MATCH (f:{_FIN})-[:{Rel.BORROWER}]->(e:{_E})
WHERE f.origin = '{FinancingOrigin.ORIGINATED}' AND f.status IN $outstanding
  AND f.maturity_on >= $as_of AND f.maturity_on <= $until
RETURN f.id AS id, e.id AS borrower_id, f.maturity_on AS maturity_on,
       f.outstanding_minor AS outstanding_minor, f.currency AS currency
ORDER BY id
"""

OVERDUE = f"""
MATCH (f:{_FIN} {{status: '{FinancingStatus.OVERDUE}'}})-[:{Rel.BORROWER}]->(e:{_E})
WHERE f.origin = '{FinancingOrigin.ORIGINATED}'
RETURN f.id AS id, e.id AS borrower_id, f.maturity_on AS maturity_on, f.dpd AS dpd,
       f.outstanding_minor AS outstanding_minor, f.currency AS currency,
       f.risk_class AS risk_class
ORDER BY id
"""

# One alert per key: raising it again on a later day changes nothing.
MERGE_FINANCING_ALERTS = f"""
UNWIND $rows AS row
MATCH (f:{_FIN} {{id: row.financing_id}})-[:{Rel.BORROWER}]->(e:{_E})
MERGE (al:{_AL} {{id: row.id}})
ON CREATE SET al += row.props, al._new = true
MERGE (al)-[:{Rel.ABOUT}]->(f)
MERGE (al)-[:{Rel.ABOUT}]->(e)
WITH al, coalesce(al._new, false) AS created
REMOVE al._new
RETURN sum(CASE WHEN created THEN 1 ELSE 0 END) AS raised
"""


def merge_follow_up(
    tx: ManagedTransaction, id: str, financing_id: str, props: dict[str, Any]
) -> dict[str, Any] | None:
    rec = tx.run(
        MERGE_FOLLOW_UP, id=id, financing_id=financing_id, props=_declared(_FU, props)
    ).single()
    return None if rec is None else rec.data()


def follow_ups_of(driver: Driver, database: str, financing_id: str) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        FOLLOW_UPS_OF, financing_id=financing_id, database_=database,
        routing_=RoutingControl.READ,
    )  # fmt: skip
    return [dict(r["follow_up"]) for r in records]


def due_soon(driver: Driver, database: str, as_of: date, until: date) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        DUE_SOON, as_of=as_of, until=until, outstanding=values(FINANCING_OUTSTANDING),
        database_=database, routing_=RoutingControl.READ,
    )  # fmt: skip
    return [r.data() for r in records]


def overdue(driver: Driver, database: str) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        OVERDUE, database_=database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records]


def merge_financing_alerts(driver: Driver, database: str, rows: list[dict[str, Any]]) -> int:
    """Alerts about financings (and their borrowers); returns how many were new."""
    for row in rows:
        _declared(_AL, row["props"])
    if not rows:
        return 0
    records, _, _ = driver.execute_query(MERGE_FINANCING_ALERTS, rows=rows, database_=database)
    return int(records[0]["raised"])


# Voucher trees with a piece past maturity and not paid (live or discounted).
DUE_UNPAID_VOUCHER_ROOTS = f"""
MATCH (v:{_V})
WHERE v.status IN $unpaid AND v.due_on <= $as_of
RETURN DISTINCT v.root_id AS root_id ORDER BY root_id
"""

MARK_VOUCHERS_OVERDUE = f"""
UNWIND $ids AS id
MATCH (v:{_V} {{id: id}})
SET v.status = '{VoucherStatus.OVERDUE}', v.overdue_on = $as_of
"""

# One alert per voucher tree and maturity, about the root voucher, its core and the holders
# of its unpaid pieces.
MERGE_VOUCHER_ALERT = f"""
MATCH (v:{_V} {{id: $root_id}})-[:{Rel.ISSUED_BY}]->(core:{_E})
MERGE (al:{_AL} {{id: $id}})
ON CREATE SET al += $props, al._new = true
MERGE (al)-[:{Rel.ABOUT}]->(v)
MERGE (al)-[:{Rel.ABOUT}]->(core)
WITH al
CALL (al) {{
  UNWIND $holder_ids AS hid
  MATCH (h:{_E} {{id: hid}})
  MERGE (al)-[:{Rel.ABOUT}]->(h)
}}
WITH al, coalesce(al._new, false) AS created
REMOVE al._new
RETURN created
"""

# Paid at last: the tree's overdue alerts say when.
CLEAR_VOUCHER_ALERTS = f"""
MATCH (al:{_AL} {{kind: 'voucher_overdue'}})-[:{Rel.ABOUT}]->(:{_V} {{id: $root_id}})
WHERE al.cleared_at IS NULL
SET al.cleared_at = $now
"""


def due_unpaid_voucher_roots(driver: Driver, database: str, as_of: date) -> list[str]:
    records, _, _ = driver.execute_query(
        DUE_UNPAID_VOUCHER_ROOTS, as_of=as_of, unpaid=values(VOUCHER_UNPAID_AT_MATURITY),
        database_=database, routing_=RoutingControl.READ,
    )  # fmt: skip
    return [str(r["root_id"]) for r in records]


def mark_vouchers_overdue(tx: ManagedTransaction, ids: list[str], as_of: date) -> None:
    tx.run(MARK_VOUCHERS_OVERDUE, ids=ids, as_of=as_of).consume()


def merge_voucher_alert(
    tx: ManagedTransaction, id: str, root_id: str, holder_ids: list[str], props: dict[str, Any]
) -> bool:
    """The overdue alert of a voucher tree; True when it is new."""
    rec = tx.run(
        MERGE_VOUCHER_ALERT, id=id, root_id=root_id, holder_ids=holder_ids,
        props=_declared(_AL, props),
    ).single()  # fmt: skip
    return bool(rec and rec["created"])


def clear_voucher_alerts(tx: ManagedTransaction, root_id: str, now: Any) -> None:
    tx.run(CLEAR_VOUCHER_ALERTS, root_id=root_id, now=now).consume()
