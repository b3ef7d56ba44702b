"""Constraints and indexes for the whole model; `chainlens db init` applies them.

Every statement is `IF NOT EXISTS`, so applying the schema is idempotent. Applying it also
registers the model's vocabulary (`register_vocabulary`), so that Neo4j's "does not exist"
notifications speak only of names the model does not declare.
"""

from __future__ import annotations

from neo4j import Driver

from graph.model import KEYED_LABELS, PROPERTIES, REL_PROPERTIES, Label, Rel


def _unique(label: Label, prop: str = "id") -> str:
    name = f"{label.value.lower()}_{prop}_unique"
    return (
        f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label.value}) REQUIRE n.{prop} IS UNIQUE"
    )


def _index(label: Label, *props: str) -> str:
    name = f"{label.value.lower()}_{'_'.join(props)}_idx"
    cols = ", ".join(f"n.{p}" for p in props)
    return f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{label.value}) ON ({cols})"


def _rel_index(rel: Rel, *props: str) -> str:
    name = f"{rel.value.lower()}_{'_'.join(props)}_idx"
    cols = ", ".join(f"r.{p}" for p in props)
    return f"CREATE INDEX {name} IF NOT EXISTS FOR ()-[r:{rel.value}]-() ON ({cols})"


def schema_statements() -> list[str]:
    """All schema statements, in the order they are applied."""
    statements = [_unique(label) for label in KEYED_LABELS]
    statements += [
        _unique(Label.USER, "username"),
        _index(Label.ENTERPRISE, "uscc"),
        _index(Label.ENTERPRISE, "name"),
        _index(Label.ENTERPRISE, "is_core"),
        _index(Label.ENTERPRISE, "region_code"),
        _index(Label.INVOICE, "issued_on"),
        _index(Label.INVOICE, "status"),
        _index(Label.FINANCING, "status"),
        _index(Label.TRANSFER, "debit_account_id"),
        _index(Label.TRANSFER, "credit_account_id"),
        _index(Label.TRANSFER, "pending_id"),
        _index(Label.ACCOUNT, "owner_id"),
        _index(Label.VOUCHER, "root_id"),
        _index(Label.APPLICATION, "offer_of"),  # offers of one request to several funders
        _index(Label.SECURITY_INTEREST, "collateral_id"),  # the registry: search by collateral
        _index(Label.SECURITY_INTEREST, "debtor_id"),
        _index(Label.SOURCE_RECORD, "source"),
        _index(Label.ALERT, "scope"),  # sensors: open incidents by scope
        _index(Label.ALERT, "raised_at"),
        _index(Label.ALERT, "created_at"),
        _index(Label.AUDIT_EVENT, "at"),  # api: the admin reads the audit log by time
        _index(Label.DOCUMENT, "invoice_key"),  # documents: an invoice number seen before
        _index(Label.PRODUCT_VERSION, "product_id"),  # the product factory: a product's versions
        _rel_index(Rel.GUARANTEES, "id"),
        # Full-text search over names, English names and USCCs for `searchEnterprises`.
        "CREATE FULLTEXT INDEX enterprise_names IF NOT EXISTS "
        "FOR (n:Enterprise) ON EACH [n.name, n.name_en, n.uscc] "
        "OPTIONS {indexConfig: {`fulltext.analyzer`: 'cjk'}}",
    ]
    return statements


def apply_schema(driver: Driver, database: str) -> int:
    """Create the constraints and indexes that do not exist yet; returns the statement count."""
    statements = schema_statements()
    for statement in statements:
        driver.execute_query(statement, database_=database)
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)
    register_vocabulary(driver, database)
    return len(statements)


def register_vocabulary(driver: Driver, database: str) -> None:
    """Make every declared label, relationship type and property key known to Neo4j.

    A fresh database knows no names, so a query reading a property that no node carries yet
    (scores before the first scoring run, vouchers before the first issue) draws the warning
    "property key does not exist" — the warning that must stay audible for names that no
    writer uses at all. Tokens are created in their own internal transactions and survive the
    rollback of the write that needed them, so one rolled-back write registers them all and
    leaves no data behind.
    """

    def props(names: frozenset[str]) -> str:
        return "{" + ", ".join(f"`{p}`: 0" for p in sorted(names)) + "}"

    nodes = ", ".join(f"(:{label.value} {props(PROPERTIES[label])})" for label in Label)
    rels = " ".join(
        f"CREATE (a)-[:{rel.value} {props(REL_PROPERTIES.get(rel, frozenset()))}]->(a)"
        for rel in Rel
    )
    with driver.session(database=database) as session:
        tx = session.begin_transaction()
        try:
            tx.run(f"CREATE {nodes} CREATE (a) {rels}").consume()
        finally:
            tx.rollback()
