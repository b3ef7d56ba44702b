"""Cypher for financing contracts (docs/documents.md#financing-contracts): what a financing's
contract is filled from (the financing, its application, the borrower, the funder and the
collateral pledged or assigned to it), and the `Document` nodes (kind `financing_contract`)
that hold each generated contract PDF as it is signed, linked by PROVES to the financing."""

from __future__ import annotations

from typing import Any

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.model import DEFAULT_FUNDER, Label, Rel, declared
from graph.queries.finance import COLLATERAL_VALUE

_FIN = Label.FINANCING.value
_DOC = Label.DOCUMENT.value
_PROVES = Rel.PROVES.value

Row = dict[str, Any]

# Every property a contract needs, by name (the model declares each of them).
FINANCING_CONTRACT_FACTS = f"""
MATCH (f:{_FIN} {{id: $id}})
OPTIONAL MATCH (b:{Label.ENTERPRISE.value} {{id: f.borrower_id}})
OPTIONAL MATCH (fu:{Label.FUNDER.value} {{id: coalesce(f.funder_id, $default_funder)}})
OPTIONAL MATCH (a:{Label.APPLICATION.value} {{id: f.application_id}})
OPTIONAL MATCH (b)-[:{Rel.LOCATED_AT.value}]->(ad:{Label.ADDRESS.value})
WITH f, b, fu, a, head(collect(ad.text)) AS address
RETURN f {{.id, .status, .product_id, .product_kind, .product_version, .currency,
           .amount_minor, .rate_bps, .day_count, .tenor_days, .approved_on, .created_at,
           .conditions, .funder_id, .lender, .borrower_id, .application_id}} AS financing,
       b {{.id, .name, .uscc, address: address}} AS borrower,
       fu {{.id, .name, .kind}} AS funder,
       a {{.id, .maker, .checker, .created_at, .reviewed_at}} AS application,
       [(c)-[:{Rel.PLEDGED_TO.value}|{Rel.ASSIGNED_TO.value}]->(f) | c {{
          .id, label: labels(c)[0], .kind, .quantity, .unit, .issued_on, .due_on,
          value: {COLLATERAL_VALUE},
          debtor: head([(c)-[:{Rel.BUYER.value}]->(e:{Label.ENTERPRISE.value})
                        | e {{.id, .name, .uscc}}]),
          goods: head([(c)-[:{Rel.OF.value}]->(g:{Label.GOODS.value}) | g.name]),
          warehouse: head([(c)-[:{Rel.STORED_AT.value}]->(w:{Label.WAREHOUSE.value})
                           | w.name])}}] AS collateral
"""

CREATE_CONTRACT_DOCUMENT = f"""
MATCH (f:{_FIN} {{id: $financing_id}})
CREATE (d:{_DOC})
SET d = $props
CREATE (d)-[:{_PROVES}]->(f)
RETURN d {{.*, content: null}} AS document
"""

# The financing's newest contract document (with its PDF).
CURRENT_CONTRACT_DOCUMENT = f"""
MATCH (:{_FIN} {{id: $financing_id}})<-[:{_PROVES}]-(d:{_DOC})
WHERE d.kind = $kind
RETURN d {{.*}} AS document
ORDER BY d.generated_at DESC, d.id DESC
LIMIT 1
"""

# The newest contract's id and hash, read in signContract's transaction (the financing is
# locked there): the contract it records must still be the newest, as it was verified.
NEWEST_CONTRACT = f"""
MATCH (:{_FIN} {{id: $financing_id}})<-[:{_PROVES}]-(d:{_DOC})
WHERE d.kind = $kind
RETURN d.id AS id, d.file_hash AS file_hash
ORDER BY d.generated_at DESC, d.id DESC
LIMIT 1
"""

# A signature appended: only over the revision the signer was shown (else two signers at once
# would lose one signature).
UPDATE_SIGNED_CONTRACT = f"""
MATCH (d:{_DOC} {{id: $id}})
WHERE d.file_hash = $previous_hash
SET d += $props
RETURN d {{.*, content: null}} AS document
"""


def financing_contract_facts(driver: Driver, database: str, financing_id: str) -> Row | None:
    records, _, _ = driver.execute_query(
        FINANCING_CONTRACT_FACTS, id=financing_id, default_funder=DEFAULT_FUNDER,
        database_=database, routing_=RoutingControl.READ,
    )  # fmt: skip
    return records[0].data() if records else None


def create_contract_document(driver: Driver, database: str, props: Row) -> Row | None:
    """Store a generated contract Document with PROVES to its financing (None when the
    financing is gone)."""
    props = declared(Label.DOCUMENT, props)

    def work(tx: ManagedTransaction) -> Row | None:
        rec = tx.run(CREATE_CONTRACT_DOCUMENT, props=props,
                     financing_id=props["financing_id"]).single()  # fmt: skip
        return dict(rec["document"]) if rec is not None else None

    with driver.session(database=database) as session:
        return session.execute_write(work)


def current_contract_document(
    driver: Driver, database: str, financing_id: str, kind: str
) -> Row | None:
    records, _, _ = driver.execute_query(
        CURRENT_CONTRACT_DOCUMENT, financing_id=financing_id, kind=kind,
        database_=database, routing_=RoutingControl.READ,
    )  # fmt: skip
    return dict(records[0]["document"]) if records else None


def update_signed_contract(
    driver: Driver, database: str, document_id: str, previous_hash: str, props: Row
) -> Row | None:
    """Replace the document's PDF with its signed revision; None when the document changed
    since ``previous_hash`` was read (another signature came first)."""
    props = declared(Label.DOCUMENT, props)

    def work(tx: ManagedTransaction) -> Row | None:
        rec = tx.run(UPDATE_SIGNED_CONTRACT, id=document_id, previous_hash=previous_hash,
                     props=props).single()  # fmt: skip
        return dict(rec["document"]) if rec is not None else None

    with driver.session(database=database) as session:
        return session.execute_write(work)


def newest_contract_tx(
    tx: ManagedTransaction, financing_id: str, kind: str
) -> tuple[str, str] | None:
    """(id, SHA-256) of the financing's newest contract Document, in ``tx``."""
    rec = tx.run(NEWEST_CONTRACT, financing_id=financing_id, kind=kind).single()
    return None if rec is None else (str(rec["id"]), str(rec["file_hash"]))
