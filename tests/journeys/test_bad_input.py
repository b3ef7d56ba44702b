"""Bad input on the life cycle's mutations, over HTTP on the journey world: a 4xx-coded
error with a message that says what is wrong, nothing written, and a repeated request id
answered with the first result."""

from __future__ import annotations

from typing import Any

import pytest

from tests.journeys.conftest import Api, World
from tests.journeys.test_credit_journey import FINANCING, SUBMIT, open_receivables

APPLICATION = """query($id: ID!) { application(id: $id) { id status } }"""
CLIENT_ERRORS = {"BAD_REQUEST", "BAD_USER_INPUT", "NOT_FOUND", "CONFLICT", "UNPROCESSABLE",
                 "GRAPHQL_VALIDATION_FAILED"}  # fmt: skip


def _firm(world: World) -> tuple[str, str]:
    firm = next(e["id"] for e in world.rows("enterprises")
                if e["is_core"] != "true" and open_receivables(world, e["id"]))  # fmt: skip
    return firm, open_receivables(world, firm)[0]["id"]


def _input(firm: str, invoice: str, **over: Any) -> dict[str, Any]:
    return {"id": "BAD-1", "enterpriseId": firm, "productId": "factoring_recourse",
            "amount": 1_000_000, "currency": "CNY", "collateralIds": [invoice], **over}


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"amount": -5}, "amount"),
        ({"amount": 0}, "positive"),
        ({"amount": 1.5}, ""),
        ({"amount": 10**30}, ""),
        ({"amount": True}, ""),
        ({"enterpriseId": "E9999999"}, "E9999999"),
        ({"productId": "payday_loan"}, "payday_loan"),
        ({"collateralIds": ["NO-SUCH-INVOICE"]}, "NO-SUCH-INVOICE"),
    ],
    ids=["negative", "zero", "fractional", "huge", "boolean", "unknown-firm",
         "unknown-product", "unknown-collateral"],
)
def test_a_bad_application_is_refused_and_nothing_is_written(
    api: Api, world: World, change: dict[str, Any], says: str
) -> None:
    firm, invoice = _firm(world)
    r = api.raw("rita", SUBMIT, input=_input(firm, invoice, **change))
    assert r.status_code in (200, 400), r.text
    body = r.json()
    assert body.get("errors"), body
    error = body["errors"][0]
    assert error.get("extensions", {}).get("code", "GRAPHQL_VALIDATION_FAILED") in \
        CLIENT_ERRORS, error
    assert says in error["message"], error["message"]
    # Nothing was stored under that id (unknown collateral is the maker's typo, not a
    # decision: it is refused like an unknown firm).
    missing = api.error("otto", APPLICATION, id="BAD-1")
    assert missing.code == "NOT_FOUND"


def test_steps_in_the_wrong_state_and_unknown_ids(api: Api, world: World) -> None:
    loaded = next(f["id"] for f in world.rows("financings") if f["status"] == "live")
    before = api.gql("otto", FINANCING, id=loaded)["financing"]
    for query, variables, code, says in [
        ("""mutation($id: ID!) { signContract(financingId: $id, contractNo: "X") { status } }""",
         {"id": "F-NOPE"}, "NOT_FOUND", "F-NOPE"),
        ("""mutation($id: ID!) { generateFinancingContract(financingId: $id) { sha256 } }""",
         {"id": "F-NOPE"}, "NOT_FOUND", "F-NOPE"),
        ("""mutation($id: ID!) { generateFinancingContract(financingId: $id) { sha256 } }""",
         {"id": loaded}, "CONFLICT", "a contract is generated for an approved financing"),
        ("""mutation($id: ID!) { signFinancingContract(financingId: $id, party: FUNDER) {
            sha256 } }""", {"id": loaded}, "NOT_FOUND", "has no contract yet"),
        ("""mutation($id: ID!) { cancelFinancing(financingId: $id, reason: "x") { status } }""",
         {"id": loaded}, "CONFLICT", "does not service it"),
        ("""mutation($id: ID!) { writeOffFinancing(financingId: $id, on: "2027-01-01") {
            status } }""", {"id": loaded}, "CONFLICT", "does not service it"),
        ("""mutation($id: ID!) { reviewApplication(id: $id, approve: true) { status } }""",
         {"id": "A-NOPE"}, "NOT_FOUND", "A-NOPE"),
        ("""mutation($id: ID!) { recordFollowUp(id: "FU-BAD", financingId: $id,
            kind: "inspection", on: "2027-01-01", note: "visit") { id } }""",
         {"id": loaded}, "CONFLICT", "does not service it"),
        ("""mutation($id: ID!) { recordFollowUp(id: "FU-BAD", financingId: $id,
            kind: "gossip", on: "2027-01-01", note: "x") { id } }""",
         {"id": loaded}, "BAD_REQUEST", "kind must be one of"),
        ("""mutation { runEndOfDay(asOf: "2027-13-01") { accrued } }""", {}, None, ""),
    ]:
        r = api.raw("otto", query, **variables)
        body = r.json()
        assert body.get("errors") and r.status_code in (200, 400), body
        if code is not None:
            assert body["errors"][0]["extensions"]["code"] == code, body
        assert says in body["errors"][0]["message"], body
    assert api.gql("otto", FINANCING, id=loaded)["financing"] == before


def test_review_terms_outside_what_was_asked_are_refused(api: Api, world: World) -> None:
    firm, invoice = _firm(world)
    # A declined application cannot be reviewed; new terms on a rejection make no sense.
    app = api.gql("rita", SUBMIT, input=_input(firm, invoice, id="BAD-2"))["submitApplication"]
    assert app["status"] == "declined"  # no credit line of its own
    review = """mutation($id: ID!, $approve: Boolean!, $amount: BigInt, $rate: Int) {
      reviewApplication(id: $id, approve: $approve, amount: $amount, rateBps: $rate) {
        status } }"""
    assert api.error("otto", review, id="BAD-2", approve=True).code == "CONFLICT"
    bad = api.error("otto", review, id="BAD-2", approve=True, rate=20_000)
    assert (bad.code, "between 0 and 10000" in bad.message) == ("BAD_REQUEST", True)
    bad = api.error("otto", review, id="BAD-2", approve=False, amount=5)
    assert (bad.code, bad.message) == ("BAD_REQUEST", "a rejection cannot change terms")
    assert api.gql("otto", APPLICATION, id="BAD-2")["application"]["status"] == "declined"
