"""Journey on the journey world: the loaded book's pledges are in the registry of security
interests once `chainlens ingest` has run (issue 19, item 3).

The world was generated and ingested with the CLI; a pledge of a live loaded financing is
found in the registry through GraphQL, registered for the lender that holds it; a second
pledge of the same collateral for another secured party (the default funder's credit
officer registering it for ChainLens) is refused, naming that registration; and ingesting
the same folder again registers nothing twice.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from tests.journeys.conftest import Api, World, cli
from tests.journeys.test_credit_journey import TODAY

SEARCH = """query($debtor: ID, $collateral: ID) {
  securityInterests(debtorId: $debtor, collateralId: $collateral, first: 50) {
    totalCount edges { node { id kind status collateralKind collateralId debtorId
      securedParty financingId registeredOn registeredBy } } } }"""
REGISTER = """mutation($input: RegistrationInput!, $req: ID!) {
  registerSecurityInterest(input: $input, requestId: $req) { id status } }"""
LIVE = ("", "live", "overdue")


def test_the_loaded_books_pledges_are_registered_on_ingest(
    api: Api, world: World, cli_env: dict[str, str]
) -> None:
    fins = {f["id"]: f for f in world.rows("financings")}
    pledges = world.rows("pledges")
    times = Counter(p["collateral_id"] for p in pledges)
    # A pledge of a live loaded financing whose collateral is pledged once in the book (a
    # collateral pledged twice is a duplicate pledge: only the first is registered).
    pledge = next(p for p in sorted(pledges, key=lambda p: p["id"])
                  if fins[p["financing_id"]]["status"] in LIVE and times[p["collateral_id"]] == 1
                  and p["collateral_kind"] == "asset")  # fmt: skip
    fin = fins[pledge["financing_id"]]
    collateral = pledge["collateral_id"]
    found = api.gql("anna", SEARCH, collateral=collateral)["securityInterests"]
    assert found["totalCount"] == 1, found
    reg = found["edges"][0]["node"]
    assert reg["id"] == f"RSI-{fin['id']}-{collateral}"
    assert (reg["kind"], reg["status"], reg["collateralId"], reg["securedParty"]) == (
        "pledge", "live", collateral, fin["lender"])
    assert (reg["financingId"], reg["registeredOn"], reg["registeredBy"]) == (
        fin["id"], pledge["pledged_on"], "ingest")
    by_debtor = api.gql("anna", SEARCH, debtor=reg["debtorId"])["securityInterests"]
    assert reg["id"] in {e["node"]["id"] for e in by_debtor["edges"]}

    # Every live loaded financing's once-pledged collateral is registered for its lender.
    invoice = next(p for p in sorted(pledges, key=lambda p: p["id"])
                   if fins[p["financing_id"]]["status"] in LIVE
                   and times[p["collateral_id"]] == 1
                   and p["collateral_kind"] == "invoice")  # fmt: skip
    inv = api.gql("anna", SEARCH, collateral=invoice["collateral_id"])["securityInterests"]
    (node,) = [e["node"] for e in inv["edges"]]
    assert (node["collateralKind"], node["securedParty"], node["financingId"]) == (
        "invoice", fins[invoice["financing_id"]]["lender"], invoice["financing_id"])
    assert node["kind"] == ("transfer" if fins[invoice["financing_id"]]["product_kind"] in (
        "factoring", "reverse_factoring") else "pledge")

    # A second pledge of that collateral for another secured party: refused, naming it.
    terms = {"kind": "pledge", "collateralId": collateral, "securedParty": "ChainLens",
             "registeredOn": TODAY.isoformat(),
             "expiresOn": (TODAY + timedelta(days=365)).isoformat()}  # fmt: skip
    refused = api.error("otto", REGISTER, input=terms, req="RI-SECOND")
    assert refused.code == "CONFLICT", refused
    assert reg["id"] in refused.message and fin["lender"] in refused.message
    assert api.gql("anna", SEARCH, collateral=collateral)["securityInterests"] == found

    # Ingesting the same world again registers nothing twice.
    before = api.gql("anna", SEARCH, debtor=reg["debtorId"])["securityInterests"]
    cli(cli_env, "ingest", str(world.folder))
    assert api.gql("anna", SEARCH, collateral=collateral)["securityInterests"] == found
    assert api.gql("anna", SEARCH, debtor=reg["debtorId"])["securityInterests"] == before
