"""Journey: the product factory through HTTP only, on the generated world.

A credit officer drafts a dearer version of factoring with recourse (a higher spread) and a
brand-new product configured as data; invalid definitions are refused with what is wrong and
nothing is stored. He may not publish his own drafts; a second officer publishes the new
version with an effective time a few seconds ahead and the new product at once. An
application submitted before that time keeps the shipped terms (its recorded version, which
its financing keeps too, also when a person approves it after the publication), one
submitted after gets the new spread; the new product decides applications like a shipped
one. Retiring the version puts the shipped one back in force.
Everything published is retired at the end, so the other journeys see the shipped catalogue.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from tests.journeys.conftest import Api, World

PRODUCTS = Path(__file__).resolve().parents[2] / "finance" / "products"
SHIPPED = "product:factoring_recourse@shipped"
GREEN = "journey_green_factoring"

GRANT = """mutation($input: GrantCreditLineInput!) { grantCreditLine(input: $input) { id } }"""
SUBMIT = """mutation($input: ApplicationInput!) { submitApplication(input: $input) {
  id status rateBps productVersion financingId } }"""
APPLICATION = """query($id: ID!) { application(id: $id) { status rateBps productVersion
  decisions { kind productVersion } } }"""
FINANCING = """query($id: ID!) { financing(id: $id) { rateBps tenorDays productVersion } }"""
CATALOGUE = """query { financeProducts { id version } }"""
MATCHES = """query($e: ID!) { productMatches(enterpriseId: $e, includeIneligible: true) {
  productId productVersion rateBps eligible } }"""
DRAFT = """mutation($content: JSON!, $note: String!) { draftProduct(content: $content,
  note: $note) { id productId version status author contentHash content } }"""
PUBLISH = """mutation($id: ID!, $at: DateTime) { publishProduct(id: $id, effectiveAt: $at) {
  id status publisher effectiveAt } }"""
RETIRE = """mutation($id: ID!) { retireProduct(id: $id, note: "journey over") { status } }"""
VERSIONS = """query($p: String) { productVersions(productId: $p) { id status } }"""
REVIEW = """mutation($id: ID!) { reviewApplication(id: $id, approve: true,
  note: "trade verified") { id status financingId } }"""
VERSION = """query($id: ID!) { productVersion(id: $id) { id status publisher content } }"""


def shipped(product_id: str = "factoring_recourse") -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((PRODUCTS / f"{product_id}.yaml").read_text("utf-8"))
    return data


def _seller(api: Api, world: World) -> tuple[str, list[str], dict[str, Any]]:
    """A seller on whose open invoices today's policy approves or refers factoring with
    recourse (three invoices at least, after granting it an own line), its other open
    invoices and the probe application."""
    cores = {e["id"] for e in world.rows("enterprises") if e.get("is_core") in ("true", "1")}
    pledged = {p["collateral_id"] for p in world.rows("pledges")}
    open_ = [i for i in world.rows("invoices")
             if i["status"] == "issued" and i["id"] not in pledged]  # fmt: skip
    count = Counter(i["seller_id"] for i in open_)
    probes: list[dict[str, Any]] = []
    for seller, n in count.most_common(60):
        if seller in cores or n < 3:
            continue
        invoices = [i["id"] for i in open_ if i["seller_id"] == seller]
        api.gql("ada", GRANT, input={"id": f"L-PF-{seller}", "enterpriseId": seller,
                                     "kind": "enterprise", "limit": 1_000_000_000,
                                     "currency": "CNY", "expiresOn": "2030-12-31"})  # fmt: skip
        probe = _submit(api, f"PF-{seller}-0", seller, invoices[0])
        probes.append(probe)
        if probe["status"] in ("approved", "referred"):
            return seller, invoices[1:], probe
    raise AssertionError(f"no seller approved or referred for factoring: {probes}")


def _submit(
    api: Api, id: str, seller: str, invoice: str | None, product: str = "factoring_recourse"
) -> dict[str, Any]:
    app: dict[str, Any] = api.gql("rita", SUBMIT, input={
        "id": id, "enterpriseId": seller, "productId": product, "amount": 1_000_000,
        "currency": "CNY", "collateralIds": [invoice] if invoice else [],
    })["submitApplication"]  # fmt: skip
    return app


def _versions(api: Api) -> int:
    return len(api.gql("anna", VERSIONS)["productVersions"])


def _catalogue(api: Api) -> dict[str, str]:
    return {p["id"]: p["version"] for p in api.gql("anna", CATALOGUE)["financeProducts"]}


def test_invalid_products_are_refused_with_what_is_wrong_and_nothing_is_stored(api: Api) -> None:
    before = _versions(api)
    for changes, message in (
        ({"day_count": "ACT/999"}, "day_count: Input should be 'ACT/360' or 'ACT/365F'"),
        ({"advance_rate_bps": -500}, "advance_rate_bps: Input should be greater than or equal"),
        ({"colour": "green"}, "colour: Extra inputs are not permitted"),
    ):
        bad = api.error("otto", DRAFT, content={**shipped(), **changes}, note="bad")
        assert bad.code == "UNPROCESSABLE" and message in bad.message, bad.message
    # Every problem at once, not the first only.
    several = {**shipped(), "day_count": "30/360", "advance_rate_bps": -1, "colour": "green"}
    bad = api.error("otto", DRAFT, content=several, note="bad")
    assert bad.message.count(": ") >= 3 and "day_count" in bad.message, bad.message
    assert _versions(api) == before
    # Only credit officers edit products.
    assert api.error("rita", DRAFT, content=shipped(), note="x").code == "FORBIDDEN"


def test_a_new_version_and_a_new_product_published_by_another_and_followed(
    api: Api, world: World
) -> None:
    seller, invoices, probe = _seller(api, world)
    assert probe["productVersion"] == SHIPPED
    assert _catalogue(api)["factoring_recourse"] == SHIPPED

    dearer = shipped()
    dearer["pricing"]["spread_bps"] += 250
    v = api.gql("otto", DRAFT, content=dearer, note="dearer by 250 bps")["draftProduct"]
    assert (v["productId"], v["status"], v["author"]) == ("factoring_recourse", "draft", "otto")
    assert v["id"] == f"product:factoring_recourse@{v['version']}"
    assert v["content"]["pricing"]["spread_bps"] == dearer["pricing"]["spread_bps"]
    # A new product, configured: working capital on the firm's receivables, unsecured.
    green = {**shipped(), "id": GREEN, "name": "Green working capital (journey)",
             "collateral": "none"}  # fmt: skip
    g = api.gql("otto", DRAFT, content=green, note="configured, not coded")["draftProduct"]
    assert g["id"] == f"product:{GREEN}@1"
    assert GREEN not in _catalogue(api)  # a draft is not offered

    own = api.error("otto", PUBLISH, id=v["id"])
    assert own.code == "FORBIDDEN" and "cannot publish" in own.message
    past = api.error("olga", PUBLISH, id=v["id"], at="2020-01-01T00:00:00+00:00")
    assert past.code == "CONFLICT" and "in the past" in past.message
    at = datetime.now(UTC) + timedelta(seconds=4)
    published: list[str] = []
    try:
        pub = api.gql("olga", PUBLISH, id=v["id"], at=at.isoformat())["publishProduct"]
        published.append(v["id"])
        assert (pub["status"], pub["publisher"]) == ("published", "olga")
        api.gql("olga", PUBLISH, id=g["id"])
        published.append(g["id"])

        early = _submit(api, f"PF-{seller}-1", seller, invoices[0])
        assert early["status"] in ("approved", "referred"), early
        assert (early["productVersion"], early["rateBps"]) == (SHIPPED, probe["rateBps"])
        time.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()) + 0.3)
        assert _catalogue(api)["factoring_recourse"] == v["id"]
        late = _submit(api, f"PF-{seller}-2", seller, invoices[1])
        assert late["status"] in ("approved", "referred"), late
        assert (late["productVersion"], late["rateBps"]) == (v["id"], probe["rateBps"] + 250)

        # The earlier application keeps the terms it was decided on: reviewed after the
        # publication when a person decides it, and in its financing.
        if early["status"] == "referred":
            early = api.gql("olga", REVIEW, id=early["id"])["reviewApplication"]
            assert early["status"] == "approved", early
        again = api.gql("anna", APPLICATION, id=early["id"])["application"]
        assert (again["productVersion"], again["rateBps"]) == (SHIPPED, probe["rateBps"])
        assert {d["productVersion"] for d in again["decisions"]} == {SHIPPED}
        decided = api.gql("anna", APPLICATION, id=late["id"])["application"]["decisions"]
        assert decided == [{"kind": "automatic", "productVersion": v["id"]}]
        fin = api.gql("otto", FINANCING, id=early["financingId"])["financing"]
        assert (fin["productVersion"], fin["rateBps"]) == (SHIPPED, probe["rateBps"])

        matches = {m["productId"]: m for m in api.gql("rita", MATCHES, e=seller)["productMatches"]}
        assert matches["factoring_recourse"]["productVersion"] == v["id"]
        assert matches[GREEN]["productVersion"] == g["id"]
        fresh = _submit(api, f"PF-{seller}-3", seller, None, GREEN)
        assert fresh["productVersion"] == g["id"], fresh

        api.gql("olga", RETIRE, id=v["id"])
        published.remove(v["id"])
        assert _catalogue(api)["factoring_recourse"] == SHIPPED
        matches = {m["productId"]: m for m in api.gql("rita", MATCHES, e=seller)["productMatches"]}
        assert matches["factoring_recourse"]["productVersion"] == SHIPPED
        stored = api.gql("anna", VERSION, id=v["id"])["productVersion"]
        assert (stored["status"], stored["publisher"]) == ("retired", "olga")
        listed = {x["id"] for x in api.gql("anna", VERSIONS, p=GREEN)["productVersions"]}
        assert listed == {g["id"]}
    finally:
        for id in published:
            api.gql("olga", RETIRE, id=id)
    assert GREEN not in _catalogue(api)
