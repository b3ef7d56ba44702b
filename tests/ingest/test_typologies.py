"""Laundering typologies and their look-alikes (``generate(..., typologies=Typologies())``).

Two folders of 2,000 enterprises, one seed with and without typologies (and one other seed),
read back with the csv module: every planted instance is checked against the payments.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import networkx as nx
import pytest

from ingest.synthetic import Typologies, generate
from ingest.synthetic.cases import write_cases
from ingest.synthetic.typologies import LOOK_ALIKES, REPORTING_THRESHOLD, TYPOLOGIES

N = 2000
SEED = 5


def _rows(root: Path, name: str) -> list[dict[str, str]]:
    with (root / "data" / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _jsonl(root: Path, name: str) -> list[dict[str, object]]:
    text = (root / "truth" / f"{name}.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("typologies")
    base = generate(root / "base", N, SEED).out_dir
    typ = generate(root / "typ", N, SEED, typologies=Typologies()).out_dir
    other = generate(root / "other", N, SEED + 1, typologies=Typologies()).out_dir
    return base, typ, other


def test_typologies_add_payments_and_leave_the_world_as_it_was(
    worlds: tuple[Path, Path, Path],
) -> None:
    base, typ, _ = worlds
    for name in ("enterprises", "contracts", "holdings", "guarantees"):
        assert _rows(base, name) == _rows(typ, name), name
    before, after = _rows(base, "payments"), _rows(typ, "payments")
    assert after[: len(before)] == before
    planted = {p for inst in _jsonl(typ, "typologies") for p in inst["payment_ids"]}  # type: ignore[attr-defined]
    planted |= {p for i in _jsonl(typ, "typology_look_alikes") for p in i["payment_ids"]}  # type: ignore[attr-defined]
    assert {p["id"] for p in after[len(before) :]} == planted


def test_every_typology_is_planted_with_its_shape(worlds: tuple[Path, Path, Path]) -> None:
    _, typ, _ = worlds
    pays = {p["id"]: p for p in _rows(typ, "payments")}
    invoices = {i["id"]: i for i in _rows(typ, "invoices")}
    found = _jsonl(typ, "typologies")
    assert {str(i["typology"]) for i in found} == set(TYPOLOGIES)
    params = json.loads((typ / "truth" / "typology_params.json").read_text())
    amounts: list[int] = []
    for inst in found:
        members = [str(m) for m in inst["members"]]  # type: ignore[attr-defined]
        roles = list(inst["roles"])  # type: ignore[call-overload]
        rows = [pays[p] for p in inst["payment_ids"]]  # type: ignore[attr-defined]
        assert {r["payer_id"] for r in rows} | {r["payee_id"] for r in rows} == set(members)
        for r in rows:  # the invoice behind each payment runs the other way, fully paid
            inv = invoices[r["invoice_id"]]
            assert (inv["seller_id"], inv["buyer_id"]) == (r["payee_id"], r["payer_id"])
            assert int(inv["amount"]) + int(inv["tax"]) == int(r["amount"])
        amounts += [int(r["amount"]) for r in rows]
        kind = inst["typology"]
        g = nx.DiGraph([(r["payer_id"], r["payee_id"]) for r in rows])
        if kind == "fan_in":
            hub = members[roles.index("hub")]
            spokes = [m for m, role in zip(members, roles, strict=True) if role == "spoke"]
            assert set(g.predecessors(hub)) == set(spokes) and len(spokes) >= params["fan_k"][0]
            days = sorted(date.fromisoformat(r["paid_on"]) for r in rows if r["payee_id"] == hub)
            # one burst per repeat: a repeat's payments within burst_days (+1: payment lag)
            bursts = 1 + sum(
                (b - a).days > params["burst_days"] + 1 for a, b in itertools.pairwise(days)
            )
            assert bursts <= params["repeats"]
            out = [date.fromisoformat(r["paid_on"]) for r in rows if r["payer_id"] == hub]
            assert all(0 <= (o - max(d for d in days if d <= o)).days <= params["pass_days"] + 1
                       for o in out)  # fmt: skip
        elif kind == "fan_out":
            hub = members[roles.index("hub")]
            assert g.out_degree(hub) >= params["fan_k"][0]
        elif kind == "cycle":
            assert nx.is_strongly_connected(g) and g.number_of_edges() == len(members)
        elif kind == "scatter_gather":
            src, sink = members[roles.index("source")], members[roles.index("sink")]
            paths = list(nx.all_simple_paths(g, src, sink, cutoff=2))
            assert len(paths) == len(members) - 2
        elif kind == "stack":
            layer1 = [m for m, role in zip(members, roles, strict=True) if role == "layer1"]
            layer3 = [m for m, role in zip(members, roles, strict=True) if role == "layer3"]
            assert all(nx.has_path(g, a, b) for a in layer1 for b in layer3)
    below = [a for a in amounts if params["structured_floor"] * REPORTING_THRESHOLD * 0.99 <= a
             < REPORTING_THRESHOLD]  # fmt: skip
    assert len(below) / len(amounts) > params["structured_share"] / 3


def test_members_and_look_alikes_are_disjoint_and_settings_vary_by_seed(
    worlds: tuple[Path, Path, Path],
) -> None:
    _, typ, other = worlds
    members = [str(m) for i in _jsonl(typ, "typologies") for m in i["members"]]  # type: ignore[attr-defined]
    alikes = [str(m) for i in _jsonl(typ, "typology_look_alikes") for m in i["members"]]  # type: ignore[attr-defined]
    assert len(set(members)) == len(members) and not set(members) & set(alikes)
    assert {str(i["kind"]) for i in _jsonl(typ, "typology_look_alikes")} == set(LOOK_ALIKES)
    rings = {str(m) for r in _jsonl(typ, "circular_trade_rings") for m in r["members"]}  # type: ignore[attr-defined]
    assert not rings & set(members)
    with (typ / "truth" / "typology_members.csv").open(encoding="utf-8") as f:
        assert sorted(r["enterprise_id"] for r in csv.DictReader(f)) == sorted(members)
    p1 = json.loads((typ / "truth" / "typology_params.json").read_text())
    p2 = json.loads((other / "truth" / "typology_params.json").read_text())
    assert p1 != p2 and p1["mix"] != p2["mix"]


def test_cases_label_typologies_and_clear_look_alikes(worlds: tuple[Path, Path, Path]) -> None:
    _, typ, _ = worlds
    path = write_cases(typ, seed=1)
    with path.open(encoding="utf-8") as f:
        cases = list(csv.DictReader(f))
    typology_of = {}
    with (typ / "truth" / "typology_members.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            typology_of[r["enterprise_id"]] = r["typology"]
    alikes = {str(m) for i in _jsonl(typ, "typology_look_alikes") for m in i["members"]}  # type: ignore[attr-defined]
    by_outcome: dict[str, set[str]] = defaultdict(set)
    for c in cases:
        by_outcome[c["outcome"]].add(c["enterprise_id"])
        if c["outcome"] in TYPOLOGIES:
            assert typology_of[c["enterprise_id"]] == c["outcome"]
    assert set(TYPOLOGIES) <= set(by_outcome)
    cleared_alikes = by_outcome["cleared"] & alikes
    assert len(cleared_alikes) >= 0.4 * len(alikes - set(typology_of))
