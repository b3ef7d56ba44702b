"""Effective ownership, controller and group on nested, diamond and cyclic holdings whose
percentages are worked out by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from neo4j import Driver

from graph.analytics import ownership as o
from graph.errors import InvalidArgument, NotFound
from tests.graph.analytics.conftest import Build, holds


def _eff(result: o.Ownership) -> dict[str, Decimal]:
    return {h.id: h.effective_pct for h in result.holders}


def test_nested_and_diamond_holdings(build: Build, db: Driver, database: str) -> None:
    # T <- H1 70%, H2 30%; H1 <- P1 60%, P2 40%; H2 <- P1 50%, P3 50%
    build(
        holds("H1", "T", 70) + holds("H2", "T", 30)
        + holds("P1", "H1", 60, person=True) + holds("P2", "H1", 40, person=True)
        + holds("P1", "H2", 50, person=True) + holds("P3", "H2", 50, person=True)
    )  # fmt: skip
    result = o.effective_ownership(db, database, "T")
    # P1: 0.6 * 0.7 + 0.5 * 0.3 = 0.57
    assert _eff(result) == {
        "P1": Decimal("57.0000"), "P2": Decimal("28.0000"), "P3": Decimal("15.0000"),
        "H1": Decimal("70.0000"), "H2": Decimal("30.0000"),
    }  # fmt: skip
    assert [h.id for h in result.ultimate_owners] == ["P1", "P2", "P3"]
    assert sum(h.effective_pct for h in result.ultimate_owners) == Decimal("100")
    assert {h.id: h.direct_pct for h in result.holders}["P1"] == Decimal("0")
    assert [h.id for h in o.ultimate_owners(db, database, "T", min_pct=25)] == ["P1", "P2"]

    ctrl = o.actual_controller(db, database, "T")
    assert [(s.holder_id, s.basis) for s in ctrl.chain] == [("H1", "majority"), ("P1", "majority")]
    assert ctrl.controller is not None and ctrl.controller.holder_id == "P1"
    assert ctrl.stopped == "top"


def test_cross_holding_cycle_is_counted_once_per_chain(
    build: Build, db: Driver, database: str
) -> None:
    # A <- P1 60%, B 40%; B <- A 50%, P2 50%. Chains P1 -> A: 0.6 (1 + 0.2 + 0.2^2 + ...) = 0.75
    build(
        holds("P1", "A", 60, person=True) + holds("B", "A", 40)
        + holds("A", "B", 50) + holds("P2", "B", 50, person=True)
    )  # fmt: skip
    on_a = _eff(o.effective_ownership(db, database, "A"))
    assert on_a == {"P1": Decimal("75.0000"), "P2": Decimal("25.0000"), "B": Decimal("50.0000")}
    on_b = _eff(o.effective_ownership(db, database, "B"))
    assert on_b == {"P1": Decimal("37.5000"), "P2": Decimal("62.5000"), "A": Decimal("62.5000")}

    assert o.actual_controller(db, database, "A").controller.holder_id == "P1"  # type: ignore[union-attr]
    tie = o.actual_controller(db, database, "B")
    assert tie.chain == [] and tie.stopped == "tie"


def test_closed_cycle_has_no_outside_owner(build: Build, db: Driver, database: str) -> None:
    build(holds("X", "Y", 100) + holds("Y", "X", 100))
    with pytest.raises(InvalidArgument):
        o.effective_ownership(db, database, "X")
    ctrl = o.actual_controller(db, database, "X")
    assert [s.holder_id for s in ctrl.chain] == ["Y"] and ctrl.stopped == "cycle"


def test_controlled_group(build: Build, db: Driver, database: str) -> None:
    # P1 -60-> H1 -70-> T -80-> S; P1 -30-> Z <-60- S (Z joins once S has);
    # H1 -30-> U <-40- Q (Q controls U); P1 -50-> H2 <-50- P3 (tie: nobody controls H2)
    build(
        holds("P1", "H1", 60, person=True) + holds("H1", "T", 70) + holds("T", "S", 80)
        + holds("P1", "Z", 30, person=True) + holds("S", "Z", 60)
        + holds("H1", "U", 30) + holds("Q", "U", 40, person=True)
        + holds("P1", "H2", 50, person=True) + holds("P3", "H2", 50, person=True)
    )  # fmt: skip
    group = o.controlled_group(db, database, "P1", "person")
    assert {m.id: m.parent_id for m in group.members} == {
        "H1": "P1", "T": "H1", "S": "T", "Z": "S",
    }  # fmt: skip
    assert {m.id for m in o.group_of(db, database, "S").members} == {"H1", "T", "S", "Z"}
    sub = o.controlled_group(db, database, "T", "enterprise")
    assert {m.id for m in sub.members} == {"S", "Z"}
    with pytest.raises(NotFound):
        o.controlled_group(db, database, "P404", "person")
    with pytest.raises(NotFound):
        o.effective_ownership(db, database, "NOPE")


def test_group_walk_reads_each_level_once_and_names_the_controller(
    build: Build, db: Driver, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # P1 -60-> H1 -70-> T <-30- Q; L holds nobody and is held by nobody.
    build(
        holds("P1", "H1", 60, person=True) + holds("H1", "T", 70)
        + holds("Q", "T", 30, person=True) + "MERGE (:Enterprise {id: 'L', name: 'Firm L'})"
    )  # fmt: skip
    queries: list[str] = []
    real = o.tx_rows

    def counted(tx: Any, query: str, **params: Any) -> list[dict[str, Any]]:
        queries.append(query)
        return real(tx, query, **params)

    monkeypatch.setattr(o, "tx_rows", counted)
    group = o.group_of(db, database, "T")
    assert (group.controller_kind, group.controller_id) == (o.HolderKind.PERSON, "P1")
    assert group.controller_name == "Holder P1"
    assert {m.id: m.parent_id for m in group.members} == {"H1": "P1", "T": "H1"}
    # Up: T with its holders, then H1's holders (P1 is a person: the walk stops). Down: what
    # P1 holds, then what H1 holds; T holds nothing, so there is no third, empty hop.
    assert len(queries) == 4, queries

    queries.clear()
    alone = o.group_of(db, database, "L")
    assert (alone.controller_id, alone.controller_name, alone.members) == ("L", "Firm L", [])
    assert len(queries) == 2, queries  # L with its (no) holders, then what L holds
    with pytest.raises(NotFound):
        o.group_of(db, database, "NOPE")
    with pytest.raises(NotFound):
        o.actual_controller(db, database, "NOPE")
