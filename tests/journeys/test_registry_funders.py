"""Journey over HTTP on the journey world: one registry of security interests for every
funder on the platform (issue 19, item 3).

Funder B (made with the CLI, with its own credit officer) registers a pledge of a supplier's
receivable for itself; B's officer cannot register for anyone else. The default funder's
credit officer then tries to take the same receivable: refused, naming B's registration, and
it may not discharge B's registration either. Once B discharges it, the default funder's
pledge goes through, and B in turn cannot discharge that one. Nothing refused is written.
"""

from __future__ import annotations

from datetime import timedelta

from tests.journeys.conftest import PASSWORD, Api, World, cli
from tests.journeys.test_credit_journey import TODAY
from tests.journeys.test_registry_on_ingest import SEARCH

FUNDER_B = "rf-bank-b"
OFFICER_B = f"credit_officer-{FUNDER_B}"
REGISTER = """mutation($input: RegistrationInput!, $req: ID!) {
  registerSecurityInterest(input: $input, requestId: $req) {
    id status securedParty collateralId registeredBy } }"""
DISCHARGE = """mutation($id: ID!, $on: Date!) {
  dischargeSecurityInterest(id: $id, on: $on) { id status dischargedOn securedParty } }"""


def _free_receivable(world: World) -> str:
    """An open invoice sold to a firm that is not a core (the voucher journeys take cores'
    payables), pledged by nothing in the loaded book: the last such by id."""
    pledged = {p["collateral_id"] for p in world.rows("pledges")}
    cores = {e["id"] for e in world.rows("enterprises") if e["is_core"] == "true"}
    return max(i["id"] for i in world.rows("invoices")
               if i["status"] in ("", "issued") and i["id"] not in pledged
               and i["buyer_id"] not in cores)  # fmt: skip


def test_a_second_pledge_at_another_funder_is_refused_until_discharged(
    api: Api, world: World, cli_env: dict[str, str]
) -> None:
    cli(cli_env, "users", "add-funder", FUNDER_B, "--name", "RF Bank B", "--kind", "bank")
    cli(cli_env, "users", "add", OFFICER_B, "--role", "credit_officer", "--funder", FUNDER_B,
        stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    invoice = _free_receivable(world)

    def registrations() -> list[dict[str, str]]:
        found = api.gql("anna", SEARCH, collateral=invoice)["securityInterests"]
        return [e["node"] for e in found["edges"]]

    assert registrations() == []
    terms = {"kind": "pledge", "collateralId": invoice, "registeredOn": TODAY.isoformat(),
             "expiresOn": (TODAY + timedelta(days=180)).isoformat(),
             "description": "receivable pledged to RF Bank B"}  # fmt: skip

    # B's officer registers for B (its funder when no party is named), never for another.
    for party in ("own_book", "Some Other Bank"):
        no = api.error(OFFICER_B, REGISTER, input={**terms, "securedParty": party},
                       req=f"RF-B-{party}")  # fmt: skip
        assert no.code == "FORBIDDEN" and "their own funder" in no.message, no
    assert registrations() == []
    b = api.gql(OFFICER_B, REGISTER, input=terms, req="RF-B-1")["registerSecurityInterest"]
    assert (b["status"], b["securedParty"], b["registeredBy"]) == ("live", FUNDER_B, OFFICER_B)
    assert api.gql(OFFICER_B, REGISTER, input=terms,
                   req="RF-B-1")["registerSecurityInterest"] == b  # a retry: the same
    # The default funder's officer cannot take the receivable, nor register or discharge
    # in B's name; B's registration is named.
    second = api.error("otto", REGISTER, input=terms, req="RF-A-1")
    assert second.code == "CONFLICT", second
    assert b["id"] in second.message and FUNDER_B in second.message
    as_b = api.error("otto", REGISTER, input={**terms, "securedParty": FUNDER_B}, req="RF-A-2")
    assert as_b.code == "FORBIDDEN" and "another funder" in as_b.message, as_b
    on = (TODAY + timedelta(days=1)).isoformat()
    no = api.error("otto", DISCHARGE, id=b["id"], on=on)
    assert no.code == "FORBIDDEN", no
    assert [r["id"] for r in registrations()] == [b["id"]]
    assert registrations()[0]["status"] == "live"

    # B discharges; the default funder's pledge now goes through, and is its own.
    gone = api.gql(OFFICER_B, DISCHARGE, id=b["id"], on=on)["dischargeSecurityInterest"]
    assert (gone["status"], gone["dischargedOn"]) == ("discharged", on)
    a = api.gql("otto", REGISTER, input={**terms, "registeredOn": on},
                req="RF-A-3")["registerSecurityInterest"]  # fmt: skip
    assert (a["status"], a["securedParty"]) == ("live", "own_book")
    assert api.error(OFFICER_B, DISCHARGE, id=a["id"], on=on).code == "FORBIDDEN"
    assert {r["id"]: r["status"] for r in registrations()} == {
        b["id"]: "discharged", a["id"]: "live"}
