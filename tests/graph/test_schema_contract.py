"""The schema contract, statically: every property that Cypher in `graph/` names on a labelled
node or a typed relationship is declared for it in `graph.model.PROPERTIES` or
`REL_PROPERTIES`, and every property that ingest writes is declared.

Its other half runs with the journeys (`tests/journeys/`): a world made by `chainlens generate`
and loaded by `chainlens ingest`, driven through HTTP, must draw no "does not exist"
notification from Neo4j.
"""

from __future__ import annotations

import pytest
from neo4j import Driver

from graph.model import PROPERTIES, REL_PROPERTIES, Label, Rel
from graph.queries.ingest import NODE_PROPS
from graph.schema import register_vocabulary
from tests.graph.cypher_names import Use, uses
from tests.notifications import unknown_names


def _declared(name: str) -> frozenset[str]:
    if name in set(Label):
        return PROPERTIES[Label(name)]
    if name in set(Rel):
        return REL_PROPERTIES.get(Rel(name), frozenset())
    return frozenset()


def _undeclared(found: list[Use]) -> list[str]:
    out = set()
    for u in found:
        declared = set().union(*(_declared(x) for x in u.labels))
        if u.prop not in declared:
            out.add(f"{u.module}:{u.line} {'|'.join(sorted(u.labels))}.{u.prop}")
    return sorted(out)


def test_every_property_named_in_graph_cypher_is_declared() -> None:
    found = list(uses())
    assert len(found) > 500, "the extractor found too little Cypher to be trusted"
    assert _undeclared(found) == []


def test_the_extractor_sees_a_misspelt_property() -> None:
    # The seam this test exists for: the four-flow check once read `sh.qty`, ingest writes
    # `quantity`.
    bad = Use("m", 1, frozenset({"Shipment"}), "qty", "")
    good = Use("m", 1, frozenset({"Shipment"}), "quantity", "")
    assert _undeclared([bad, good]) == ["m:1 Shipment.qty"]


def test_ingest_writes_only_declared_properties() -> None:
    for label, props in NODE_PROPS.items():
        written = {p.partition(":")[0] for p in props}
        assert written <= PROPERTIES[label], (label, written - PROPERTIES[label])


@pytest.mark.parametrize("label", list(Label))
def test_every_label_declares_its_properties(label: Label) -> None:
    assert "id" in PROPERTIES[label]


def test_declared_names_are_known_to_neo4j_and_undeclared_ones_are_reported(
    db: Driver, database: str
) -> None:
    # `db` is empty; apply_schema ran on it (the session's driver fixture), registering the
    # model's vocabulary: reading a declared property that no node carries is quiet.
    register_vocabulary(db, database)
    count = db.execute_query("MATCH (n) RETURN count(n) AS n", database_=database)
    assert count.records[0]["n"] == 0
    with unknown_names() as found:
        db.execute_query(
            "MATCH (e:Enterprise)<-[:BORROWER]-(f:Financing) "
            "RETURN e.fraud_score, f.outstanding_minor", database_=database,
        )  # fmt: skip
    assert found.seen == []
    with unknown_names() as found:
        db.execute_query("MATCH (s:Shipment) RETURN s.not_in_the_model", database_=database)
    assert len(found.seen) == 1 and "01N52" in found.seen[0]
