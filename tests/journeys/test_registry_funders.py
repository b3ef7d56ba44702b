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

import pytest

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
AMEND = """mutation($id: ID!, $input: AmendmentInput!, $on: Date!) {
  amendSecurityInterest(id: $id, input: $input, on: $on) { id status expiresOn description
    amendments { on by previousExpiresOn expiresOn previousDescription description } } }"""


def _free_receivable(world: World, nth: int = 0) -> str:
    """An open invoice sold to a firm that is not a core (the voucher journeys take cores'
    payables), pledged by nothing in the loaded book: the last such by id (``nth``: the one
    that many before it)."""
    pledged = {p["collateral_id"] for p in world.rows("pledges")}
    cores = {e["id"] for e in world.rows("enterprises") if e["is_core"] == "true"}
    return sorted(i["id"] for i in world.rows("invoices")
                  if i["status"] in ("", "issued") and i["id"] not in pledged
                  and i["buyer_id"] not in cores)[-1 - nth]  # fmt: skip


@pytest.fixture(scope="module")
def funder_b(cli_env: dict[str, str]) -> str:
    """Funder B, made with the CLI, and its credit officer."""
    cli(cli_env, "users", "add-funder", FUNDER_B, "--name", "RF Bank B", "--kind", "bank")
    cli(cli_env, "users", "add", OFFICER_B, "--role", "credit_officer", "--funder", FUNDER_B,
        stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    return FUNDER_B


def test_a_second_pledge_at_another_funder_is_refused_until_discharged(
    api: Api, world: World, funder_b: str
) -> None:
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


def test_a_registration_is_amended_by_its_secured_party_only(
    api: Api, world: World, funder_b: str
) -> None:
    """Amendment (变更登记): B extends and re-describes its pledge; it cannot extend it over
    the start of the registration another funder has made to follow it (named in the
    refusal); nobody else amends it; a discharged one is not amended."""
    invoice = _free_receivable(world, nth=1)
    day = lambda n: (TODAY + timedelta(days=n)).isoformat()  # noqa: E731
    terms = {"kind": "pledge", "collateralId": invoice, "registeredOn": day(0),
             "expiresOn": day(90), "description": "receivable pledged to RF Bank B"}  # fmt: skip
    b = api.gql(OFFICER_B, REGISTER, input=terms, req="RF-AM-B")["registerSecurityInterest"]
    # The default funder registers a pledge to take effect once B's period has ended.
    a = api.gql("otto", REGISTER, input={**terms, "registeredOn": day(120),
                                         "expiresOn": day(300), "description": "next"},
                req="RF-AM-A")["registerSecurityInterest"]  # fmt: skip
    assert a["status"] == "live"

    longer = api.gql(OFFICER_B, AMEND, id=b["id"], input={"expiresOn": day(110)},
                     on=day(1))["amendSecurityInterest"]  # fmt: skip
    assert (longer["expiresOn"], longer["description"]) == (day(110), terms["description"])
    assert longer["amendments"] == [{"on": day(1), "by": OFFICER_B, "previousExpiresOn": day(90),
                                     "expiresOn": day(110), "previousDescription": None,
                                     "description": None}]  # fmt: skip
    # Over the start of the default funder's registration: refused, naming it; nothing kept.
    over = api.error(OFFICER_B, AMEND, id=b["id"], input={"expiresOn": day(150)}, on=day(1))
    assert over.code == "CONFLICT" and a["id"] in over.message, over
    # Only its secured party's users amend it.
    assert api.error("otto", AMEND, id=b["id"], input={"expiresOn": day(100)},
                     on=day(1)).code == "FORBIDDEN"  # fmt: skip
    # A new description; the same amendment again changes nothing.
    for _ in range(2):
        got = api.gql(OFFICER_B, AMEND, id=b["id"], input={"description": "pledge, renewed"},
                      on=day(2))["amendSecurityInterest"]  # fmt: skip
        assert len(got["amendments"]) == 2, got
    assert got["amendments"][1]["previousDescription"] == terms["description"]
    assert (got["expiresOn"], got["description"]) == (day(110), "pledge, renewed")
    # Bad input, in words: an end before the amendment's day, nothing to change.
    early = api.error(OFFICER_B, AMEND, id=b["id"], input={"expiresOn": day(1)}, on=day(5))
    assert "not before the amendment" in early.message, early
    assert "changes the period's end" in api.error(OFFICER_B, AMEND, id=b["id"], input={},
                                                   on=day(5)).message  # fmt: skip
    # Discharged: no longer amended.
    api.gql(OFFICER_B, DISCHARGE, id=b["id"], on=day(3))
    gone = api.error(OFFICER_B, AMEND, id=b["id"], input={"expiresOn": day(100)}, on=day(4))
    assert "only a live one is amended" in gone.message, gone
    found = api.gql("anna", SEARCH, collateral=invoice)["securityInterests"]["edges"]
    assert {e["node"]["id"]: e["node"]["status"] for e in found} == {
        b["id"]: "discharged", a["id"]: "live"}
