"""Cypher for importing Beneficial Ownership Data Standard (BODS 0.4) statements.

Enterprises and persons from BODS are MERGEd on `id` (an existing enterprise found by its
USCC keeps its own id and data; new ones get `bods:<recordId>`); holdings are MERGEd on their
endpoints, so importing the same statements twice gives the same graph.
"""

from __future__ import annotations

from graph.model import Label, Rel

_E = Label.ENTERPRISE.value
_P = Label.PERSON.value
_HOLDS = Rel.HOLDS.value

ENTERPRISES_BY_USCC = f"""
UNWIND $usccs AS uscc
MATCH (e:{_E} {{uscc: uscc}})
RETURN uscc, min(e.id) AS id
"""

MERGE_ENTERPRISES = f"""
UNWIND $rows AS row
MERGE (e:{_E} {{id: row.id}})
ON CREATE SET e.name = row.name, e.uscc = row.uscc, e.source = 'bods',
              e.entity_type = row.entity_type
SET e.bods_record_id = row.record_id
"""

MERGE_PERSONS = f"""
UNWIND $rows AS row
MERGE (p:{_P} {{id: row.id}})
ON CREATE SET p.name = row.name, p.source = 'bods'
SET p.bods_record_id = row.record_id
"""


def _merge_holdings(holder: Label) -> str:
    return f"""
UNWIND $rows AS row
MATCH (h:{holder.value} {{id: row.holder_id}})
MATCH (e:{_E} {{id: row.enterprise_id}})
MERGE (h)-[r:{_HOLDS}]->(e)
SET r.pct = row.pct, r.since = row.since, r.source = 'bods', r.bods_record_id = row.record_id
"""


MERGE_HOLDINGS_BY_ENTERPRISE = _merge_holdings(Label.ENTERPRISE)
MERGE_HOLDINGS_BY_PERSON = _merge_holdings(Label.PERSON)

# A closed BODS relationship removes the holding it had created (and only that one).
DELETE_HOLDINGS = f"""
UNWIND $record_ids AS rid
MATCH ()-[r:{_HOLDS} {{bods_record_id: rid}}]->()
DELETE r
RETURN count(r) AS deleted
"""
