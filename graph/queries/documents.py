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

# Enterprises by id (entity resolution's candidates for a licence), with their legal
# representatives; in the order given.
ENTERPRISES_BY_IDS = f"""
UNWIND range(0, size($ids) - 1) AS n
MATCH (e:{_E} {{id: $ids[n]}})
RETURN e {{{_ENTERPRISE_FIELDS}}} AS enterprise,
       [(p:{_P})-[r:{Rel.ROLE.value}]->(e) WHERE r.kind = 'legal_representative' | p.name]
         AS legal_reps
ORDER BY n
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


GOODS_NAMES = f"MATCH (g:{Label.GOODS.value}) WHERE g.name IS NOT NULL RETURN g.name AS name"


def goods_names(driver: Driver, database: str) -> list[str]:
    """The names of the goods the graph holds (the words of business scopes they appear
    in, `documents.lexicon`)."""
    records, _, _ = driver.execute_query(
        GOODS_NAMES, database_=database, routing_=RoutingControl.READ
    )
    return [str(r["name"]) for r in records]


def enterprise_by_id(driver: Driver, database: str, enterprise_id: str) -> Row | None:
    records, _, _ = driver.execute_query(
        ENTERPRISE_BY_ID, id=enterprise_id, database_=database, routing_=RoutingControl.READ
    )
    return records[0].data() if records else None


def enterprises_by_ids(driver: Driver, database: str, ids: list[str]) -> list[Row]:
    records, _, _ = driver.execute_query(
        ENTERPRISES_BY_IDS, ids=ids, database_=database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records]


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


# --------------------------------------------------------------------------------------
# Contract review (documents/review.py) and documents attached to applications
# --------------------------------------------------------------------------------------

_APP = Label.APPLICATION.value
_FIN = Label.FINANCING.value
_CON = Label.CONTRACT.value

# What a contract is reviewed against: the application (a financing's own, or the
# financing's borrower and collateral when it was loaded without one), its applicant, the
# graph's contracts under the invoices offered with their parties, and those invoices' buyers.
CONTRACT_EXPECTED = f"""
OPTIONAL MATCH (f:{_FIN} {{id: $financing_id}})
OPTIONAL MATCH (a:{_APP}) WHERE a.id = coalesce($application_id, f.application_id)
WITH a, f WHERE a IS NOT NULL OR f IS NOT NULL
MATCH (e:{_E} {{id: coalesce(a.enterprise_id, f.borrower_id)}})
WITH a, f, e, coalesce(a.collateral_ids,
     [(i:{_INV})-[:{Rel.ASSIGNED_TO.value}]->(f) | i.id]) AS invoice_ids
CALL (invoice_ids) {{
  OPTIONAL MATCH (i:{_INV})-[:{Rel.UNDER.value}]->(c:{_CON}) WHERE i.id IN invoice_ids
  WITH DISTINCT c WHERE c IS NOT NULL
  RETURN collect({{contract: c {{.id, .amount, .currency, .signed_on, .due_on}},
                  parties: [(p:{_E})-[:{Rel.PARTY.value}]->(c) | p {{.id, .name, .uscc}}]}})
         AS contracts
}}
CALL (invoice_ids) {{
  OPTIONAL MATCH (i:{_INV})-[:{Rel.BUYER.value}]->(b:{_E}) WHERE i.id IN invoice_ids
  RETURN [x IN collect(DISTINCT b {{.id, .name, .uscc}}) WHERE x IS NOT NULL] AS buyers
}}
RETURN coalesce(a {{.id, .amount_minor, .currency, .funder_id, .enterprise_id}},
                {{id: null, amount_minor: f.amount_minor, currency: f.currency,
                  funder_id: f.funder_id, enterprise_id: f.borrower_id}}) AS application,
       f {{.id, .amount_minor, .currency, .start_on, .maturity_on, .funder_id,
           .product_kind}} AS financing,
       e {{.id, .name, .uscc}} AS applicant, contracts, buyers
"""

STORE_REVIEW = f"""
MATCH (d:{_DOC} {{id: $id}})
SET d += $props
RETURN d.id AS id
"""

# The document with what it proves: the enterprise named and the parties of its invoice.
DOCUMENT_PARTIES = f"""
MATCH (d:{_DOC} {{id: $id}})
RETURN d {{.id, .kind, .outcome, .enterprise_id, .invoice_id}} AS document,
       [(d)-[:{_PROVES}]->(x:{_E}) | x.id]
       + [(d)-[:{_PROVES}]->(:{_INV})-[:{Rel.SELLER.value}|{Rel.BUYER.value}]->(x:{_E}) | x.id]
         AS enterprises
"""

ATTACH_DOCUMENTS = f"""
MATCH (a:{_APP} {{id: $application_id}})
UNWIND $document_ids AS did
MATCH (d:{_DOC} {{id: did}})
MERGE (d)-[r:{Rel.ATTACHED_TO.value}]->(a)
ON CREATE SET r.by = $by, r.at = $at
RETURN count(r) AS attached
"""

APPLICATION_DOCUMENTS = f"""
MATCH (d:{_DOC})-[r:{Rel.ATTACHED_TO.value}]->(:{_APP} {{id: $application_id}})
RETURN d {{.*}} AS document, r.by AS attached_by, r.at AS attached_at
ORDER BY attached_at, d.id
"""


def contract_expected(
    driver: Driver, database: str, application_id: str | None, financing_id: str | None
) -> Row | None:
    records, _, _ = driver.execute_query(
        CONTRACT_EXPECTED, application_id=application_id, financing_id=financing_id,
        database_=database, routing_=RoutingControl.READ,
    )  # fmt: skip
    return records[0].data() if records else None


def store_review(driver: Driver, database: str, document_id: str, props: Row) -> bool:
    """Record a contract review on its Document; False when there is no such document."""
    props = declared(Label.DOCUMENT, props)
    records, _, _ = driver.execute_query(
        STORE_REVIEW, id=document_id, props=props, database_=database
    )
    return bool(records)


def document_parties(driver: Driver, database: str, document_id: str) -> Row | None:
    records, _, _ = driver.execute_query(
        DOCUMENT_PARTIES, id=document_id, database_=database, routing_=RoutingControl.READ
    )
    return records[0].data() if records else None


def attach_documents(
    driver: Driver, database: str, application_id: str, document_ids: list[str], by: str,
    at: str,
) -> int:  # fmt: skip
    """Attach documents to an application (idempotent: an attachment keeps its first time)."""
    records, _, _ = driver.execute_query(
        ATTACH_DOCUMENTS, application_id=application_id, document_ids=document_ids, by=by,
        at=at, database_=database,
    )  # fmt: skip
    return int(records[0]["attached"]) if records else 0


def application_documents(driver: Driver, database: str, application_id: str) -> list[Row]:
    records, _, _ = driver.execute_query(
        APPLICATION_DOCUMENTS, application_id=application_id, database_=database,
        routing_=RoutingControl.READ,
    )  # fmt: skip
    return [{**r["document"], "attached_by": r["attached_by"], "attached_at": r["attached_at"]}
            for r in records]  # fmt: skip


# --------------------------------------------------------------------------------------
# An enterprise's documents (GraphQL `documents`, api/graphql/documents.py)
# --------------------------------------------------------------------------------------

# The documents of the given kinds that concern an enterprise: those that prove it, and
# those that prove an invoice it sells or buys under; newest first.
ENTERPRISE_DOCUMENTS = f"""
MATCH (e:{_E} {{id: $enterprise_id}})
CALL (e) {{
  MATCH (d:{_DOC})-[:{_PROVES}]->(e) RETURN d
  UNION
  MATCH (d:{_DOC})-[:{_PROVES}]->(:{_INV})-[:{Rel.SELLER.value}|{Rel.BUYER.value}]->(e)
  RETURN d
}}
WITH DISTINCT d WHERE d.kind IN $kinds
RETURN d {{.*}} AS document
ORDER BY d.uploaded_at DESC, d.id DESC
LIMIT $first
"""


def enterprise_documents(
    driver: Driver, database: str, enterprise_id: str, kinds: list[str], first: int
) -> list[Row]:
    records, _, _ = driver.execute_query(
        ENTERPRISE_DOCUMENTS, enterprise_id=enterprise_id, kinds=kinds, first=first,
        database_=database, routing_=RoutingControl.READ,
    )  # fmt: skip
    return [dict(r["document"]) for r in records]
