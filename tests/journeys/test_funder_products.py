"""Journey over HTTP on the journey world: a funder's own products (issue 19, item 4).

Funder B (made with the CLI: two credit officers, an admin, a relationship manager) configures
a product of its own in the product factory: one officer drafts it, the other publishes it.
B's staff see it in the catalogue and its versions, and B's relationship manager applies
with it; the default funder's staff see none of it (its versions are NOT_FOUND), cannot
apply with it or offer it to several funders, and cannot draft a version of it, as B's
officers cannot draft a version of the platform's shipped products. Retired at the end.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from tests.journeys.conftest import PASSWORD, Api, World, cli
from tests.journeys.test_credit_journey import TODAY
from tests.journeys.test_product_factory_journey import (
    CATALOGUE,
    DRAFT,
    PUBLISH,
    RETIRE,
    SUBMIT,
    VERSION,
    VERSIONS,
    shipped,
)

FUNDER_B = "pf-bank-b"
MAKER, CHECKER = f"maker-{FUNDER_B}", f"checker-{FUNDER_B}"
ADMIN_B, RM_B = f"admin-{FUNDER_B}", f"rm-{FUNDER_B}"
PRODUCT = "pf_bank_b_factoring"
PROPOSE_LINE = """mutation($id: ID!, $input: GrantCreditLineInput!) {
  proposeCreditLine(id: $id, input: $input) { id status } }"""
DECIDE_LINE = """mutation($id: ID!) { decideCreditLineProposal(id: $id, approve: true,
  note: "seller reviewed") { status line { id } } }"""
OFFER = """mutation($input: OfferInput!) { offerApplication(input: $input) { id status } }"""


def _sellers(world: World) -> list[tuple[str, list[str]]]:
    """Active non-core sellers with open invoices that no loaded financing pledged, from the
    least busy (the other journeys take the busiest sellers), each with those invoices."""
    firms = {e["id"]: e for e in world.rows("enterprises")}
    pledged = {p["collateral_id"] for p in world.rows("pledges")}
    open_ = [i for i in world.rows("invoices")
             if i["status"] == "issued" and i["id"] not in pledged]  # fmt: skip
    count = Counter(i["seller_id"] for i in open_
                    if firms[i["seller_id"]].get("is_core") not in ("true", "1")
                    and firms[i["seller_id"]].get("status") in ("", "active"))  # fmt: skip
    ranked = sorted((s for s, n in count.items() if n >= 2), key=lambda s: (count[s], s))
    return [(s, sorted(i["id"] for i in open_ if i["seller_id"] == s)) for s in ranked]


def test_a_funders_own_product_is_its_own(
    api: Api, world: World, cli_env: dict[str, str]
) -> None:
    cli(cli_env, "users", "add-funder", FUNDER_B, "--name", "PF Bank B", "--kind", "bank")
    for user, role in ((MAKER, "credit_officer"), (CHECKER, "credit_officer"),
                       (ADMIN_B, "admin"), (RM_B, "relationship_manager")):  # fmt: skip
        cli(cli_env, "users", "add", user, "--role", role, "--funder", FUNDER_B,
            stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    content = {**shipped("factoring_recourse"), "id": PRODUCT, "name": "PF Bank B factoring"}

    # B's officers configure it: drafted by one, published by the other; it is B's.
    draft = api.gql(MAKER, DRAFT, content=content, note="our own factoring")["draftProduct"]
    assert (draft["productId"], draft["status"]) == (PRODUCT, "draft")
    mine = api.gql(CHECKER, VERSION.replace("content }", "content funderId }"),
                   id=draft["id"])["productVersion"]  # fmt: skip
    assert mine["funderId"] == FUNDER_B
    pub = api.gql(CHECKER, PUBLISH, id=draft["id"], at=None)["publishProduct"]
    assert pub["status"] == "published"

    # B sees it; the default funder's staff do not, and cannot edit it or use it.
    assert PRODUCT in {p["id"] for p in api.gql(RM_B, CATALOGUE)["financeProducts"]}
    assert draft["id"] in {v["id"] for v in api.gql(MAKER, VERSIONS, p=PRODUCT)["productVersions"]}
    for user in ("otto", "rita"):
        assert PRODUCT not in {p["id"] for p in api.gql(user, CATALOGUE)["financeProducts"]}
    assert api.gql("otto", VERSIONS, p=PRODUCT)["productVersions"] == []
    assert api.error("otto", VERSION, id=draft["id"]).code == "NOT_FOUND"
    assert api.error("otto", RETIRE, id=draft["id"]).code == "NOT_FOUND"
    taken = api.error("otto", DRAFT, content={**content, "name": "hijacked"}, note="x")
    assert taken.code == "FORBIDDEN" and f"funder {FUNDER_B}'s" in taken.message, taken
    # ... nor may B's officers draft a version of the platform's shipped products.
    theirs = api.error(MAKER, DRAFT, content=shipped("factoring_recourse"), note="x")
    assert theirs.code == "FORBIDDEN" and "the platform's" in theirs.message, theirs
    assert len(api.gql(MAKER, VERSIONS, p=PRODUCT)["productVersions"]) == 1

    # B's relationship manager applies with it, on a line B granted (by two people); the
    # decision records B's version. The default funder's cannot apply with it, nor offer it
    # to several funders (B included).
    candidates = dict(_sellers(world)[:20])
    for seller in candidates:
        terms = {"id": f"PF-L-{seller}", "enterpriseId": seller, "kind": "enterprise",
                 "limit": 500_000_000, "currency": "CNY",
                 "expiresOn": (TODAY + timedelta(days=365)).isoformat()}  # fmt: skip
        r = api.raw(MAKER, PROPOSE_LINE, id=f"P-PF-{seller}", input=terms).json()
        if not r.get("errors"):  # the admission rules may decline a firm: take the next
            break
        assert r["errors"][0]["extensions"]["code"] == "CONFLICT", r
    else:
        raise AssertionError("B's admission rules declined twenty sellers")
    api.gql(ADMIN_B, DECIDE_LINE, id=f"P-PF-{seller}")
    invoices = candidates[seller]
    ask = {"enterpriseId": seller, "productId": PRODUCT, "amount": 10_000_000,
           "currency": "CNY", "collateralIds": [invoices[0]]}  # fmt: skip
    app = api.gql(RM_B, SUBMIT, input={**ask, "id": f"PF-A-{seller}"})["submitApplication"]
    assert app["productVersion"] == draft["id"], app
    assert app["status"] in ("approved", "referred", "declined"), app
    no = api.error("rita", SUBMIT, input={**ask, "id": f"PF-A-{seller}-default"})
    assert no.code == "NOT_FOUND" and PRODUCT in no.message, no
    offered = api.error("rita", OFFER, input={
        "id": f"PF-O-{seller}", "enterpriseId": seller, "productId": PRODUCT,
        "amount": 10_000_000, "collateralIds": [invoices[1]],
        "funderIds": ["default", FUNDER_B]})  # fmt: skip
    assert offered.code == "NOT_FOUND", offered

    assert api.gql(CHECKER, RETIRE, id=draft["id"])["retireProduct"]["status"] == "retired"
    assert PRODUCT not in {p["id"] for p in api.gql(RM_B, CATALOGUE)["financeProducts"]}
