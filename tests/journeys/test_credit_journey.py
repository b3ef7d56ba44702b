"""The credit team's and the relationship manager's whole job, through the API, on a world
made by `chainlens generate` and loaded by `chainlens ingest` (see conftest.py).

Journey 1: an admin grants a core enterprise's supply-chain line with a tier-2 sub-limit; a
relationship manager submits reverse factoring of a tier-2 supplier's receivables; the policy
refers it; another person, a credit officer, approves it with a smaller amount and a
condition; then contract, disbursement, accrual, a partial repayment, the maturity warning,
overdue with its class and provision, a collections record and the write-off. The trial
balance is zero and the lines' occupation right after every step.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.contract_signing import contract_signed
from tests.journeys.conftest import Api, GraphQLError, World

TODAY = datetime.now(UTC).date()

GRANT = """mutation($input: GrantCreditLineInput!) { grantCreditLine(input: $input) {
  id kind status limit used held available } }"""
PROPOSE = """mutation($id: ID!, $input: GrantCreditLineInput!) {
  proposeCreditLine(id: $id, input: $input) { id status maker limit } }"""
DECIDE = """mutation($id: ID!, $approve: Boolean!, $note: String!) {
  decideCreditLineProposal(id: $id, approve: $approve, note: $note) {
    status checker line { id status limit available } } }"""
LINE = """query($id: ID!) { creditLine(id: $id) { id limit used held available status } }"""
TIERS = """query($id: ID!) { tiers(id: $id, direction: UPSTREAM, depth: 2, first: 200) {
  firms { edges { node { id tier } } } } }"""
MATCHES = """query($id: ID!) { productMatches(enterpriseId: $id, includeIneligible: true) {
  productId eligible verdict amount reasons } }"""
SUBMIT = """mutation($input: ApplicationInput!) { submitApplication(input: $input) {
  id status reasons decidedAmount rateBps financingId maker checker conditions
  decisions { kind actor verdict amount reasons policyVersion inputs } } }"""
REVIEW = """mutation($id: ID!, $amount: BigInt, $conditions: [String!], $tenor: Int) {
  reviewApplication(id: $id, approve: true, note: "trade checked against the core's ERP",
                    amount: $amount, conditions: $conditions, tenorDays: $tenor) {
    id status decidedAmount financingId checker conditions
    decisions { kind actor verdict amount reasons } } }"""
FINANCING = """query($id: ID!) { financing(id: $id) {
  id origin lender productKind productId applicationId borrowerId status amount outstanding
  interestDue startOn maturityOn accruedThrough daysPastDue riskClass provision tenorDays
  conditions lineId followUps { kind note recordedBy } } }"""
# signContract alone (refused until the contract is signed by both parties: sign_contract)
SIGN = """mutation($id: ID!) { signContract(financingId: $id, contractNo: "CT-J1") { status } }"""
DISBURSE = """mutation($id: ID!, $on: Date!) { disburse(financingId: $id, on: $on) {
  status outstanding startOn maturityOn } }"""
PUSHED = """subscription($kind: String) { alertRaised(kind: $kind) {
  kind severity financingIds enterpriseIds } }"""
EOD = """mutation($on: Date!) { runEndOfDay(asOf: $on) {
  expired accrued reviewed maturityWarnings overdueAlerts } }"""
REPAY = """mutation($id: ID!, $amount: BigInt!, $on: Date!, $req: ID!) {
  repay(financingId: $id, amount: $amount, on: $on, requestId: $req) {
    interestPaid principalPaid fee financing { outstanding interestDue status } } }"""
ALERTS = """query($id: String!) { alerts(financingId: $id, first: 50) {
  edges { node { kind severity message } } } }"""
FOLLOW_UP = """mutation($id: ID!, $fin: ID!, $on: Date!) {
  recordFollowUp(id: $id, financingId: $fin, kind: "collection_call", on: $on,
                 note: "called the finance director; promises a plan next week") {
    id kind recordedBy } }"""
WRITE_OFF = """mutation($id: ID!, $on: Date!) { writeOffFinancing(financingId: $id, on: $on) {
  status outstanding provision riskClass } }"""
TRIAL = """{ trialBalance { balanced totalDebits totalCredits } }"""


def sign_contract(
    api: Api, financing_id: str, contract_no: str = "CT-J1", *, manager: str = "rita",
    officer: str = "otto",
) -> dict[str, Any]:  # fmt: skip
    """The financing contracted through the front door: its contract generated, signed for
    the borrower (``manager``, on the borrower's mandate) and the funder (``officer``), then
    signContract; signContract's answer (status, contractDocumentId, contractSha256)."""
    return contract_signed(api.gql, financing_id, manager=manager, officer=officer,
                           contract_no=contract_no)  # fmt: skip


def balanced(api: Api) -> None:
    tb = api.gql("otto", TRIAL)["trialBalance"]
    assert tb["balanced"] and tb["totalDebits"] == tb["totalCredits"], tb


def line(api: Api, line_id: str) -> dict[str, Any]:
    got: dict[str, Any] = api.gql("otto", LINE, id=line_id)["creditLine"]
    return got


def open_receivables(world: World, seller: str) -> list[dict[str, str]]:
    """The seller's open invoices in its own extract, less those its lenders already hold."""
    pledged = {p["collateral_id"] for p in world.rows("pledges")}
    return [
        i for i in world.rows("invoices")
        if i["seller_id"] == seller and i["status"] in ("", "issued", "partially_paid", "overdue")
        and i["id"] not in pledged
    ]  # fmt: skip


def grant_core_line(api: Api, core: str) -> tuple[str, str]:
    """The core's supply-chain line and its tier-2 sub-limit. The line is above the four-eyes
    threshold: the admin alone is refused, a credit officer proposes it and the admin approves
    it; the sub-limit is below the threshold and the admin grants it alone."""
    sc, t2 = f"SC-{core}", f"SC-{core}-T2"
    expires = (TODAY + timedelta(days=720)).isoformat()
    terms = {"id": sc, "enterpriseId": core, "kind": "supply_chain", "limit": 50_000_000_000,
             "currency": "CNY", "expiresOn": expires}  # fmt: skip
    alone = api.error("ada", GRANT, input=terms)
    assert alone.code == "FORBIDDEN" and "second approver" in alone.message
    proposed = api.gql("otto", PROPOSE, id=f"P-{sc}", input=terms)["proposeCreditLine"]
    assert (proposed["maker"], proposed["limit"]) == ("otto", 50_000_000_000)
    assert proposed["status"] in ("pending", "approved")  # approved when a journey ran before
    own = api.error("otto", DECIDE, id=f"P-{sc}", approve=True, note="mine")
    assert own.code == "FORBIDDEN"  # a credit officer does not decide; nor does the maker
    got = api.gql("ada", DECIDE, id=f"P-{sc}", approve=True,
                  note="core's rating and ERP reviewed")["decideCreditLineProposal"]  # fmt: skip
    assert (got["status"], got["checker"]) == ("approved", "ada")
    line = got["line"]
    assert (line["status"], line["limit"]) == ("active", 50_000_000_000)
    sub = api.gql("ada", GRANT, input={
        "id": t2, "enterpriseId": core, "kind": "tier", "tier": 2, "parentId": sc,
        "limit": 3_000_000_000, "currency": "CNY", "expiresOn": expires,
    })["grantCreditLine"]  # fmt: skip
    assert sub["kind"] == "tier"
    if proposed["status"] == "pending":  # a fresh line: nothing drawn on it yet
        assert sub["available"] == 3_000_000_000, sub
    else:  # granted again: an earlier journey on the shared world may have drawn on it
        assert 0 <= sub["available"] <= 3_000_000_000, sub
    return sc, t2


def find_referred_supplier(
    api: Api, world: World, skip: frozenset[str] = frozenset(),
    verdicts: frozenset[str] = frozenset({"refer"}),
) -> tuple[str, str, str, dict[str, Any]]:  # fmt: skip
    """A core, and a tier-2 supplier of it (not in ``skip``) whose reverse factoring the
    policy would refer (or give another of ``verdicts``): the relationship manager's
    prospecting, through the API."""
    cores = [e["id"] for e in world.rows("enterprises") if e["is_core"] == "true"]
    for core in cores:
        firms = api.gql("rita", TIERS, id=core)["tiers"]["firms"]["edges"]
        tier2 = [f["node"]["id"] for f in firms if f["node"]["tier"] == 2]
        if not tier2:
            continue
        sc, t2 = grant_core_line(api, core)
        for supplier in tier2:
            if supplier in skip or not open_receivables(world, supplier):
                continue
            matches = api.gql("rita", MATCHES, id=supplier)["productMatches"]
            rf = next(m for m in matches if m["productId"] == "reverse_factoring")
            if rf["verdict"] in verdicts and not any("circle" in r for r in rf["reasons"]):
                return core, sc, t2, {"supplier": supplier, **rf}
    raise AssertionError(f"no tier-2 supplier in the world whose reverse factoring is {verdicts}")


def approved_supplier_financing(api: Api, world: World, app_prefix: str) -> tuple[str, str, int]:
    """(borrower, financing, amount): a tier-2 supplier's reverse factoring on its open
    receivables, approved by the policy or, referred, by a second person for the whole
    millions asked — whichever the shared journey world still offers after the journeys
    before (their applications take suppliers' invoices and lines' room)."""
    skip: set[str] = set()
    for attempt in range(4):
        _core, _sc, _t2, match = find_referred_supplier(
            api, world, frozenset(skip), verdicts=frozenset({"refer", "approve"}))  # fmt: skip
        supplier = match["supplier"]
        invoices = [i["id"] for i in open_receivables(world, supplier)]
        app_id = f"{app_prefix}-{attempt}"
        try:
            app = api.gql("rita", SUBMIT, input={
                "id": app_id, "enterpriseId": supplier, "productId": "reverse_factoring",
                "amount": match["amount"], "currency": "CNY", "collateralIds": invoices,
            })["submitApplication"]  # fmt: skip
        except GraphQLError:  # its invoices are taken by an earlier journey: the next one
            skip.add(supplier)
            continue
        if app["status"] == "referred" and not app["financingId"]:
            amount = match["amount"] - match["amount"] % 1_000_000
            app = api.gql("otto", REVIEW, id=app_id, amount=amount, tenor=90,
                          conditions=[])["reviewApplication"]  # fmt: skip
        if app["status"] == "approved" and app["financingId"]:
            return supplier, str(app["financingId"]), int(app["decidedAmount"])
        skip.add(supplier)
    raise AssertionError("no supplier could be financed")


def test_reverse_factoring_from_application_to_write_off(api: Api, world: World) -> None:
    _core, sc, t2, match = find_referred_supplier(api, world)
    supplier = match["supplier"]
    balanced(api)

    # The relationship manager applies with the supplier's open receivables.
    invoices = [i["id"] for i in open_receivables(world, supplier)]
    app = api.gql("rita", SUBMIT, input={
        "id": "J1-APP", "enterpriseId": supplier, "productId": "reverse_factoring",
        "amount": match["amount"], "currency": "CNY", "collateralIds": invoices,
    })["submitApplication"]  # fmt: skip
    assert app["status"] == "referred", app["reasons"]
    assert app["decidedAmount"] == match["amount"] and app["financingId"] is None
    # Referred for a reason a person reads (the group's debt in the loaded book counts).
    assert app["reasons"][0] in match["reasons"], (app["reasons"], match["reasons"])
    auto = app["decisions"][0]
    assert (auto["kind"], auto["verdict"], auto["actor"]) == ("automatic", "refer", "policy")
    assert auto["inputs"]["tier"] == 2 and auto["policyVersion"]
    # Sending it again returns the same application; nothing is held yet.
    again = api.gql("rita", SUBMIT, input={
        "id": "J1-APP", "enterpriseId": supplier, "productId": "reverse_factoring",
        "amount": match["amount"], "currency": "CNY", "collateralIds": invoices,
    })["submitApplication"]  # fmt: skip
    assert again["id"] == "J1-APP" and again["status"] == "referred"
    assert line(api, t2)["held"] == 0 and line(api, sc)["held"] == 0

    # Four eyes: the maker cannot check; a credit officer approves a smaller amount.
    assert api.error("rita", REVIEW, id="J1-APP").code in ("FORBIDDEN", "UNAUTHORIZED")
    amount = match["amount"] - match["amount"] % 1_000_000 - 1_000_000
    reviewed = api.gql("otto", REVIEW, id="J1-APP", amount=amount, tenor=90,
                       conditions=["the core confirms the receivables in writing"])
    got = reviewed["reviewApplication"]
    assert (got["status"], got["decidedAmount"], got["checker"]) == ("approved", amount, "otto")
    assert got["conditions"] == ["the core confirms the receivables in writing"]
    review = got["decisions"][-1]
    assert (review["kind"], review["actor"], review["amount"]) == ("review", "otto", amount)
    assert f"amount changed from {match['amount']} to {amount}" in review["reasons"]
    fin_id = got["financingId"]
    # The hold sits on the tier-2 sub-limit and on the core's line above it.
    assert (line(api, t2)["held"], line(api, sc)["held"]) == (amount, amount)
    balanced(api)

    fin = api.gql("otto", FINANCING, id=fin_id)["financing"]
    assert (fin["origin"], fin["status"], fin["borrowerId"], fin["lineId"]) == (
        "originated", "approved", supplier, t2)
    assert (fin["amount"], fin["tenorDays"], fin["productKind"]) == (amount, 90,
                                                                      "reverse_factoring")

    # Contract and disbursement: the hold becomes use.
    assert sign_contract(api, fin_id)["status"] == "contracted"
    paid_out = api.gql("otto", DISBURSE, id=fin_id, on=TODAY.isoformat())["disburse"]
    assert (paid_out["status"], paid_out["outstanding"]) == ("active", amount)
    maturity = date.fromisoformat(paid_out["maturityOn"])
    assert maturity == TODAY + timedelta(days=90)
    assert (line(api, t2)["used"], line(api, t2)["held"]) == (amount, 0)
    assert line(api, sc)["used"] == amount
    balanced(api)

    # Thirty days of accrual.
    eod = api.gql("otto", EOD, on=(TODAY + timedelta(days=30)).isoformat())["runEndOfDay"]
    assert eod["accrued"] >= 1
    fin = api.gql("otto", FINANCING, id=fin_id)["financing"]
    assert fin["accruedThrough"] == (TODAY + timedelta(days=30)).isoformat()
    assert fin["interestDue"] > 0
    balanced(api)

    # A partial repayment: interest first, then principal, which frees the line.
    part = amount // 4
    paid = api.gql("otto", REPAY, id=fin_id, amount=part,
                   on=(TODAY + timedelta(days=30)).isoformat(), req="J1-PAY-1")["repay"]
    assert paid["interestPaid"] == fin["interestDue"]
    assert paid["principalPaid"] == part - paid["interestPaid"] - paid["fee"]
    left = amount - paid["principalPaid"]
    assert paid["financing"]["outstanding"] == left
    # The same request again changes nothing.
    twice = api.gql("otto", REPAY, id=fin_id, amount=part,
                    on=(TODAY + timedelta(days=30)).isoformat(), req="J1-PAY-1")["repay"]
    assert twice["financing"]["outstanding"] == left
    assert line(api, t2)["used"] == left and line(api, sc)["used"] == left
    balanced(api)

    # Three days before maturity the end-of-day job warns, once; the warning is pushed to an
    # analyst subscribed to alerts.
    before = (maturity - timedelta(days=3)).isoformat()
    with api.subscribe("anna", PUSHED, kind="maturity_warning") as pushed:
        assert api.gql("otto", EOD, on=before)["runEndOfDay"]["maturityWarnings"] == 1
        warning = pushed()["alertRaised"]
    assert (warning["kind"], warning["financingIds"]) == ("maturity_warning", [fin_id])
    assert api.gql("otto", EOD, on=before)["runEndOfDay"]["maturityWarnings"] == 0
    kinds = [e["node"]["kind"] for e in api.gql("otto", ALERTS, id=fin_id)["alerts"]["edges"]]
    assert kinds == ["maturity_warning"]
    balanced(api)

    # Not repaid: 100 days past due is substandard, provisioned at 25%.
    late = (maturity + timedelta(days=100)).isoformat()
    run = api.gql("otto", EOD, on=late)["runEndOfDay"]
    assert run["overdueAlerts"] == 1
    fin = api.gql("otto", FINANCING, id=fin_id)["financing"]
    assert (fin["status"], fin["daysPastDue"], fin["riskClass"]) == ("overdue", 100,
                                                                      "substandard")
    assert abs(fin["provision"] - fin["outstanding"] * 2500 / 10_000) <= 0.5  # 25%, rounded
    alerts = {e["node"]["kind"]: e["node"] for e in
              api.gql("anna", ALERTS, id=fin_id)["alerts"]["edges"]}
    assert alerts["overdue"]["severity"] == "high" and "100 days past due" in \
        alerts["overdue"]["message"]
    balanced(api)

    # Collections: the relationship manager records the call.
    call = api.gql("rita", FOLLOW_UP, id="J1-CALL-1", fin=fin_id, on=late)["recordFollowUp"]
    assert (call["kind"], call["recordedBy"]) == ("collection_call", "rita")
    assert api.gql("rita", FOLLOW_UP, id="J1-CALL-1", fin=fin_id, on=late)["recordFollowUp"] \
        == call
    fin = api.gql("otto", FINANCING, id=fin_id)["financing"]
    assert [u["kind"] for u in fin["followUps"]] == ["collection_call"]

    # Too early to write off while substandard; at 300 days past due (doubtful) it goes.
    early = api.error("otto", WRITE_OFF, id=fin_id, on=late)
    assert early.code == "CONFLICT" and "substandard" in early.message
    later = (maturity + timedelta(days=300)).isoformat()
    api.gql("otto", EOD, on=later)
    gone = api.gql("olga", WRITE_OFF, id=fin_id, on=later)["writeOffFinancing"]
    assert (gone["status"], gone["outstanding"]) == ("written_off", 0)
    assert (line(api, t2)["used"], line(api, sc)["used"]) == (0, 0)
    balanced(api)


def test_a_declined_application_is_kept_with_its_reasons(api: Api, world: World) -> None:
    # A firm with receivables but no credit line of its own asks for recourse factoring.
    lines = {e["id"] for e in world.rows("enterprises") if e["is_core"] == "true"}
    firm = next(
        e["id"] for e in world.rows("enterprises")
        if e["id"] not in lines and e["status"] in ("", "active")
        and open_receivables(world, e["id"])
    )  # fmt: skip
    invoice = open_receivables(world, firm)[0]["id"]
    app = api.gql("rita", SUBMIT, input={
        "id": "J2-APP", "enterpriseId": firm, "productId": "factoring_recourse",
        "amount": 1_000_000, "currency": "CNY", "collateralIds": [invoice],
    })["submitApplication"]  # fmt: skip
    assert (app["status"], app["financingId"], app["decidedAmount"]) == ("declined", None, 0)
    assert any("has no credit line of its own" in r for r in app["reasons"]), app["reasons"]
    decision = app["decisions"][0]
    assert (decision["verdict"], decision["actor"]) == ("decline", "policy")
    assert decision["inputs"]["enterprise_id"] == firm
    # It is stored: the credit officer reads it back by id.
    stored = api.gql("otto", """query($id: ID!) { application(id: $id) {
      id status maker reasons } }""", id="J2-APP")["application"]
    assert (stored["status"], stored["maker"]) == ("declined", "rita")
    assert stored["reasons"] == app["reasons"]


def test_an_asset_pledged_in_the_loaded_book_cannot_back_a_second_financing(
    api: Api, world: World
) -> None:
    fins = {f["id"]: f for f in world.rows("financings")}
    assets = {a["id"]: a for a in world.rows("assets")}
    pledge = next(
        p for p in world.rows("pledges")
        if p["collateral_kind"] == "asset" and fins[p["financing_id"]]["status"] == "live"
        and assets[p["collateral_id"]]["status"] in ("", "active")
    )  # fmt: skip
    asset = assets[pledge["collateral_id"]]
    held_by = fins[pledge["financing_id"]]
    # The loaded financing reads like any other: one model for the whole book.
    loaded = api.gql("otto", FINANCING, id=held_by["id"])["financing"]
    assert (loaded["origin"], loaded["status"], loaded["lender"]) == (
        "loaded", "active", held_by["lender"])
    assert loaded["amount"] == int(held_by["amount"]) == loaded["outstanding"]
    assert loaded["applicationId"] is None and loaded["productKind"] == held_by["product_kind"]
    ltv = api.gql("otto", """query($id: ID!) { loanToValue(financingId: $id) {
      exposure collateralValue maxLtvBps } }""", id=held_by["id"])["loanToValue"]
    assert ltv["exposure"] == loaded["outstanding"] and ltv["maxLtvBps"] is None
    # ChainLens does not service another lender's loan.
    refused = api.error("otto", DISBURSE, id=held_by["id"], on=TODAY.isoformat())
    assert refused.code == "CONFLICT" and "does not service it" in refused.message

    product = ("warehouse_receipt_pledge" if asset["kind"] == "warehouse_receipt"
               else "movable_asset_pledge")  # fmt: skip
    app = api.gql("rita", SUBMIT, input={
        "id": "J4-APP", "enterpriseId": asset["owner_id"], "productId": product,
        "amount": 1_000_000, "currency": "CNY", "collateralIds": [asset["id"]],
    })["submitApplication"]  # fmt: skip
    assert app["status"] == "declined"
    first = app["reasons"][0]
    assert first.startswith(f"asset {asset['id']} already backs live financing "), first
    assert held_by["id"] in first


FOUR_FLOW = """query($id: ID!) { fourFlowInvoice(id: $id) {
  missing inconsistent checks { flow present consistent detail } } }"""


def test_the_goods_check_passes_genuine_trade_and_catches_the_planted_invoices(
    api: Api, world: World
) -> None:
    shipped = {s["invoice_id"] for s in world.rows("shipments") if s["invoice_id"]}
    planted = {r["invoice_id"] for r in _truth(world, "unmatched_invoices.csv")}
    shells = {r["enterprise_id"] for r in _truth(world, "enterprises.csv")
              if r["is_shell"] == "true"}  # fmt: skip
    genuine = sorted(
        i["id"] for i in world.rows("invoices")
        if i["id"] in shipped and i["id"] not in planted and i["seller_id"] not in shells
    )  # fmt: skip
    sample = genuine[:: max(1, len(genuine) // 300)]
    failing = []
    for invoice in sample:
        ff = api.gql("anna", FOUR_FLOW, id=invoice)["fourFlowInvoice"]
        goods = next(c for c in ff["checks"] if c["flow"].lower() == "goods")
        if not (goods["present"] and goods["consistent"]):
            failing.append((invoice, goods["detail"]))
    assert len(sample) >= 250
    assert len(failing) < 0.01 * len(sample), failing[:5]
    for invoice in sorted(planted)[:40]:
        ff = api.gql("anna", FOUR_FLOW, id=invoice)["fourFlowInvoice"]
        assert "goods" in [m.lower() for m in ff["missing"]], (invoice, ff)


def _truth(world: World, name: str) -> list[dict[str, str]]:
    import csv

    with (world.folder / "truth" / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))
