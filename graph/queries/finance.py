"""Cypher for finance: the ledger, credit lines, applications, financings, vouchers, collateral.

Functions here take a managed transaction (`tx`) so that the finance package composes a
business operation (decision, line occupation, ledger postings) into ONE `execute_write`.
Write locks: `SET x._v = coalesce(x._v, 0) + 1` on a node takes its write lock for the rest
of the transaction; concurrent transactions touching the same node serialise there, and
every read after the lock sees what the previous holder committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.model import (
    DEFAULT_FUNDER,
    FINANCING_LIVE,
    INVOICE_OPEN,
    VOUCHER_OPEN,
    AssetStatus,
    ContractStatus,
    FinancingOrigin,
    InvoiceStatus,
    Label,
    Rel,
    declared,
    values,
)

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


def _one(result: Any) -> Any:
    """The first record of a result, reading it to the end so that an error that arrives
    with the summary (a deadlock found late) is raised here, as a retryable error, rather
    than failing the next statement of the transaction."""
    records = list(result)
    return records[0] if records else None


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

GET_ACCOUNTS = f"""
UNWIND $ids AS id
MATCH (a:{_ACC} {{id: id}})
RETURN a {{.*}} AS account
"""

# Every account, or one funder's book (an account without `funder_id` is the default's).
ALL_ACCOUNTS = f"""
MATCH (a:{_ACC})
WHERE ($currency IS NULL OR a.currency = $currency)
  AND ($funder IS NULL OR coalesce(a.funder_id, $default) = $funder)
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


# One round trip before the checks: lock the accounts (sorted), then, under the locks, read
# which of the batch's ids exist and which pendings were already resolved.
PREPARE_BATCH = f"""
CALL () {{
  UNWIND $account_ids AS id
  MATCH (a:{_ACC} {{id: id}})
  SET a._v = a._v + 1
  RETURN collect(a {{.*}}) AS accounts
}}
CALL () {{
  UNWIND $ids AS id
  MATCH (t:{_TR} {{id: id}})
  RETURN collect(t {{.*}}) AS existing
}}
CALL () {{
  UNWIND $pending_ids AS pid
  MATCH (t:{_TR} {{pending_id: pid}})
  RETURN collect({{pending_id: pid, kind: t.kind, id: t.id}}) AS resolutions
}}
RETURN accounts, existing, resolutions
"""

# One round trip after the checks: the new transfers and the accounts' running totals. Times
# travel as ISO-8601 text and become DateTime in the server: packing thousands of aware
# datetimes in the Python driver costs more than the whole write.
COMMIT_BATCH = f"""
CALL () {{
  UNWIND $rows AS row
  CREATE (t:{_TR})
  SET t = row, t.value_at = datetime(row.value_at), t.created_at = datetime(row.created_at)
}}
CALL () {{
  UNWIND $deltas AS d
  MATCH (a:{_ACC} {{id: d.id}})
  SET a.debits_posted = a.debits_posted + d.dp, a.credits_posted = a.credits_posted + d.cp,
      a.debits_pending = a.debits_pending + d.dq, a.credits_pending = a.credits_pending + d.cq
}}
"""


def prepare_batch(
    tx: ManagedTransaction,
    account_ids: Sequence[str],
    ids: Sequence[str],
    pending_ids: Sequence[str],
) -> tuple[dict[str, Row], dict[str, Row], dict[str, Row]]:
    """(locked accounts, existing transfers, resolutions of pendings), all by id."""
    rec = _one(
        tx.run(
            PREPARE_BATCH,
            account_ids=sorted(set(account_ids)),
            ids=list(ids),
            pending_ids=list(pending_ids),
        )
    )
    assert rec is not None
    return (
        {a["id"]: a for a in rec["accounts"]},
        {t["id"]: t for t in rec["existing"]},
        {r["pending_id"]: r for r in rec["resolutions"]},
    )


def commit_batch(tx: ManagedTransaction, rows: Sequence[Row], deltas: Sequence[Row]) -> None:
    if rows or deltas:
        tx.run(COMMIT_BATCH, rows=list(rows), deltas=list(deltas)).consume()


def ensure_accounts(tx: ManagedTransaction, rows: Sequence[Row]) -> list[Row]:
    return [r.data() for r in tx.run(ENSURE_ACCOUNTS, rows=list(rows))]


def lock_accounts(tx: ManagedTransaction, ids: Sequence[str]) -> dict[str, Row]:
    result = tx.run(LOCK_ACCOUNTS, ids=sorted(set(ids)))
    return {r["account"]["id"]: r["account"] for r in result}


def get_transfers_tx(tx: ManagedTransaction, ids: Sequence[str]) -> dict[str, Row]:
    if not ids:
        return {}
    return {r["transfer"]["id"]: r["transfer"] for r in tx.run(GET_TRANSFERS, ids=list(ids))}


def get_accounts(driver: Driver, database: str, ids: Sequence[str]) -> dict[str, Row]:
    records, _, _ = driver.execute_query(
        GET_ACCOUNTS, ids=list(ids), database_=database, routing_=RoutingControl.READ
    )
    return {r["account"]["id"]: r["account"] for r in records}


def all_accounts(
    driver: Driver, database: str, currency: str | None, funder: str | None = None
) -> list[Row]:
    records, _, _ = driver.execute_query(
        ALL_ACCOUNTS, currency=currency, funder=funder, default=DEFAULT_FUNDER,
        database_=database, routing_=RoutingControl.READ,
    )  # fmt: skip
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


# --------------------------------------------------------------------------------------
# Credit lines
# --------------------------------------------------------------------------------------

MERGE_LINE = f"""
MATCH (e:{_E} {{id: $enterprise_id}})
MERGE (l:{_LINE} {{id: $id}})
ON CREATE SET l += $props, l.status = 'active', l.created_at = $now
MERGE (l)-[:{Rel.GRANTED_TO.value}]->(e)
WITH l
OPTIONAL MATCH (p:{_LINE} {{id: $parent_id}})
FOREACH (_ IN CASE WHEN p IS NULL THEN [] ELSE [1] END | MERGE (l)-[:{Rel.PART_OF.value}]->(p))
RETURN l {{.*}} AS line, p IS NOT NULL OR $parent_id IS NULL AS parent_ok
"""

# The line and its ancestors, nearest first (a hold occupies every level).
LINE_PATH = f"""
MATCH p = (l:{_LINE} {{id: $id}})-[:{Rel.PART_OF.value}*0..6]->(a:{_LINE})
OPTIONAL MATCH (a)-[:{Rel.GRANTED_TO.value}]->(e:{_E})
RETURN a {{.*, enterprise_id: e.id}} AS line ORDER BY length(p)
"""

SET_LINE_STATUS = f"""
MATCH (l:{_LINE} {{id: $id}})
SET l.status = $status, l.status_reason = $reason, l.status_at = $now
RETURN l {{.*}} AS line
"""

SET_LINE_LIMIT = f"""
MATCH (l:{_LINE} {{id: $id}})
SET l.limit_minor = $limit
"""

EXPIRE_LINES = f"""
MATCH (l:{_LINE})
WHERE l.status IN ['active', 'frozen'] AND l.expires_on < $today
SET l.status = 'expired', l.status_at = $now
RETURN l.id AS id ORDER BY id
"""

# A credit line of an enterprise by kind (its own, or the supply-chain line of a core).
LINE_OF = f"""
MATCH (l:{_LINE} {{kind: $kind}})-[:{Rel.GRANTED_TO.value}]->(e:{_E} {{id: $enterprise_id}})
WHERE l.currency = $currency AND ($product_id IS NULL OR l.product_id = $product_id)
  AND ($tier IS NULL OR l.tier = $tier) AND coalesce(l.funder_id, $default) = $funder
RETURN l.id AS id ORDER BY l.created_at LIMIT 1
"""

LINES_OF = f"""
MATCH (l:{_LINE})-[:{Rel.GRANTED_TO.value}]->(e:{_E} {{id: $enterprise_id}})
RETURN l {{.*, enterprise_id: e.id}} AS line ORDER BY l.id
"""


def merge_line(
    tx: ManagedTransaction,
    id: str,
    enterprise_id: str,
    parent_id: str | None,
    props: Row,
    now: Any,
) -> Row | None:
    rec = _one(
        tx.run(
            MERGE_LINE,
            id=id,
            enterprise_id=enterprise_id,
            parent_id=parent_id,
            props=declared(Label.CREDIT_LINE, props),
            now=now,
        )
    )
    return None if rec is None else rec.data()


def line_path(tx: ManagedTransaction, id: str) -> list[Row]:
    return [r["line"] for r in tx.run(LINE_PATH, id=id)]


def line_path_read(driver: Driver, database: str, id: str) -> list[Row]:
    records, _, _ = driver.execute_query(
        LINE_PATH, id=id, database_=database, routing_=RoutingControl.READ
    )
    return [r["line"] for r in records]


def set_line_status(
    tx: ManagedTransaction, id: str, status: str, reason: str, now: Any
) -> Row | None:
    rec = _one(tx.run(SET_LINE_STATUS, id=id, status=status, reason=reason, now=now))
    return None if rec is None else rec["line"]


def set_line_limit(tx: ManagedTransaction, id: str, limit: int) -> None:
    tx.run(SET_LINE_LIMIT, id=id, limit=limit).consume()


def expire_lines(tx: ManagedTransaction, today: Any, now: Any) -> list[str]:
    return [r["id"] for r in tx.run(EXPIRE_LINES, today=today, now=now)]


def line_of(
    tx: ManagedTransaction,
    enterprise_id: str,
    kind: str,
    currency: str,
    product_id: str | None = None,
    tier: int | None = None,
    funder: str = DEFAULT_FUNDER,
) -> str | None:
    """The first line of ``kind`` granted to an enterprise by ``funder``."""
    rec = _one(
        tx.run(
            LINE_OF,
            enterprise_id=enterprise_id,
            kind=kind,
            currency=currency,
            product_id=product_id,
            tier=tier,
            funder=funder,
            default=DEFAULT_FUNDER,
        )
    )
    return None if rec is None else rec["id"]


def line_of_read(
    driver: Driver,
    database: str,
    enterprise_id: str,
    kind: str,
    currency: str,
    product_id: str | None = None,
    tier: int | None = None,
    funder: str = DEFAULT_FUNDER,
) -> str | None:
    """`line_of` as a plain read, outside the write that will use the line."""
    with driver.session(database=database) as session:
        return session.execute_read(
            line_of, enterprise_id, kind, currency, product_id, tier, funder
        )


def lines_of(driver: Driver, database: str, enterprise_id: str) -> list[Row]:
    records, _, _ = driver.execute_query(
        LINES_OF, enterprise_id=enterprise_id, database_=database, routing_=RoutingControl.READ
    )
    return [r["line"] for r in records]


# --------------------------------------------------------------------------------------
# Policy facts: what the graph says about an enterprise, in one read
# --------------------------------------------------------------------------------------

# Status sets from the model, rendered as Cypher list literals.
LIVE_FINANCING = str(values(FINANCING_LIVE))
_OPEN_INVOICE = str(values(INVOICE_OPEN))
_OPEN_VOUCHER = str(values(VOUCHER_OPEN))

# What an enterprise could pledge or assign now (matching sizes offers on it): open receivables
# not assigned to a live financing, its active contracts as seller (orders), its active assets
# not pledged to a live financing, the live vouchers it holds.
_OPEN_RECEIVABLES = f"""
  OPTIONAL MATCH (i:{_INV})-[:{Rel.SELLER.value}]->(e)
  WHERE coalesce(i.status, '{InvoiceStatus.ISSUED}') IN {_OPEN_INVOICE}
    AND NOT EXISTS {{ (i)-[:{Rel.ASSIGNED_TO.value}]->(f:{_FIN})
                     WHERE f.status IN {LIVE_FINANCING} }}"""
_OPEN_ORDERS = f"""
  OPTIONAL MATCH (e)-[pr:{Rel.PARTY.value}]->(c:{Label.CONTRACT.value})
  WHERE pr.role = 'seller' AND c.status = '{ContractStatus.ACTIVE}'"""
_FREE_ASSETS = f"""
  OPTIONAL MATCH (e)-[:{Rel.OWNS.value}]->(a:{_ASSET})
  WHERE coalesce(a.status, '{AssetStatus.ACTIVE}') = '{AssetStatus.ACTIVE}'
    AND NOT EXISTS {{ (a)-[:{Rel.PLEDGED_TO.value}]->(f:{_FIN})
                     WHERE f.status IN {LIVE_FINANCING} }}"""
_HELD_VOUCHERS = f"""
  OPTIONAL MATCH (v:{_V})-[:{Rel.HELD_BY.value}]->(e) WHERE v.status = 'live'"""

ENTERPRISE_FACTS = f"""
MATCH (e:{_E} {{id: $id}})
CALL (e) {{
  OPTIONAL MATCH p = (e)-[:{Rel.SUPPLIES.value}*1..5]->(core:{_E})
  WHERE core.is_core = true AND e <> core
  WITH p, core ORDER BY length(p), core.id LIMIT 1
  RETURN length(p) AS tier, core.id AS core_id,
         [r IN relationships(p) | coalesce(r.amount_12m, 0)] AS path_amounts,
         CASE WHEN p IS NULL THEN null ELSE relationships(p)[0].first_on END AS first_on,
         CASE WHEN p IS NULL THEN null ELSE endNode(relationships(p)[0]).id END AS buyer_id
}}
CALL (e) {{
  OPTIONAL MATCH (core:{_E})-[:{Rel.SUPPLIES.value}]->(e) WHERE core.is_core = true
  RETURN collect(core.id)[0] AS seller_core_id
}}
CALL (e) {{
  OPTIONAL MATCH c = (e)-[:{Rel.GUARANTEES.value}*1..6]->(e)
  UNWIND CASE WHEN c IS NULL THEN [null] ELSE nodes(c) END AS m
  RETURN [x IN collect(DISTINCT m.id) WHERE x IS NOT NULL] AS circle
}}
CALL (e) {{{_OPEN_RECEIVABLES}
  OPTIONAL MATCH (i)-[:{Rel.BUYER.value}]->(b:{_E})
  RETURN coalesce(sum(i.amount), 0) AS receivables,
         coalesce(sum(CASE WHEN b.is_core = true THEN i.amount END), 0) AS receivables_core
}}
CALL (e) {{{_OPEN_ORDERS}
  RETURN coalesce(sum(c.amount), 0) AS open_orders
}}
CALL (e) {{{_FREE_ASSETS}
  WITH a, coalesce(a.value_minor, toInteger(coalesce(a.quantity, 0) * coalesce(a.unit_value, 0)))
       AS value
  RETURN coalesce(sum(CASE WHEN a.kind = 'warehouse_receipt' THEN value END), 0) AS receipts,
         coalesce(sum(CASE WHEN a.kind <> 'warehouse_receipt' THEN value END), 0) AS movables,
         count(CASE WHEN EXISTS {{ (:{Label.SENSOR.value})-[:{Rel.MONITORS.value}]->(a) }}
                    THEN 1 END) AS monitored
}}
CALL (e) {{{_HELD_VOUCHERS}
  RETURN coalesce(sum(v.face_minor), 0) AS vouchers
}}
CALL (e) {{
  OPTIONAL MATCH (g)-[h:{Rel.HOLDS.value}]->(e) WHERE h.pct >= 50
  OPTIONAL MATCH (g)-[h2:{Rel.HOLDS.value}]->(m:{_E}) WHERE h2.pct >= 50
  WITH e, collect(DISTINCT m) AS others
  WITH others + [e] AS members
  UNWIND members AS m
  OPTIONAL MATCH (f:{_FIN})-[:{Rel.BORROWER.value}]->(m) WHERE f.status IN {LIVE_FINANCING}
  RETURN count(DISTINCT m) AS group_size, coalesce(sum(f.outstanding_minor), 0) AS group_exposure
}}
RETURN e {{.id, .name, .status, .is_core, .fraud_score, .default_score}} AS enterprise,
       tier, core_id, path_amounts, first_on, buyer_id, seller_core_id, circle,
       receivables, receivables_core, open_orders, receipts, movables, monitored, vouchers,
       group_size, group_exposure
"""


PLEDGEABLE = f"""
MATCH (e:{_E} {{id: $id}})
CALL (e) {{{_OPEN_RECEIVABLES}
  RETURN collect(i.id) AS invoice
}}
CALL (e) {{{_OPEN_ORDERS}
  RETURN collect(c.id) AS orders
}}
CALL (e) {{{_FREE_ASSETS}
  RETURN collect(CASE WHEN a.kind = 'warehouse_receipt' THEN a.id END) AS warehouse_receipt,
         collect(CASE WHEN a.kind <> 'warehouse_receipt' THEN a.id END) AS asset
}}
CALL (e) {{{_HELD_VOUCHERS}
  RETURN collect(v.id) AS voucher
}}
RETURN invoice, orders, warehouse_receipt, asset, voucher
"""


def pledgeable(driver: Driver, database: str, enterprise_id: str) -> dict[str, list[str]]:
    """The ids of what an enterprise could pledge or assign now, by collateral kind
    (``invoice``, ``order``, ``warehouse_receipt``, ``asset``, ``voucher``), sorted."""
    records, _, _ = driver.execute_query(
        PLEDGEABLE, id=enterprise_id, database_=database, routing_=RoutingControl.READ
    )
    if not records:
        return {}
    row = records[0].data()
    row["order"] = row.pop("orders")
    return {kind: sorted(ids) for kind, ids in row.items()}


def enterprise_facts(driver: Driver, database: str, enterprise_id: str) -> Row | None:
    records, _, _ = driver.execute_query(
        ENTERPRISE_FACTS, id=enterprise_id, database_=database, routing_=RoutingControl.READ
    )
    return records[0].data() if records else None


# --------------------------------------------------------------------------------------
# Applications, decisions, financings, collateral
# --------------------------------------------------------------------------------------


# What a piece of collateral `c` is worth as loan-to-value and the approval count it, in
# minor units: its value, a voucher's face, an invoice's amount, or quantity × unit value.
COLLATERAL_VALUE = (
    "coalesce(c.value_minor, c.face_minor, c.amount,"
    " toInteger(coalesce(c.quantity, 0) * coalesce(c.unit_value, 0)))"
)


def collateral_node(key: str) -> str:
    """A subquery finding the collateral node whose id is `key`, through the label indexes."""
    parts = [
        f"MATCH (c:{label} {{id: {key}}}) RETURN c"
        for label in (_INV, _ASSET, Label.CONTRACT.value, _V)
    ]
    return f"CALL ({key.split('.')[0]}) {{ " + " UNION ".join(parts) + " }"


MERGE_APPLICATION = f"""
MATCH (e:{_E} {{id: $enterprise_id}})
MERGE (a:{_APP} {{id: $id}})
ON CREATE SET a += $props, a.status = 'submitted', a.created_at = $now, a._new = true
MERGE (a)-[:{Rel.BORROWER.value}]->(e)
WITH a, coalesce(a._new, false) AS created
REMOVE a._new
RETURN a {{.*}} AS application, created
"""

LOCK_APPLICATION = f"""
MATCH (a:{_APP} {{id: $id}})
SET a._v = coalesce(a._v, 0) + 1
RETURN a {{.*}} AS application
"""

UPDATE_APPLICATION = f"""
MATCH (a:{_APP} {{id: $id}})
SET a += $props
"""

CREATE_DECISION = f"""
MATCH (a:{_APP} {{id: $application_id}})
CREATE (d:{_DEC})
SET d = $props
SET d.funder_id = coalesce(a.funder_id, $default)
CREATE (d)-[:{Rel.ABOUT.value}]->(a)
"""

DECISIONS_OF = f"""
MATCH (d:{_DEC})-[:{Rel.ABOUT.value}]->(a:{_APP} {{id: $id}})
RETURN d {{.*}} AS decision ORDER BY d.decided_at
"""

GET_APPLICATION = f"""
MATCH (a:{_APP} {{id: $id}})
RETURN a {{.*}} AS application
"""

# Lock every proposed collateral node, then say what it is, who it belongs to, its value,
# and which live financing it already backs (if any). Taken after the lock, so two racing
# pledges of the same node serialise and the second sees the first.
LOCK_COLLATERAL = f"""
UNWIND $ids AS cid
{collateral_node("cid")}
SET c._v = coalesce(c._v, 0) + 1
WITH c
OPTIONAL MATCH (c)-[:{Rel.PLEDGED_TO.value}|{Rel.ASSIGNED_TO.value}]->(f:{_FIN})
WHERE f.status IN {LIVE_FINANCING}
OPTIONAL MATCH (c)-[:{Rel.SELLER.value}]->(seller:{_E})
OPTIONAL MATCH (c)-[:{Rel.BUYER.value}]->(buyer:{_E})
OPTIONAL MATCH (owner:{_E})-[:{Rel.OWNS.value}]->(c)
OPTIONAL MATCH (c)-[:{Rel.HELD_BY.value}]->(holder:{_E})
OPTIONAL MATCH (party:{_E})-[pr:{Rel.PARTY.value}]->(c) WHERE pr.role = 'seller'
RETURN c.id AS id, labels(c)[0] AS label, c.kind AS kind, c.status AS status,
       {COLLATERAL_VALUE} AS value,
       coalesce(seller.id, owner.id, holder.id, party.id) AS owner_id, buyer.id AS buyer_id,
       collect(DISTINCT f.id) AS live_financings
"""

CREATE_FINANCING = f"""
MATCH (e:{_E} {{id: $borrower_id}})
MATCH (a:{_APP} {{id: $application_id}})
CREATE (f:{_FIN})
SET f = $props
CREATE (f)-[:{Rel.BORROWER.value}]->(e)
WITH f
OPTIONAL MATCH (l:{_LINE} {{id: $line_id}})
FOREACH (_ IN CASE WHEN l IS NULL THEN [] ELSE [1] END | CREATE (f)-[:{Rel.DRAWS_ON.value}]->(l))
WITH f
UNWIND $pledges AS p
{collateral_node("p.id")}
FOREACH (_ IN CASE WHEN p.rel = 'PLEDGED_TO' THEN [1] ELSE [] END |
  CREATE (c)-[:{Rel.PLEDGED_TO.value} {{id: f.id + ':' + c.id, pledged_on: date($now)}}]->(f))
FOREACH (_ IN CASE WHEN p.rel = 'ASSIGNED_TO' THEN [1] ELSE [] END |
  CREATE (c)-[:{Rel.ASSIGNED_TO.value} {{id: f.id + ':' + c.id, pledged_on: date($now)}}]->(f))
"""

LOCK_FINANCING = f"""
MATCH (f:{_FIN} {{id: $id}})
SET f._v = coalesce(f._v, 0) + 1
RETURN f {{.*}} AS financing
"""

GET_FINANCING = f"""
MATCH (f:{_FIN} {{id: $id}})
RETURN f {{.*}} AS financing
"""

UPDATE_FINANCING = f"""
MATCH (f:{_FIN} {{id: $id}})
SET f += $props
"""

# Only what ChainLens originated: a loaded financing is its lender's to service.
FINANCINGS_BY_STATUS = f"""
MATCH (f:{_FIN})
WHERE f.status IN $statuses AND f.origin = '{FinancingOrigin.ORIGINATED}'
RETURN f.id AS id ORDER BY id
"""

# Approved or contracted, never disbursed, approved before $before. Financings made before
# `approved_on` was kept count from their creation day.
UNDRAWN_APPROVALS_BEFORE = f"""
MATCH (f:{_FIN})
WHERE f.status IN $statuses AND f.origin = '{FinancingOrigin.ORIGINATED}'
  AND coalesce(f.approved_on, date(f.created_at)) < $before
RETURN f.id AS id ORDER BY id
"""

FINANCINGS_OF_COLLATERAL = f"""
MATCH (c:{_ASSET} {{id: $id}})-[:{Rel.PLEDGED_TO.value}]->(f:{_FIN})
WHERE f.status IN {LIVE_FINANCING}
RETURN f.id AS id ORDER BY id
"""

COLLATERAL_OF_FINANCING = f"""
MATCH (c)-[:{Rel.PLEDGED_TO.value}|{Rel.ASSIGNED_TO.value}]->(f:{_FIN} {{id: $id}})
RETURN c.id AS id, labels(c)[0] AS label, {COLLATERAL_VALUE} AS value
ORDER BY id
"""

SET_ASSET_VALUE = f"""
MATCH (a:{_ASSET} {{id: $id}})
SET a._v = coalesce(a._v, 0) + 1, a.value_minor = $value, a.value_currency = $currency,
    a.valued_at = $now
RETURN a.id AS id
"""

MERGE_ALERT = f"""
MATCH (f:{_FIN} {{id: $financing_id}})
MERGE (al:{_ALERT} {{id: $id}})
ON CREATE SET al += $props
MERGE (al)-[:{Rel.ABOUT.value}]->(f)
RETURN al {{.*}} AS alert
"""


def merge_application(
    tx: ManagedTransaction, id: str, enterprise_id: str, props: Row, now: Any
) -> Row | None:
    props = declared(Label.APPLICATION, props)
    rec = tx.run(MERGE_APPLICATION, id=id, enterprise_id=enterprise_id, props=props, now=now)
    one = _one(rec)
    return None if one is None else one.data()


def lock_application(tx: ManagedTransaction, id: str) -> Row | None:
    rec = _one(tx.run(LOCK_APPLICATION, id=id))
    return None if rec is None else dict(rec["application"])


def update_application(tx: ManagedTransaction, id: str, props: Row) -> None:
    tx.run(UPDATE_APPLICATION, id=id, props=declared(Label.APPLICATION, props)).consume()


def create_decision(tx: ManagedTransaction, application_id: str, props: Row) -> None:
    tx.run(
        CREATE_DECISION, application_id=application_id, props=declared(Label.DECISION, props),
        default=DEFAULT_FUNDER,
    ).consume()


def decisions_of(driver: Driver, database: str, application_id: str) -> list[Row]:
    records, _, _ = driver.execute_query(
        DECISIONS_OF, id=application_id, database_=database, routing_=RoutingControl.READ
    )
    return [r["decision"] for r in records]


def get_application(driver: Driver, database: str, id: str) -> Row | None:
    records, _, _ = driver.execute_query(
        GET_APPLICATION, id=id, database_=database, routing_=RoutingControl.READ
    )
    return dict(records[0]["application"]) if records else None


def lock_collateral(tx: ManagedTransaction, ids: Sequence[str]) -> list[Row]:
    return [r.data() for r in tx.run(LOCK_COLLATERAL, ids=sorted(set(ids)))]


def create_financing(
    tx: ManagedTransaction,
    props: Row,
    borrower_id: str,
    application_id: str,
    line_id: str | None,
    pledges: Sequence[Row],
    now: Any,
) -> None:
    tx.run(
        CREATE_FINANCING,
        props=declared(Label.FINANCING, props),
        borrower_id=borrower_id,
        application_id=application_id,
        line_id=line_id,
        pledges=list(pledges),
        now=now,
    ).consume()


def lock_financing(tx: ManagedTransaction, id: str) -> Row | None:
    rec = _one(tx.run(LOCK_FINANCING, id=id))
    return None if rec is None else dict(rec["financing"])


def get_financing(driver: Driver, database: str, id: str) -> Row | None:
    records, _, _ = driver.execute_query(
        GET_FINANCING, id=id, database_=database, routing_=RoutingControl.READ
    )
    return dict(records[0]["financing"]) if records else None


def get_financing_tx(tx: ManagedTransaction, id: str) -> Row | None:
    rec = _one(tx.run(GET_FINANCING, id=id))
    return None if rec is None else dict(rec["financing"])


def update_financing(tx: ManagedTransaction, id: str, props: Row) -> None:
    tx.run(UPDATE_FINANCING, id=id, props=declared(Label.FINANCING, props)).consume()


def financings_by_status(driver: Driver, database: str, statuses: Sequence[str]) -> list[str]:
    records, _, _ = driver.execute_query(
        FINANCINGS_BY_STATUS,
        statuses=list(statuses),
        database_=database,
        routing_=RoutingControl.READ,
    )
    return [r["id"] for r in records]


def undrawn_approvals_before(
    driver: Driver, database: str, statuses: Sequence[str], before: date
) -> list[str]:
    records, _, _ = driver.execute_query(
        UNDRAWN_APPROVALS_BEFORE,
        statuses=list(statuses),
        before=before,
        database_=database,
        routing_=RoutingControl.READ,
    )
    return [r["id"] for r in records]


def financings_of_collateral(tx: ManagedTransaction, id: str) -> list[str]:
    return [r["id"] for r in tx.run(FINANCINGS_OF_COLLATERAL, id=id)]


def collateral_of_financing(tx: ManagedTransaction, id: str) -> list[Row]:
    return [r.data() for r in tx.run(COLLATERAL_OF_FINANCING, id=id)]


def set_asset_value(tx: ManagedTransaction, id: str, value: int, currency: str, now: Any) -> bool:
    return _one(tx.run(SET_ASSET_VALUE, id=id, value=value, currency=currency, now=now)) is not None


def merge_alert(tx: ManagedTransaction, id: str, financing_id: str, props: Row) -> Row | None:
    props = declared(Label.ALERT, props)
    rec = _one(tx.run(MERGE_ALERT, id=id, financing_id=financing_id, props=props))
    return None if rec is None else dict(rec["alert"])


# --------------------------------------------------------------------------------------
# E-credit vouchers
# --------------------------------------------------------------------------------------

CREATE_VOUCHER = f"""
MATCH (core:{_E} {{id: $core_id}}), (h:{_E} {{id: $holder_id}})
CREATE (v:{_V})
SET v = $props
CREATE (v)-[:{Rel.ISSUED_BY.value}]->(core)
CREATE (v)-[:{Rel.HELD_BY.value} {{since: $on}}]->(h)
CREATE (v)-[:{Rel.HELD.value} {{seq: 1, from_on: $on, how: 'issued'}}]->(h)
WITH v
UNWIND $invoice_ids AS iid
MATCH (i:{_INV} {{id: iid}})
CREATE (v)-[:{Rel.ABOUT.value}]->(i)
"""

# The core's answers on payables to the first holder (locked), and whether a voucher already
# draws on them.
PAYABLES = f"""
UNWIND $ids AS iid
MATCH (i:{_INV} {{id: iid}})-[:{Rel.BUYER.value}]->(b:{_E})
MATCH (i)-[:{Rel.SELLER.value}]->(s:{_E})
SET i._v = coalesce(i._v, 0) + 1
RETURN i.id AS id, i.amount AS amount, i.status AS status, i.confirmation AS confirmation,
       i.confirmed_minor AS confirmed_minor, i.currency AS currency, b.id AS buyer_id,
       s.id AS seller_id, EXISTS {{ MATCH (:{_V})-[:{Rel.ABOUT.value}]->(i) }} AS used,
       [(i)-[:{Rel.ASSIGNED_TO.value}]->(f:{_FIN}) WHERE f.status IN {LIVE_FINANCING} | f.id][0]
         AS financing_id
"""

LOCK_VOUCHER = f"""
MATCH (v:{_V} {{id: $id}})
SET v._v = coalesce(v._v, 0) + 1
WITH v
OPTIONAL MATCH (v)-[:{Rel.HELD_BY.value}]->(h:{_E})
OPTIONAL MATCH (v)-[hist:{Rel.HELD.value}]->(:{_E})
RETURN v {{.*}} AS voucher, h.id AS holder_id, count(hist) AS holdings
"""

SPLIT_VOUCHER = f"""
MATCH (p:{_V} {{id: $parent_id}})-[hb:{Rel.HELD_BY.value}]->(h:{_E})
MATCH (p)-[hist:{Rel.HELD.value}]->(h) WHERE hist.to_on IS NULL
SET p.status = 'split', p.split_on = $on, hist.to_on = $on
DELETE hb
WITH p, h
MATCH (p)-[:{Rel.ISSUED_BY.value}]->(core:{_E})
UNWIND $children AS c
CREATE (v:{_V})
SET v = c
CREATE (v)-[:{Rel.SPLIT_FROM.value}]->(p)
CREATE (v)-[:{Rel.ISSUED_BY.value}]->(core)
CREATE (v)-[:{Rel.HELD_BY.value} {{since: $on}}]->(h)
CREATE (v)-[:{Rel.HELD.value} {{seq: 1, from_on: $on, how: 'split'}}]->(h)
"""

MOVE_VOUCHER = f"""
MATCH (v:{_V} {{id: $id}})-[hb:{Rel.HELD_BY.value}]->(old:{_E})
MATCH (v)-[hist:{Rel.HELD.value}]->(old) WHERE hist.to_on IS NULL
MATCH (new:{_E} {{id: $to_id}})
SET hist.to_on = $on
DELETE hb
CREATE (v)-[:{Rel.HELD_BY.value} {{since: $on}}]->(new)
CREATE (v)-[:{Rel.HELD.value} {{seq: $seq, from_on: $on, how: 'transfer'}}]->(new)
"""

SUPPLIES_TO = f"""
RETURN EXISTS {{ MATCH (:{_E} {{id: $from_id}})-[:{Rel.SUPPLIES.value}]->(:{_E} {{id: $to_id}}) }}
       AS ok
"""

UPDATE_VOUCHER = f"""
MATCH (v:{_V} {{id: $id}})
SET v += $props
"""

# The live leaves of a voucher tree (what is paid at clearing), locked.
VOUCHER_LEAVES = f"""
MATCH (v:{_V} {{root_id: $root_id}})
WHERE v.status IN {_OPEN_VOUCHER}
SET v._v = coalesce(v._v, 0) + 1
WITH v
OPTIONAL MATCH (v)-[:{Rel.HELD_BY.value}]->(h:{_E})
RETURN v {{.*}} AS voucher, h.id AS holder_id ORDER BY v.id
"""

# A voucher with its parent, its holder and every holder in order.
_VOUCHER_ROW = f"""
OPTIONAL MATCH (v)-[:{Rel.SPLIT_FROM.value}]->(p:{_V})
OPTIONAL MATCH (v)-[:{Rel.HELD_BY.value}]->(h:{_E})
CALL (v) {{
  OPTIONAL MATCH (v)-[r:{Rel.HELD.value}]->(e:{_E})
  WITH r, e ORDER BY r.seq
  RETURN collect(e.id) AS holders
}}
RETURN v {{.*}} AS voucher, p.id AS parent_id, h.id AS holder_id, holders
"""
VOUCHER_TREE = f"MATCH (v:{_V} {{root_id: $root_id}})\n{_VOUCHER_ROW}ORDER BY v.id\n"
VOUCHER_ONE = f"MATCH (v:{_V} {{id: $id}})\n{_VOUCHER_ROW}"

# How far down the chain the core's credit reached: every enterprise that ever held one of
# its vouchers, with its tier (SUPPLIES hops to the core).
VOUCHER_REACH = f"""
MATCH (core:{_E} {{id: $core_id}})
MATCH (v:{_V} {{core_id: $core_id}})-[:{Rel.HELD.value}]->(h:{_E})
WITH core, h, sum(v.face_minor) AS face
OPTIONAL MATCH p = shortestPath((h)-[:{Rel.SUPPLIES.value}*1..8]->(core))
WITH length(p) AS tier, count(h) AS holders, collect(h.id) AS ids
RETURN tier, holders, ids ORDER BY tier
"""


def payables(tx: ManagedTransaction, ids: Sequence[str]) -> list[Row]:
    return [r.data() for r in tx.run(PAYABLES, ids=sorted(set(ids)))]


def create_voucher(
    tx: ManagedTransaction,
    props: Row,
    core_id: str,
    holder_id: str,
    invoice_ids: Sequence[str],
    on: Any,
) -> None:
    tx.run(
        CREATE_VOUCHER,
        props=declared(Label.VOUCHER, props),
        core_id=core_id,
        holder_id=holder_id,
        invoice_ids=list(invoice_ids),
        on=on,
    ).consume()


def lock_voucher(tx: ManagedTransaction, id: str) -> Row | None:
    rec = _one(tx.run(LOCK_VOUCHER, id=id))
    return None if rec is None else rec.data()


def split_voucher(tx: ManagedTransaction, parent_id: str, children: Sequence[Row], on: Any) -> None:
    tx.run(SPLIT_VOUCHER, parent_id=parent_id, children=list(children), on=on).consume()


def move_voucher(tx: ManagedTransaction, id: str, to_id: str, seq: int, on: Any) -> None:
    tx.run(MOVE_VOUCHER, id=id, to_id=to_id, seq=seq, on=on).consume()


def supplies_to(tx: ManagedTransaction, from_id: str, to_id: str) -> bool:
    rec = _one(tx.run(SUPPLIES_TO, from_id=from_id, to_id=to_id))
    return bool(rec and rec["ok"])


def update_voucher(tx: ManagedTransaction, id: str, props: Row) -> None:
    tx.run(UPDATE_VOUCHER, id=id, props=declared(Label.VOUCHER, props)).consume()


def voucher_leaves(tx: ManagedTransaction, root_id: str) -> list[Row]:
    return [r.data() for r in tx.run(VOUCHER_LEAVES, root_id=root_id)]


def voucher_tree(driver: Driver, database: str, root_id: str) -> list[Row]:
    records, _, _ = driver.execute_query(
        VOUCHER_TREE, root_id=root_id, database_=database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records]


def voucher_one(driver: Driver, database: str, id: str) -> Row | None:
    """One voucher as `voucher_tree` answers it; None when there is none."""
    records, _, _ = driver.execute_query(
        VOUCHER_ONE, id=id, database_=database, routing_=RoutingControl.READ
    )
    return records[0].data() if records else None


def voucher_reach(driver: Driver, database: str, core_id: str) -> list[Row]:
    records, _, _ = driver.execute_query(
        VOUCHER_REACH, core_id=core_id, database_=database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records]


# The benchmark's baseline: the same transfer rows written with no checks and no balances
# (the uniqueness constraint on Transfer.id still applies).
PLAIN_TRANSFER_WRITE = f"""
UNWIND $rows AS row
CREATE (t:{_TR})
SET t = row, t.value_at = datetime(row.value_at), t.created_at = datetime(row.created_at)
"""


def plain_transfer_write(tx: ManagedTransaction, rows: Sequence[Row]) -> None:
    tx.run(PLAIN_TRANSFER_WRITE, rows=list(rows)).consume()
