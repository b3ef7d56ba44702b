"""The person matcher on hand-built records."""

from __future__ import annotations

import hashlib

import pytest

from entity_resolution.errors import InvalidRecord
from entity_resolution.persons import PersonRecord as P
from entity_resolution.persons import resolve_persons


def h(id_number: str) -> str:
    return hashlib.sha256(id_number.encode()).hexdigest()


A, B = h("330203199001011234"), h("460100198505052345")


def test_hash_name_and_enterprise_rules() -> None:
    res = resolve_persons([
        P("p1", "persons", "王思萍", id_hash=A, enterprise_ids=("E1",), person_id="PER-1"),
        P("p2", "bank_kyc", "王思萍", id_hash=A.upper()),            # same hash: same person
        P("p3", "erp", "王思萍", enterprise_ids=("E1",)),             # no hash, name + firm
        P("p4", "customs", "Wang Siping", enterprise_ids=("E1",)),   # romanised, name + firm
        P("p5", "erp", "王思萍", enterprise_ids=("E9",)),             # same name, other firm
        P("p6", "tax", "王思萍", id_hash=B, enterprise_ids=("E1",)),  # other hash: never
        P("p8", "erp", "王思萍", enterprise_ids=("E2",)),
    ])
    who = res.person_of()
    assert who["p1"] == who["p2"] == who["p3"] == who["p4"] == "PER-1"
    assert len({who["p1"], who["p5"], who["p6"], who["p8"]}) == 4
    link = next(x for x in res.links if x.record_id == "p4")
    assert link.explanation["reason"] == "same name and linked enterprise"
    assert link.explanation["enterprise"] == "E1"


def test_same_pinyin_other_characters_and_ambiguous_romanised_names() -> None:
    res = resolve_persons([
        P("a", "s", "王伟", enterprise_ids=("E1",)),
        P("b", "s", "汪伟", enterprise_ids=("E1",)),
        P("c", "s", "Wang Wei", enterprise_ids=("E1",)),  # 王伟 or 汪伟: joins neither
    ])
    who = res.person_of()
    assert len({who["a"], who["b"], who["c"]}) == 3


def test_two_hashes_never_join_through_a_hashless_record() -> None:
    res = resolve_persons([
        P("a", "s", "李强", id_hash=A, enterprise_ids=("E1",)),
        P("b", "s", "李强", enterprise_ids=("E1",)),
        P("c", "s", "李强", id_hash=B, enterprise_ids=("E1",)),
    ])
    who = res.person_of()
    assert who["a"] != who["c"]
    assert who["b"] in (who["a"], who["c"])


def test_clear_id_numbers_are_refused() -> None:
    with pytest.raises(InvalidRecord):
        resolve_persons([P("a", "s", "李强", id_hash="330203199001011234")])
