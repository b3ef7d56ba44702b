"""Cypher for finance: the ledger, credit lines, applications, financings, vouchers, collateral.

Functions here take a managed transaction (`tx`) so that the finance package composes a
business operation (decision, line occupation, ledger postings) into ONE `execute_write`.
Write locks: `SET x._v = coalesce(x._v, 0) + 1` on a node takes its write lock for the rest
of the transaction; concurrent transactions touching the same node serialise there, and
every read after the lock sees what the previous holder committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.model import Label

_ACC = Label.ACCOUNT.value
_TR = Label.TRANSFER.value
_E = Label.ENTERPRISE.value
_LINE = Label.CREDIT_LINE.value
_APP = Label.APPLICATION.value
_FIN = Label.FINANCING.value
_DEC = Label.DECISION.value
_V = Label.VOUCHER.value
_ASSET = Label.ASSET.value
_INV = Label.INVOICE.value
_ALERT = Label.ALERT.value
_PROD = Label.PRODUCT.value

Row = dict[str, Any]

# --------------------------------------------------------------------------------------
# Ledger
# --------------------------------------------------------------------------------------

ENSURE_ACCOUNTS = f"""
UNWIND $rows AS row
MERGE (a:{_ACC} {{id: row.id}})
ON CREATE SET a += row.props, a.debits_posted = 0, a.credits_posted = 0,
              a.debits_pending = 0, a.credits_pending = 0, a._v = 0
RETURN a.id AS id, a.currency AS currency, a.code AS code
"""

# Sorted ids and one row at a time so that locks are taken in a global order (no deadlock
# between two batches touching the same accounts).
LOCK_ACCOUNTS = f"""
UNWIND $ids AS id
MATCH (a:{_ACC} {{id: id}})
SET a._v = a._v + 1
RETURN a {{.*}} AS account
"""

GET_TRANSFERS = f"""
UNWIND $ids AS id
MATCH (t:{_TR} {{id: id}})
RETURN t {{.*}} AS transfer
"""

# Which pending transfers were already posted or voided (a POST or VOID carries pending_id).
GET_RESOLUTIONS = f"""
UNWIND $ids AS pid
MATCH (t:{_TR} {{pending_id: pid}})
RETURN pid AS pending_id, t.kind AS kind, t.id AS id
"""

CREATE_TRANSFERS = f"""
UNWIND $rows AS row
CREATE (t:{_TR})
SET t = row
"""

APPLY_DELTAS = f"""
UNWIND $rows AS d
MATCH (a:{_ACC} {{id: d.id}})
SET a.debits_posted = a.debits_posted + d.dp, a.credits_posted = a.credits_posted + d.cp,
    a.debits_pending = a.debits_pending + d.dq, a.credits_pending = a.credits_pending + d.cq
"""

GET_ACCOUNTS = f"""
UNWIND $ids AS id
MATCH (a:{_ACC} {{id: id}})
RETURN a {{.*}} AS account
"""

ALL_ACCOUNTS = f"""
MATCH (a:{_ACC})
WHERE $currency IS NULL OR a.currency = $currency
RETURN a {{.*}} AS account ORDER BY a.code, a.id
"""

ACCOUNTS_OF_OWNER = f"""
MATCH (a:{_ACC} {{owner_id: $owner_id}})
RETURN a {{.*}} AS account ORDER BY a.code, a.id
"""

# Every transfer touching an account up to a time, oldest first; the statement and the
# as-of balance are computed from these (the running totals are a cache of them).
ACCOUNT_TRANSFERS = f"""
CALL () {{
  MATCH (t:{_TR} {{debit_account_id: $id}}) RETURN t
  UNION
  MATCH (t:{_TR} {{credit_account_id: $id}}) RETURN t
}}
WITH t WHERE ($until IS NULL OR t.value_at <= $until) AND ($since IS NULL OR t.value_at >= $since)
RETURN t {{.*}} AS transfer ORDER BY t.value_at, t.created_at, t.id
"""

RESOLVED_BY = f"""
UNWIND $ids AS pid
MATCH (t:{_TR} {{pending_id: pid}})
WHERE $until IS NULL OR t.value_at <= $until
RETURN pid AS pending_id, t.kind AS kind
"""

ALL_TRANSFERS = f"""
MATCH (t:{_TR})
RETURN t {{.*}} AS transfer ORDER BY t.created_at, t.id
"""


def ensure_accounts(tx: ManagedTransaction, rows: Sequence[Row]) -> list[Row]:
    return [r.data() for r in tx.run(ENSURE_ACCOUNTS, rows=list(rows))]


def lock_accounts(tx: ManagedTransaction, ids: Sequence[str]) -> dict[str, Row]:
    result = tx.run(LOCK_ACCOUNTS, ids=sorted(set(ids)))
    return {r["account"]["id"]: r["account"] for r in result}


def get_transfers_tx(tx: ManagedTransaction, ids: Sequence[str]) -> dict[str, Row]:
    if not ids:
        return {}
    return {r["transfer"]["id"]: r["transfer"] for r in tx.run(GET_TRANSFERS, ids=list(ids))}


def get_resolutions_tx(tx: ManagedTransaction, pending_ids: Sequence[str]) -> dict[str, Row]:
    if not pending_ids:
        return {}
    return {r["pending_id"]: r.data() for r in tx.run(GET_RESOLUTIONS, ids=list(pending_ids))}


def write_transfers(tx: ManagedTransaction, rows: Sequence[Row], deltas: Sequence[Row]) -> None:
    if rows:
        tx.run(CREATE_TRANSFERS, rows=list(rows)).consume()
    if deltas:
        tx.run(APPLY_DELTAS, rows=list(deltas)).consume()


def get_accounts(driver: Driver, database: str, ids: Sequence[str]) -> dict[str, Row]:
    records, _, _ = driver.execute_query(
        GET_ACCOUNTS, ids=list(ids), database_=database, routing_=RoutingControl.READ
    )
    return {r["account"]["id"]: r["account"] for r in records}


def all_accounts(driver: Driver, database: str, currency: str | None) -> list[Row]:
    records, _, _ = driver.execute_query(
        ALL_ACCOUNTS, currency=currency, database_=database, routing_=RoutingControl.READ
    )
    return [r["account"] for r in records]


def accounts_of_owner(driver: Driver, database: str, owner_id: str) -> list[Row]:
    records, _, _ = driver.execute_query(
        ACCOUNTS_OF_OWNER, owner_id=owner_id, database_=database, routing_=RoutingControl.READ
    )
    return [r["account"] for r in records]


def account_transfers(
    driver: Driver, database: str, account_id: str, since: Any, until: Any
) -> tuple[list[Row], dict[str, str]]:
    """Transfers touching the account in the window, and how pending ones were resolved."""
    records, _, _ = driver.execute_query(
        ACCOUNT_TRANSFERS,
        id=account_id,
        since=since,
        until=until,
        database_=database,
        routing_=RoutingControl.READ,
    )
    transfers = [r["transfer"] for r in records]
    pending = [t["id"] for t in transfers if t["kind"] == "pending"]
    resolved: dict[str, str] = {}
    if pending:
        recs, _, _ = driver.execute_query(
            RESOLVED_BY,
            ids=pending,
            until=until,
            database_=database,
            routing_=RoutingControl.READ,
        )
        resolved = {r["pending_id"]: r["kind"] for r in recs}
    return transfers, resolved


def all_transfers(driver: Driver, database: str) -> list[Row]:
    records, _, _ = driver.execute_query(
        ALL_TRANSFERS, database_=database, routing_=RoutingControl.READ
    )
    return [r["transfer"] for r in records]
