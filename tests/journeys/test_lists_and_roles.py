"""Journey 5 and the roles around it, over HTTP on the journey world: the checker's queue,
a borrower's financings of both origins, financings maturing within 30 days, a chain's line
usage, declined applications in the lists; the service account (the matching engine) reads
only what it originated."""

from __future__ import annotations

from datetime import timedelta

from tests.journeys.conftest import Api, World
from tests.journeys.test_credit_journey import (
    DISBURSE,
    FINANCING,
    SUBMIT,
    TODAY,
    find_referred_supplier,
    open_receivables,
    sign_contract,
)

QUEUE = """{ reviewQueue(first: 50) { totalCount edges { node { id maker status } } } }"""
APPLICATIONS = """query($status: [String!], $maker: String) {
  applications(status: $status, maker: $maker, first: 200) {
    totalCount edges { node { id maker status reasons } } } }"""
FINANCINGS = """query($borrower: ID, $status: [String!], $before: Date, $origin: String) {
  financings(borrowerId: $borrower, status: $status, maturingBefore: $before, origin: $origin,
             first: 200) {
    totalCount edges { node { id origin status borrowerId maturityOn lender } } } }"""
LINES = """query($core: ID!) { creditLinesList(coreId: $core, first: 50) {
  totalCount edges { node { id kind tier limit used held available } } } }"""
NESTED = """query($id: ID!) { enterprise(id: $id) {
  financings(first: 200) { totalCount edges { node { id borrowerId } } }
  applications(first: 200) { totalCount edges { node { id enterpriseId } } }
  creditLines(chain: true, first: 50) { totalCount edges { node { id kind tier } } }
  alerts(first: 10) { totalCount }
  vouchers(first: 10) { totalCount } } }"""
APPROVE = """mutation($id: ID!, $tenor: Int) {
  reviewApplication(id: $id, approve: true, tenorDays: $tenor) { status financingId } }"""


def _ids(connection: dict[str, object]) -> list[str]:
    return [e["node"]["id"] for e in connection["edges"]]  # type: ignore[index,union-attr]


def test_the_lists_a_credit_team_works_from(api: Api, world: World) -> None:
    core, sc, t2, match = find_referred_supplier(api, world, skip=frozenset())
    supplier = match["supplier"]
    invoices = [i["id"] for i in open_receivables(world, supplier)]
    referred = api.gql("rita", SUBMIT, input={
        "id": "J5-REF", "enterpriseId": supplier, "productId": "reverse_factoring",
        "amount": match["amount"], "currency": "CNY", "collateralIds": invoices,
    })["submitApplication"]  # fmt: skip
    if referred["status"] != "referred":  # the first journey may have taken the receivables
        core, sc, t2, match = find_referred_supplier(api, world, skip=frozenset({supplier}))
        supplier = match["supplier"]
        invoices = [i["id"] for i in open_receivables(world, supplier)]
        referred = api.gql("rita", SUBMIT, input={
            "id": "J5-REF2", "enterpriseId": supplier, "productId": "reverse_factoring",
            "amount": match["amount"], "currency": "CNY", "collateralIds": invoices,
        })["submitApplication"]  # fmt: skip
    assert referred["status"] == "referred", referred["reasons"]

    # The checker's queue: what someone else made, waiting; the maker has no queue.
    queue = api.gql("otto", QUEUE)["reviewQueue"]
    assert referred["id"] in _ids(queue)
    assert all(e["node"]["status"] == "referred" and e["node"]["maker"] != "otto"
               for e in queue["edges"])  # fmt: skip
    assert api.error("rita", QUEUE).code in ("FORBIDDEN", "UNAUTHORIZED")

    # Approved for 20 days, disbursed today: it matures within 30 days.
    approved = api.gql("olga", APPROVE, id=referred["id"], tenor=20)["reviewApplication"]
    fin_id = approved["financingId"]
    assert referred["id"] not in _ids(api.gql("otto", QUEUE)["reviewQueue"])
    sign_contract(api, fin_id, "CT-J5")
    api.gql("otto", DISBURSE, id=fin_id, on=TODAY.isoformat())
    soon = api.gql("otto", FINANCINGS, status=["active", "overdue"],
                   before=(TODAY + timedelta(days=30)).isoformat())["financings"]  # fmt: skip
    assert fin_id in _ids(soon)
    assert all(e["node"]["maturityOn"] <= (TODAY + timedelta(days=30)).isoformat()
               for e in soon["edges"])  # fmt: skip

    # A borrower's financings, loaded and originated alike.
    loaded = next(f for f in world.rows("financings") if f["status"] == "live")
    mine = api.gql("otto", FINANCINGS, borrower=loaded["borrower_id"])["financings"]
    assert loaded["id"] in _ids(mine) and mine["totalCount"] == len(mine["edges"])
    assert {e["node"]["borrowerId"] for e in mine["edges"]} == {loaded["borrower_id"]}
    theirs = api.gql("anna", FINANCINGS, origin="loaded", borrower=supplier)["financings"]
    assert fin_id not in _ids(theirs)
    # The same lists nested on the enterprise.
    nested = api.gql("otto", NESTED, id=loaded["borrower_id"])["enterprise"]
    assert sorted(_ids(nested["financings"])) == sorted(_ids(mine))
    assert nested["financings"]["totalCount"] == mine["totalCount"]
    of_supplier = api.gql("otto", NESTED, id=supplier)["enterprise"]
    assert referred["id"] in _ids(of_supplier["applications"])
    assert {e["node"]["enterpriseId"] for e in of_supplier["applications"]["edges"]} == {supplier}
    assert fin_id in _ids(of_supplier["financings"])
    assert {sc, t2} <= set(_ids(api.gql("otto", NESTED, id=core)["enterprise"]["creditLines"]))

    # The chain's lines: the core's line and its tier-2 sub-limit, both occupied.
    lines = {e["node"]["id"]: e["node"]
             for e in api.gql("otto", LINES, core=core)["creditLinesList"]["edges"]}
    assert {sc, t2} <= set(lines)
    amount = api.gql("otto", FINANCING, id=fin_id)["financing"]["amount"]
    assert lines[t2]["used"] >= amount and lines[sc]["used"] >= lines[t2]["used"]
    assert lines[t2]["tier"] == 2

    # Declined applications are in the lists too: one without a line of its own.
    lineless = next(e["id"] for e in world.rows("enterprises")
                    if e["is_core"] != "true" and open_receivables(world, e["id"]))  # fmt: skip
    no = api.gql("rita", SUBMIT, input={
        "id": "J5-DEC", "enterpriseId": lineless, "productId": "factoring_recourse",
        "amount": 1_000_000, "currency": "CNY",
        "collateralIds": [open_receivables(world, lineless)[0]["id"]],
    })["submitApplication"]  # fmt: skip
    assert no["status"] == "declined"
    declined = api.gql("otto", APPLICATIONS, status=["declined"])["applications"]
    assert "J5-DEC" in _ids(declined)
    assert declined["totalCount"] == len(declined["edges"])
    assert {e["node"]["status"] for e in declined["edges"]} == {"declined"}
    assert all(e["node"]["reasons"] for e in declined["edges"])


def test_the_service_account_reads_only_what_it_originated(api: Api, world: World) -> None:
    firm = next(e["id"] for e in world.rows("enterprises")
                if e["is_core"] != "true" and open_receivables(world, e["id"]))  # fmt: skip
    invoice = open_receivables(world, firm)[-1]["id"]
    own = api.gql("matcher", SUBMIT, input={
        "id": "J6-SVC", "enterpriseId": firm, "productId": "receivables_pledge",
        "amount": 1_000_000, "currency": "CNY", "collateralIds": [invoice],
    })["submitApplication"]  # fmt: skip
    assert own["maker"] == "matcher"
    read = """query($id: ID!) { application(id: $id) { id maker } }"""
    assert api.gql("matcher", read, id="J6-SVC")["application"]["maker"] == "matcher"
    listed = api.gql("matcher", APPLICATIONS)["applications"]
    assert {e["node"]["maker"] for e in listed["edges"]} == {"matcher"}
    # Someone else's application, another lender's loan, another maker's list: refused.
    other = api.gql("rita", SUBMIT, input={
        "id": "J6-RM", "enterpriseId": firm, "productId": "receivables_pledge",
        "amount": 1_000_000, "currency": "CNY", "collateralIds": [invoice],
    })["submitApplication"]  # fmt: skip
    assert api.error("matcher", read, id=other["id"]).code == "FORBIDDEN"
    loaded = next(f["id"] for f in world.rows("financings") if f["status"] == "live")
    assert api.error("matcher", FINANCING, id=loaded).code == "FORBIDDEN"
    assert api.error("matcher", APPLICATIONS, maker="rita").code == "FORBIDDEN"
    nested = """query($id: ID!) { enterprise(id: $id) {
      applications(first: 50) { edges { node { id maker } } } } }"""
    seen = api.gql("matcher", nested, id=firm)["enterprise"]["applications"]["edges"]
    assert "J6-SVC" in [e["node"]["id"] for e in seen]
    assert {e["node"]["maker"] for e in seen} == {"matcher"}
    # What the service may not do at all.
    assert api.error("matcher", QUEUE).code in ("FORBIDDEN", "UNAUTHORIZED")
