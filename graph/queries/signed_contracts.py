"""Cypher for signed contracts (docs/documents.md): a Contract's facts for its PDF, and the
`Document` nodes (kind `signed_contract`) that record each uploaded signed PDF's check."""

from __future__ import annotations

from typing import Any

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.model import Label, Rel, declared

_E = Label.ENTERPRISE.value
_C = Label.CONTRACT.value
_DOC = Label.DOCUMENT.value
_PARTY = Rel.PARTY.value

Row = dict[str, Any]

# The contract, its seller and buyer (PARTY roles) and the goods invoiced under it.
CONTRACT_FACTS = f"""
MATCH (c:{_C} {{id: $id}})
OPTIONAL MATCH (s:{_E})-[ps:{_PARTY}]->(c) WHERE ps.role = 'seller'
OPTIONAL MATCH (b:{_E})-[pb:{_PARTY}]->(c) WHERE pb.role = 'buyer'
WITH c, head(collect(DISTINCT s {{.id, .name, .uscc}})) AS seller,
     head(collect(DISTINCT b {{.id, .name, .uscc}})) AS buyer
RETURN c {{.id, .kind, .amount, .currency, .signed_on, .due_on, .status}} AS contract,
       seller, buyer,
       [(c)<-[:{Rel.UNDER.value}]-(:{Label.INVOICE.value})-[f:{Rel.FOR.value}]->
          (g:{Label.GOODS.value}) | {{goods: g {{.id, .name, .hs_code, .unit}}, qty: f.qty}}]
         AS goods
"""

CREATE_SIGNED_DOCUMENT = f"""
MATCH (c:{_C} {{id: $contract_id}})
CREATE (d:{_DOC})
SET d = $props
CREATE (d)-[:{Rel.PROVES.value}]->(c)
RETURN d {{.*}} AS document
"""

SIGNED_DOCUMENTS = f"""
MATCH (d:{_DOC} {{contract_id: $contract_id}})
WHERE d.kind = $kind
RETURN d {{.*}} AS document
ORDER BY d.uploaded_at DESC, d.id
LIMIT $limit
"""


def contract_facts(driver: Driver, database: str, contract_id: str) -> Row | None:
    records, _, _ = driver.execute_query(
        CONTRACT_FACTS, id=contract_id, database_=database, routing_=RoutingControl.READ
    )
    return records[0].data() if records else None


def create_signed_document(driver: Driver, database: str, props: Row) -> Row | None:
    """Store one signed-contract Document with PROVES to its contract; None when the
    contract is gone."""
    props = declared(Label.DOCUMENT, props)

    def work(tx: ManagedTransaction) -> Row | None:
        rec = tx.run(CREATE_SIGNED_DOCUMENT, props=props,
                     contract_id=props["contract_id"]).single()  # fmt: skip
        return dict(rec["document"]) if rec is not None else None

    with driver.session(database=database) as session:
        return session.execute_write(work)


def signed_documents(
    driver: Driver, database: str, contract_id: str, kind: str, limit: int = 50
) -> list[Row]:
    records, _, _ = driver.execute_query(
        SIGNED_DOCUMENTS, contract_id=contract_id, kind=kind, limit=limit,
        database_=database, routing_=RoutingControl.READ,
    )  # fmt: skip
    return [dict(r["document"]) for r in records]
