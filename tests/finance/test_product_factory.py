"""The product factory on the real Neo4j: products drafted, published by a second person with
an effective time and retired as rule sets are; applications and financings record the
version that decided and priced them, and keep it when a new one is published."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from neo4j import Driver

from finance import credit_lines as cl
from finance import lifecycle
from finance.credit_lines import LineKind, LineSpec
from finance.errors import Forbidden, InvalidState, NotFound
from finance.lifecycle import ApplicationCreate, AppStatus
from finance.products import catalogue, get_product, in_force, recorded
from finance.products import factory as pf
from tests.finance.conftest import CHAIN, build

CNY = "CNY"
D0 = date(2026, 1, 5)
SHIPPED = "product:factoring_recourse@shipped"
BIG_TRADE = "MATCH (:Enterprise {id: 'T1'})-[s:SUPPLIES]->() SET s.amount_12m = 5000000000"
INVOICES = """
MATCH (t1:Enterprise {id: 'T1'}), (c:Enterprise {id: 'C'})
UNWIND $rows AS r
CREATE (i:Invoice {id: r.id, amount: r.amount, status: 'issued', issued_on: date('2025-12-01')})
CREATE (i)-[:SELLER]->(t1)
CREATE (i)-[:BUYER]->(c)
"""


def _content(**changes: Any) -> dict[str, Any]:
    """The shipped factoring-with-recourse definition as JSON, with ``changes``."""
    data = get_product("factoring_recourse").model_dump(mode="json")
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


def test_refused_contents_list_every_problem_and_store_nothing(db: Driver, database: str) -> None:
    cases = {
        "day_count": (_content(day_count="ACT/999"), "day_count: Input should be"),
        "advance": (_content(advance_rate_bps=-1), "advance_rate_bps: Input should be greater"),
        "unknown": (_content(colour="red"), "colour: Extra inputs are not permitted"),
        "fact": (
            _content(eligibility=[{"fact": "shoe_size", "op": ">", "value": 1, "reason": "x"}]),
            "eligibility.0.fact: no fact 'shoe_size' is known",
        ),
        "id": (_content(id="Bad Id"), "id: lower-case letters"),
        "version": (_content(version="product:x@9"), "version: set by the product factory"),
    }
    for content, message in cases.values():
        with pytest.raises(pf.ProductInvalid, match=message):
            pf.draft(db, database, content, "otto")
    with pytest.raises(pf.ProductInvalid, match="not JSON"):
        pf.draft(db, database, "{nope", "otto")
    several = _content(day_count="ACT/999", advance_rate_bps=-1, colour="red")
    with pytest.raises(pf.ProductInvalid) as e:
        pf.draft(db, database, several, "otto")
    assert len(e.value.problems) == 3
    assert pf.list_versions(db, database) == []


def test_publish_is_maker_checker_from_an_effective_time_and_retire_falls_back(
    db: Driver, database: str
) -> None:
    shipped = in_force(db, database, "factoring_recourse")
    assert shipped.version == SHIPPED and shipped == get_product("factoring_recourse")
    v1 = pf.draft(db, database, _content(pricing={"spread_bps": 300}), "otto", "dearer")
    assert (v1.id, v1.version, v1.status) == ("product:factoring_recourse@1", 1, "draft")
    # A draft decides nothing.
    assert in_force(db, database, "factoring_recourse").version == SHIPPED
    with pytest.raises(Forbidden, match="otto drafted product version"):
        pf.publish(db, database, v1.id, "otto")
    with pytest.raises(InvalidState, match="in the past"):
        pf.publish(db, database, v1.id, "olga", datetime.now(UTC) - timedelta(hours=1))
    soon = datetime.now(UTC) + timedelta(hours=1)
    got = pf.publish(db, database, v1.id, "olga", soon)
    assert (got.status, got.publisher, got.effective_at) == ("published", "olga", soon)
    assert in_force(db, database, "factoring_recourse").version == SHIPPED  # not yet
    later = in_force(db, database, "factoring_recourse", soon + timedelta(seconds=1))
    assert later.version == v1.id and later.pricing.spread_bps == 300
    with pytest.raises(InvalidState, match="not a draft"):
        pf.publish(db, database, v1.id, "olga")

    v2 = pf.draft(db, database, _content(pricing={"spread_bps": 500}), "otto")
    assert v2.id == "product:factoring_recourse@2"
    pf.publish(db, database, v2.id, "olga")
    now = in_force(db, database, "factoring_recourse")
    assert now.version == v2.id and catalogue(db, database)["factoring_recourse"] == now
    pf.retire(db, database, v2.id, "olga", "too dear")
    assert in_force(db, database, "factoring_recourse").version == SHIPPED
    assert in_force(db, database, "factoring_recourse", soon + timedelta(seconds=1)).version == (
        v1.id
    )
    # A retired version is still what the records that name it read.
    assert recorded(db, database, "factoring_recourse", v2.id).pricing.spread_bps == 500
    with pytest.raises(InvalidState, match="not published"):
        pf.retire(db, database, v2.id, "olga")


def test_a_new_product_is_configured_not_coded(db: Driver, database: str) -> None:
    content = _content(id="green_factoring", name="Green factoring", pricing={"spread_bps": 50})
    v = pf.draft(db, database, content, "otto")
    assert v.id == "product:green_factoring@1"
    with pytest.raises(NotFound):
        in_force(db, database, "green_factoring")
    assert "green_factoring" not in catalogue(db, database)
    pf.publish(db, database, v.id, "olga")
    green = in_force(db, database, "green_factoring")
    assert green.name == "Green factoring" and green.version == v.id
    assert catalogue(db, database)["green_factoring"] == green
    with pytest.raises(NotFound):
        get_product("green_factoring")  # the shipped catalogue does not know it


def _setup(db: Driver, database: str) -> None:
    build(db, database, CHAIN)
    build(db, database, BIG_TRADE)
    rows = [{"id": i, "amount": 800_000_000} for i in ("INV-1", "INV-2", "INV-3")]
    build(db, database, INVOICES, rows=rows)
    cl.grant_line(
        db, database,
        LineSpec("L-T1", "T1", LineKind.ENTERPRISE, 3_000_000_000, CNY, date(2030, 1, 1)),
    )  # fmt: skip


def _app(id: str, invoice: str, amount: int) -> ApplicationCreate:
    return ApplicationCreate(id, "T1", "factoring_recourse", amount, CNY, [invoice], "rm1")


def test_applications_and_financings_keep_the_version_that_decided_them(
    db: Driver, database: str
) -> None:
    _setup(db, database)
    before = lifecycle.submit_application(db, database, _app("P1", "INV-1", 50_000_000), D0)
    referred = lifecycle.submit_application(db, database, _app("P3", "INV-3", 600_000_000), D0)
    assert before.status == AppStatus.APPROVED and referred.status == AppStatus.REFERRED
    assert before.product_version == referred.product_version == SHIPPED

    v1 = pf.draft(db, database, _content(pricing={"spread_bps": 300}, tenor_days=60), "otto")
    pf.publish(db, database, v1.id, "olga")
    after = lifecycle.submit_application(db, database, _app("P2", "INV-2", 50_000_000), D0)
    assert after.status == AppStatus.APPROVED and after.product_version == v1.id
    assert after.rate_bps == before.rate_bps + 200  # the shipped spread is 100
    fin_before = lifecycle.get_financing(db, database, "F-P1")
    fin_after = lifecycle.get_financing(db, database, "F-P2")
    assert (fin_before.product_version, fin_before.tenor_days) == (SHIPPED, 90)
    assert (fin_after.product_version, fin_after.tenor_days) == (v1.id, 60)

    # Reviewed after the publication: the terms of the version it was decided on.
    reviewed = lifecycle.review_application(
        db, database, "P3", "co1", "credit_officer", True, today=D0
    )
    assert reviewed.product_version == SHIPPED
    # Each decision records the product version it applied, as it records the policy's.
    assert [d["product_version"] for d in lifecycle.decisions(db, database, "P3")] == [
        SHIPPED, SHIPPED,
    ]  # fmt: skip
    assert [d["product_version"] for d in lifecycle.decisions(db, database, "P2")] == [v1.id]
    fin3 = lifecycle.get_financing(db, database, "F-P3")
    assert (fin3.product_version, fin3.tenor_days) == (SHIPPED, 90)

    # Servicing reads the recorded version: the shipped arrangement fee for F-P1.
    lifecycle.sign_contract(db, database, "F-P1", "C-1", D0)
    lifecycle.disburse(db, database, "F-P1", D0)
    assert recorded(db, database, "factoring_recourse", fin_before.product_version) == (
        get_product("factoring_recourse")
    )
