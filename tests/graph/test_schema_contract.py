"""The schema contract, statically: every property that Cypher in `graph/` names on a labelled
node or a typed relationship is declared for it in `graph.model.PROPERTIES` or
`REL_PROPERTIES`, and every property that ingest writes is declared.

Its other half runs with the journeys (`tests/journeys/`): a world made by `chainlens generate`
and loaded by `chainlens ingest`, driven through HTTP, must draw no "does not exist"
notification from Neo4j.
"""

from __future__ import annotations

import pytest

from graph.model import PROPERTIES, REL_PROPERTIES, Label, Rel
from graph.queries.ingest import NODE_PROPS
from tests.graph.cypher_names import Use, uses


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
