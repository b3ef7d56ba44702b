"""A bank supermarket on a generated, ingested world, through the API only (issue 19, item 4).

Three funders are created and staffed with the CLI (`chainlens users add-funder`, `users add
--funder`, and a supplier's own user with `--enterprise`); two grant the supplier a line.
The supplier's user offers one application to all three; each funder's credit officer decides
its own (one cannot touch another's offer); two offer, one declines; the supplier accepts one
offer: it becomes that funder's approved financing, the other offer lapses and its hold is
released; neither funder reads the other's records.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.journeys.conftest import PASSWORD, Api, World, cli
from tests.journeys.test_credit_journey import open_receivables

TODAY = datetime.now(UTC).date()
FUNDERS = {"jbank": "bank", "jfactor": "factoring", "jfinco": "finance_company"}

GRANT = """mutation($input: GrantCreditLineInput!) { grantCreditLine(input: $input) { id } }"""
LINE = """query($id: ID!) { creditLine(id: $id) { held } }"""
OFFER = """mutation($input: OfferInput!) { offerApplication(input: $input) {
  id status funderId } }"""
DECIDE = """mutation($id: ID!, $approve: Boolean!, $rate: Int) {
  decideOffer(id: $id, approve: $approve, rateBps: $rate) { id status rateBps } }"""
ACCEPT = """mutation($id: ID!) { acceptOffer(id: $id) { id status financingId funderId } }"""
APPS = """{ applications(first: 200) { edges { node { id funderId } } } }"""
FIN = """query($id: ID!) { financing(id: $id) { id funderId lender status amount } }"""
FIRM = """query($id: ID!) { enterprise(id: $id) { id name } }"""


def _supplier(world: World) -> tuple[str, str]:
    """An active non-core firm with an open receivable no lender holds (from the end of the
    extract, away from the firms the other journeys pick first)."""
    firms = [e for e in world.rows("enterprises")
             if e["is_core"] != "true" and e.get("status", "active") in ("", "active")]
    for firm in reversed(firms):
        open_ = open_receivables(world, firm["id"])
        if open_:
            return firm["id"], open_[-1]["id"]
    raise AssertionError("the world has no supplier with an open receivable")


def test_an_application_offered_to_three_funders(
    api: Api, world: World, cli_env: dict[str, str]
) -> None:
    supplier, invoice = _supplier(world)
    for funder, kind in FUNDERS.items():
        cli(cli_env, "users", "add-funder", funder, "--name", f"{funder} ltd", "--kind", kind)
        for role in ("admin", "credit_officer"):
            cli(cli_env, "users", "add", f"{role}-{funder}", "--role", role, "--funder", funder,
                stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    cli(cli_env, "users", "add", "supplier-user", "--role", "relationship_manager",
        "--enterprise", supplier, stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert "jfactor" in cli(cli_env, "users", "funders")

    expires = (TODAY + timedelta(days=365)).isoformat()
    for funder in ("jbank", "jfactor"):
        api.gql(f"admin-{funder}", GRANT, input={
            "id": f"L-{funder}-{supplier}", "enterpriseId": supplier, "kind": "enterprise",
            "limit": 1_000_000_000, "currency": "CNY", "expiresOn": expires})  # fmt: skip

    def held(funder: str) -> int:
        return int(api.gql(f"credit_officer-{funder}", LINE,
                           id=f"L-{funder}-{supplier}")["creditLine"]["held"])  # fmt: skip

    offers = api.gql("supplier-user", OFFER, input={
        "id": "JREQ-1", "enterpriseId": supplier, "productId": "factoring_recourse",
        "amount": 20_000_000, "collateralIds": [invoice],
        "funderIds": list(FUNDERS)})["offerApplication"]  # fmt: skip
    assert {o["funderId"]: o["status"] for o in offers} == {f: "submitted" for f in FUNDERS}

    # Each funder decides its own offer, and only its own.
    assert api.error("credit_officer-jbank", DECIDE, id="JREQ-1@jfactor",
                     approve=True).code == "NOT_FOUND"  # fmt: skip
    assert api.gql("credit_officer-jbank", DECIDE, id="JREQ-1@jbank",
                   approve=True)["decideOffer"]["status"] == "offered"  # fmt: skip
    assert api.gql("credit_officer-jfactor", DECIDE, id="JREQ-1@jfactor", approve=True,
                   rate=850)["decideOffer"]["rateBps"] == 850  # fmt: skip
    assert api.gql("credit_officer-jfinco", DECIDE, id="JREQ-1@jfinco",
                   approve=False)["decideOffer"]["status"] == "rejected"  # fmt: skip
    assert held("jbank") == held("jfactor") == 20_000_000

    # The supplier takes the factoring company's offer; the bank's lapses, its hold released.
    after = {o["funderId"]: o for o in
             api.gql("supplier-user", ACCEPT, id="JREQ-1@jfactor")["acceptOffer"]}
    assert (after["jfactor"]["status"], after["jbank"]["status"],
            after["jfinco"]["status"]) == ("approved", "lapsed", "rejected")  # fmt: skip
    assert held("jbank") == 0 and held("jfactor") == 20_000_000
    fin_id = after["jfactor"]["financingId"]
    fin: dict[str, Any] = api.gql("credit_officer-jfactor", FIN, id=fin_id)["financing"]
    assert (fin["funderId"], fin["lender"], fin["status"], fin["amount"]) == (
        "jfactor", "jfactor", "approved", 20_000_000)
    # Isolation: the bank does not read the factor's financing, nor see its offer listed;
    # the chain graph is the same for both.
    assert api.error("credit_officer-jbank", FIN, id=fin_id).code == "NOT_FOUND"
    bank_sees = {e["node"]["id"] for e in api.gql("credit_officer-jbank", APPS)[
        "applications"]["edges"]}  # fmt: skip
    assert bank_sees == {"JREQ-1@jbank"}
    assert api.gql("credit_officer-jbank", FIRM, id=supplier)["enterprise"]["name"]
    # A second acceptance is refused.
    assert api.error("supplier-user", ACCEPT, id="JREQ-1@jbank").code == "CONFLICT"
