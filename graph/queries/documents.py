"""Cypher for documents (licences and invoices read by OCR, docs/documents.md): the graph's
facts a document is checked against, and the `Document` nodes that record each check."""

from __future__ import annotations

from typing import Any

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.model import Label, Rel, declared

_E = Label.ENTERPRISE.value
_INV = Label.INVOICE.value
_DOC = Label.DOCUMENT.value
_P = Label.PERSON.value
_PROVES = Rel.PROVES.value

Row = dict[str, Any]

_ENTERPRISE_FIELDS = ".id, .name, .uscc, .legal_form, .registered_capital, .founded_on"

# The enterprise with this USCC and the names of its legal representatives.
ENTERPRISE_BY_USCC = f"""
MATCH (e:{_E} {{uscc: $uscc}})
RETURN e {{{_ENTERPRISE_FIELDS}}} AS enterprise,
       [(p:{_P})-[r:{Rel.ROLE.value}]->(e) WHERE r.kind = 'legal_representative' | p.name]
         AS legal_reps
ORDER BY e.id LIMIT 2
"""

ENTERPRISE_BY_ID = f"""
MATCH (e:{_E} {{id: $id}})
RETURN e {{{_ENTERPRISE_FIELDS}}} AS enterprise,
       [(p:{_P})-[r:{Rel.ROLE.value}]->(e) WHERE r.kind = 'legal_representative' | p.name]
         AS legal_reps
"""

# The invoice with its parties as the graph knows them.
INVOICE_FACTS = f"""
MATCH (i:{_INV} {{id: $id}})
OPTIONAL MATCH (i)-[:{Rel.SELLER.value}]->(s:{_E})
OPTIONAL MATCH (i)-[:{Rel.BUYER.value}]->(b:{_E})
RETURN i {{.id, .amount, .tax, .currency, .issued_on, .status}} AS invoice,
       s {{.id, .name, .uscc}} AS seller, b {{.id, .name, .uscc}} AS buyer
"""

# Earlier documents that showed the same invoice code and number.
SEEN_INVOICE_KEY = f"""
MATCH (d:{_DOC} {{invoice_key: $key}})
RETURN d.id AS id, d.invoice_id AS invoice_id, d.file_hash AS file_hash,
       d.uploaded_at AS uploaded_at
ORDER BY d.uploaded_at
"""

CREATE_DOCUMENT = f"""
CREATE (d:{_DOC})
SET d = $props
WITH d
OPTIONAL MATCH (e:{_E} {{id: $enterprise_id}})
OPTIONAL MATCH (i:{_INV} {{id: $invoice_id}})
FOREACH (_ IN CASE WHEN e IS NULL THEN [] ELSE [1] END | CREATE (d)-[:{_PROVES}]->(e))
FOREACH (_ IN CASE WHEN i IS NULL THEN [] ELSE [1] END | CREATE (d)-[:{_PROVES}]->(i))
RETURN d.id AS id
"""

DOCUMENT = f"""
MATCH (d:{_DOC} {{id: $id}})
RETURN d {{.*}} AS document
"""


def enterprise_by_uscc(driver: Driver, database: str, uscc: str) -> list[Row]:
    records, _, _ = driver.execute_query(
        ENTERPRISE_BY_USCC, uscc=uscc, database_=database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records]


def enterprise_by_id(driver: Driver, database: str, enterprise_id: str) -> Row | None:
    records, _, _ = driver.execute_query(
        ENTERPRISE_BY_ID, id=enterprise_id, database_=database, routing_=RoutingControl.READ
    )
    return records[0].data() if records else None


def invoice_facts(driver: Driver, database: str, invoice_id: str) -> Row | None:
    records, _, _ = driver.execute_query(
        INVOICE_FACTS, id=invoice_id, database_=database, routing_=RoutingControl.READ
    )
    return records[0].data() if records else None


def seen_invoice_key(driver: Driver, database: str, key: str) -> list[Row]:
    records, _, _ = driver.execute_query(
        SEEN_INVOICE_KEY, key=key, database_=database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records]


def create_document(driver: Driver, database: str, props: Row) -> str:
    """Store one Document and its PROVES edges to the enterprise and invoice it names."""
    props = declared(Label.DOCUMENT, props)

    def work(tx: ManagedTransaction) -> str:
        rec = tx.run(
            CREATE_DOCUMENT,
            props=props,
            enterprise_id=props.get("enterprise_id"),
            invoice_id=props.get("invoice_id"),
        ).single()
        assert rec is not None
        return str(rec["id"])

    with driver.session(database=database) as session:
        return session.execute_write(work)


def get_document(driver: Driver, database: str, document_id: str) -> Row | None:
    records, _, _ = driver.execute_query(
        DOCUMENT, id=document_id, database_=database, routing_=RoutingControl.READ
    )
    return dict(records[0]["document"]) if records else None
