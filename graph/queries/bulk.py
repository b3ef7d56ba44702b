"""Bulk loading of a generated folder for benchmarks (`bench/analytics.py`, `bench/gnn.py`).

The loader (`ingest.loader`) is the real path: validation, rejects, lineage, resumable
batches. A 100k-enterprise benchmark graph only needs the nodes and relationships the
analytics read, loaded in large `UNWIND $rows` batches; the writes still MERGE on keys, so a
re-run is idempotent. SUPPLIES is then derived by the loader's own `recompute_supplies`.
"""

from __future__ import annotations

from graph.model import Label, Rel

L, R = Label, Rel

ENTERPRISES = f"""
UNWIND $rows AS row
MERGE (e:{L.ENTERPRISE} {{id: row.id}})
SET e.name = row.name, e.is_core = row.is_core, e.status = row.status
WITH e, row
MERGE (a:{L.ADDRESS} {{id: row.address_id}})
MERGE (p:{L.PHONE} {{id: row.phone_id}})
MERGE (e)-[:{R.LOCATED_AT}]->(a)
MERGE (e)-[:{R.HAS_PHONE}]->(p)
"""

# Bare enterprises for `bench/gnn.py`, which measures only the score write-back onto them.
PLACEHOLDER_ENTERPRISES = f"""
UNWIND $rows AS row
MERGE (e:{L.ENTERPRISE} {{id: row.id}})
SET e.name = row.name
"""

PERSONS = f"""
UNWIND $rows AS row
MERGE (p:{L.PERSON} {{id: row.id}})
SET p.name = row.name
"""


def _holds(holder: Label) -> str:
    return f"""
UNWIND $rows AS row
MATCH (h:{holder} {{id: row.holder_id}}), (e:{L.ENTERPRISE} {{id: row.enterprise_id}})
MERGE (h)-[r:{R.HOLDS}]->(e)
SET r.pct = row.pct
"""


HOLDS = {"person": _holds(L.PERSON), "enterprise": _holds(L.ENTERPRISE)}

ROLES = f"""
UNWIND $rows AS row
MATCH (p:{L.PERSON} {{id: row.person_id}}), (e:{L.ENTERPRISE} {{id: row.enterprise_id}})
MERGE (p)-[r:{R.ROLE} {{kind: row.kind}}]->(e)
"""


def _guarantees(guarantor: Label) -> str:
    return f"""
UNWIND $rows AS row
MATCH (g:{guarantor} {{id: row.guarantor_id}}), (e:{L.ENTERPRISE} {{id: row.beneficiary_id}})
MERGE (g)-[r:{R.GUARANTEES} {{id: row.id}}]->(e)
SET r.amount = row.amount
"""


GUARANTEES = {"person": _guarantees(L.PERSON), "enterprise": _guarantees(L.ENTERPRISE)}

INVOICES = f"""
UNWIND $rows AS row
MATCH (s:{L.ENTERPRISE} {{id: row.seller_id}}), (b:{L.ENTERPRISE} {{id: row.buyer_id}})
MERGE (i:{L.INVOICE} {{id: row.id}})
SET i.amount = row.amount, i.tax = row.tax, i.issued_on = row.issued_on, i.status = row.status,
    i.currency = 'CNY'
MERGE (i)-[:{R.SELLER}]->(s)
MERGE (i)-[:{R.BUYER}]->(b)
"""

COUNT_ENTERPRISES = f"""
MATCH (e:{L.ENTERPRISE}) WHERE NOT e.id STARTS WITH 'DENSE-' RETURN count(e) AS n
"""
CORES = f"MATCH (e:{L.ENTERPRISE}) WHERE e.is_core RETURN e.id AS id ORDER BY id"

# A dense synthetic chain for the naive-vs-frontier comparison: `width` firms per tier, each
# supplying several firms of the next tier toward one focal firm, so the number of paths grows
# as fan^tier while the number of firms grows only as width * tiers.
DENSE_FIRMS = f"""
UNWIND $ids AS id
MERGE (e:{L.ENTERPRISE} {{id: id}})
SET e.name = 'Dense chain firm ' + id, e.is_core = false
"""

DENSE_SUPPLIES = f"""
UNWIND $rows AS row
MATCH (s:{L.ENTERPRISE} {{id: row.seller}}), (b:{L.ENTERPRISE} {{id: row.buyer}})
MERGE (s)-[r:{R.SUPPLIES}]->(b)
SET r.amount_12m = row.amount, r.invoices_12m = 12, r.first_on = date('2024-09-01'),
    r.last_on = date('2025-08-31')
"""

DENSE_CLEAR = f"""
MATCH (e:{L.ENTERPRISE}) WHERE e.id STARTS WITH 'DENSE-'
DETACH DELETE e
"""
