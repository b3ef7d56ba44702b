"""Journey 6, over HTTP only on the journey world: a core enterprise confirms what it owes a
tier-1 supplier (确权), issues an e-credit voucher of 10,000,000.00 on its supply-chain line,
the supplier splits it three ways, pieces travel up the chain to tier 2 and tier 3, the
tier-3 holder discounts its piece with funder B (a second funder on the platform, made with
the CLI, whose credit officer discounts it in B's book), and at maturity the core pays every
leaf and its line is released; the trial balance of each funder's book (the default funder's
and B's, each read by that funder's own user) is zero after every step, and neither reads
the other's. Each hop shows on the holders' voucher-claim statements (9202). Bad input is
refused with a 4xx code and writes nothing. A second voucher is left unpaid at maturity: the
end-of-day job marks it overdue and alerts its core and holders, and the core's late payment
clears it. Then the registry of
security interests refuses a second pledge of the same receivable, naming the registration
that holds it, until it is discharged.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from tests.journeys.conftest import PASSWORD, Api, World, cli
from tests.journeys.test_credit_journey import TODAY

FACE = 1_000_000_000  # 10,000,000.00 yuan
FUNDER_B = "vj-factor-b"
OFFICER_B = f"credit_officer-{FUNDER_B}"
PAYABLES = """query($core: ID!) { payables(coreId: $core, outcome: "unanswered", first: 200) {
  totalCount edges { node { invoiceId sellerId amount status financingId } } } }"""
CONFIRM = """mutation($inv: ID!, $core: ID!, $outcome: String!, $due: Date, $amount: BigInt,
                    $note: String! = "") {
  confirmReceivable(invoiceId: $inv, coreId: $core, outcome: $outcome, dueOn: $due,
                    amount: $amount, note: $note) {
    invoiceId confirmation confirmedAmount confirmedDueOn
    history { seq outcome amount by } } }"""
RECEIVABLE = """query($inv: ID!) { receivable(invoiceId: $inv) {
  confirmation confirmedAmount history { seq outcome amount dueOn note by } } }"""
LINES = """query($core: ID!) { creditLinesList(coreId: $core, first: 50) {
  edges { node { id kind used available } } } }"""
GRANT = """mutation($input: GrantCreditLineInput!) { grantCreditLine(input: $input) { id } }"""
LINE = """query($id: ID!) { creditLine(id: $id) { used held available } }"""
ISSUE = """mutation($input: IssueVoucherInput!) { issueVoucher(input: $input) {
  id rootId coreId face status holderId holders dueOn } }"""
SPLIT = """mutation($id: ID!, $amounts: [BigInt!]!, $on: Date!, $req: ID!) {
  splitVoucher(id: $id, amounts: $amounts, on: $on, requestId: $req) {
    id parentId face holderId status } }"""
TRANSFER = """mutation($id: ID!, $to: ID!, $on: Date!, $req: ID!) {
  transferVoucher(id: $id, toEnterpriseId: $to, on: $on, requestId: $req) {
    id holderId holders status } }"""
DISCOUNT = """mutation($id: ID!, $on: Date!, $req: ID!) {
  discountVoucher(id: $id, on: $on, requestId: $req) {
    proceeds discount rateBps dayCount voucher { id status holderId } } }"""
DEPOSIT = """mutation($e: ID!, $amount: BigInt!, $req: ID!, $on: Date) {
  depositToSettlement(enterpriseId: $e, amount: $amount, requestId: $req, on: $on) {
    balance } }"""
CLEAR = """mutation($id: ID!, $on: Date!) { clearVoucher(rootId: $id, on: $on) {
  id status holderId face } }"""
TREE = """query($id: ID!) { voucherTree(rootId: $id) { id status holderId holders face } }"""
STATEMENT = """query($id: ID!) { accountStatement(accountId: $id) {
  transferId code ref debit credit } }"""
BALANCE = """query($id: ID!) { accountBalance(accountId: $id) { creditsPosted debitsPosted } }"""
TRIAL = """query($funder: ID) { trialBalance(funderId: $funder) {
  funderId balanced totalDebits totalCredits lines { code balance } } }"""
REGISTER = """mutation($input: RegistrationInput!, $req: ID!) {
  registerSecurityInterest(input: $input, requestId: $req) {
    id kind status collateralId debtorId securedParty registeredBy } }"""
DISCHARGE = """mutation($id: ID!, $on: Date!) { dischargeSecurityInterest(id: $id, on: $on) {
  id status dischargedOn } }"""
SEARCH = """query($debtor: ID, $collateral: ID) {
  securityInterests(debtorId: $debtor, collateralId: $collateral, first: 20) {
    totalCount edges { node { id status securedParty collateralId } } } }"""


def _chain(world: World) -> list[tuple[str, str, str, str]]:
    """(core, tier 1, tier 2, tier 3): tier 1 sells to the core, tier 2 to tier 1, tier 3
    to tier 2, read from the extract's invoices; tier-1 suppliers owed most come first."""
    suppliers: dict[str, set[str]] = defaultdict(set)
    owed: dict[tuple[str, str], int] = defaultdict(int)
    cores = {e["id"] for e in world.rows("enterprises") if e["is_core"] == "true"}
    for i in world.rows("invoices"):
        if i["status"] != "void":
            suppliers[i["buyer_id"]].add(i["seller_id"])
        if i["buyer_id"] in cores and i["status"] in ("", "issued", "partially_paid", "overdue"):
            owed[(i["buyer_id"], i["seller_id"])] += int(i["amount"])
    found = []
    for (core, t1), amount in sorted(owed.items(), key=lambda x: -x[1]):
        if amount < 2 * FACE:
            continue
        for t2 in sorted(suppliers[t1]):
            for t3 in sorted(suppliers[t2]):
                if len({core, t1, t2, t3}) == 4 and t1 not in cores:
                    found.append((core, t1, t2, t3))
    return found


def _sc_line(api: Api, core: str) -> str:
    """The core's supply-chain line: the one a journey before granted, else a new one below
    the four-eyes threshold that the admin grants alone."""
    lines = api.gql("otto", LINES, core=core)["creditLinesList"]["edges"]
    for e in lines:
        if e["node"]["kind"] == "supply_chain":
            return str(e["node"]["id"])
    got = api.gql("ada", GRANT, input={
        "id": f"VJ-SC-{core}", "enterpriseId": core, "kind": "supply_chain",
        "limit": 5 * FACE, "currency": "CNY",
        "expiresOn": (TODAY + timedelta(days=720)).isoformat(),
    })["grantCreditLine"]  # fmt: skip
    return str(got["id"])


def _used(api: Api, line_id: str) -> int:
    return int(api.gql("otto", LINE, id=line_id)["creditLine"]["used"])


def _credit(api: Api, enterprise: str, user: str = "otto", funder: str | None = None) -> int:
    """What the enterprise holds in its settlement account (2011) with the user's funder
    (the default funder's unless named); 0 before it has one."""
    account = f"2011:CNY:{enterprise}" + (f"@{funder}" if funder else "")
    r = api.raw(user, BALANCE, id=account).json()
    if r.get("errors"):
        assert r["errors"][0]["extensions"]["code"] == "NOT_FOUND", r
        return 0
    b = r["data"]["accountBalance"]
    return int(b["creditsPosted"]) - int(b["debitsPosted"])


def hops(api: Api, holder: str, root: str) -> list[tuple[str, str, int]]:
    """The holder's voucher-claim statement (9202, memo) for one voucher tree: (code, ref,
    debit − credit) per posting, in order."""
    lines = api.gql("otto", STATEMENT, id=f"9202:CNY:{holder}")["accountStatement"]
    return [(x["code"], x["ref"], int(x["debit"]) - int(x["credit"])) for x in lines
            if x["ref"] == root or x["ref"].startswith(f"{root}.")]  # fmt: skip


def balanced(api: Api) -> dict[str, dict[str, int]]:
    """Each funder's trial balance, read by its own credit officer, is zero (debits equal
    credits); the balances per chart code of each book."""
    books = {}
    for user, funder in (("otto", "default"), (OFFICER_B, FUNDER_B)):
        tb = api.gql(user, TRIAL)["trialBalance"]
        assert tb["funderId"] == funder, tb
        assert tb["balanced"] and tb["totalDebits"] == tb["totalCredits"], tb
        assert api.gql(user, TRIAL, funder=funder)["trialBalance"] == tb
        books[funder] = {x["code"]: int(x["balance"]) for x in tb["lines"]}
    # Neither funder's user reads the other's book.
    assert api.error("otto", TRIAL, funder=FUNDER_B).code == "FORBIDDEN"
    assert api.error(OFFICER_B, TRIAL, funder="default").code == "FORBIDDEN"
    return books


def _funder_b(cli_env: dict[str, str]) -> None:
    """Funder B and its credit officer, made with the CLI as an operator would."""
    cli(cli_env, "users", "add-funder", FUNDER_B, "--name", "VJ Factoring B", "--kind",
        "factoring")  # fmt: skip
    cli(cli_env, "users", "add", OFFICER_B, "--role", "credit_officer", "--funder", FUNDER_B,
        stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip


def test_confirm_issue_split_transfer_discount_clear(
    api: Api, world: World, cli_env: dict[str, str]
) -> None:
    _funder_b(cli_env)
    chains = _chain(world)
    assert chains, "no core with a three-tier chain and enough owed to tier 1"
    core, t1, t2, t3 = chains[0]
    due = TODAY + timedelta(days=90)

    # The core confirms: the largest open payables to tier 1, the last one partly, so that
    # exactly the face is confirmed; one more is disputed.
    open_ = [n["node"] for n in api.gql("matcher", PAYABLES, core=core)["payables"]["edges"]
             if n["node"]["sellerId"] == t1 and n["node"]["financingId"] is None
             and n["node"]["status"] in ("issued", "partially_paid", "overdue")]  # fmt: skip
    open_.sort(key=lambda n: -int(n["amount"]))
    picked, total = [], 0
    for n in open_:
        if total >= FACE:
            break
        picked.append(n)
        total += int(n["amount"])
    assert total >= FACE, (core, t1, total)
    for n in picked[:-1]:
        got = api.gql("matcher", CONFIRM, inv=n["invoiceId"], core=core, outcome="confirmed",
                      due=due.isoformat())["confirmReceivable"]  # fmt: skip
        assert (got["confirmation"], got["confirmedAmount"]) == ("confirmed", int(n["amount"]))
    last = picked[-1]
    rest = FACE - sum(int(n["amount"]) for n in picked[:-1])
    outcome = "partly_confirmed" if rest < int(last["amount"]) else "confirmed"
    part = rest if outcome == "partly_confirmed" else None
    got = api.gql("matcher", CONFIRM, inv=last["invoiceId"], core=core, outcome=outcome,
                  due=due.isoformat(), amount=part)["confirmReceivable"]  # fmt: skip
    assert got["confirmedAmount"] == rest and got["history"][-1]["by"] == "matcher"
    # The same answer again records nothing new.
    again = api.gql("matcher", CONFIRM, inv=last["invoiceId"], core=core, outcome=outcome,
                    due=due.isoformat(), amount=part)["confirmReceivable"]  # fmt: skip
    assert len(again["history"]) == len(got["history"])
    disputed = open_[len(picked)] if len(open_) > len(picked) else None
    if disputed is not None:
        d = api.gql("matcher", CONFIRM, inv=disputed["invoiceId"], core=core,
                    outcome="disputed", note="goods returned")["confirmReceivable"]  # fmt: skip
        assert (d["confirmation"], d["confirmedAmount"]) == ("disputed", 0)

    # Bad answers: another buyer's invoice, a dispute without a reason, a partial of all.
    other = next(i for i in world.rows("invoices") if i["buyer_id"] not in (core, ""))
    assert api.error("matcher", CONFIRM, inv=other["id"], core=core, outcome="confirmed",
                     due=due.isoformat()).code == "UNPROCESSABLE"  # fmt: skip
    assert api.error("matcher", CONFIRM, inv=picked[0]["invoiceId"], core=core,
                     outcome="disputed").code == "BAD_REQUEST"  # fmt: skip
    assert api.error("matcher", CONFIRM, inv=picked[0]["invoiceId"], core=core,
                     outcome="maybe", due=due.isoformat()).code == "BAD_REQUEST"  # fmt: skip
    assert api.error("anna", CONFIRM, inv=picked[0]["invoiceId"], core=core,
                     outcome="confirmed", due=due.isoformat()).code == "FORBIDDEN"  # fmt: skip
    balanced(api)

    # Issue on the core's line.
    line_id = _sc_line(api, core)
    used0 = _used(api, line_id)
    root = f"VJ-{core}"
    terms = {"id": root, "coreId": core, "holderId": t1, "face": FACE,
             "invoiceIds": [n["invoiceId"] for n in picked], "issuedOn": TODAY.isoformat(),
             "dueOn": due.isoformat()}  # fmt: skip
    if disputed is not None:  # a disputed payable backs nothing
        bad = api.error("matcher", ISSUE, input={**terms, "id": f"{root}-X",
                                                 "invoiceIds": [disputed["invoiceId"]]})
        assert bad.code == "UNPROCESSABLE" and "not confirmed" in bad.message
    over = api.error("matcher", ISSUE, input={**terms, "id": f"{root}-Y", "face": FACE + 1})
    assert over.code == "UNPROCESSABLE" and "exceeds the confirmed payables" in over.message
    v = api.gql("matcher", ISSUE, input=terms)["issueVoucher"]
    assert (v["status"], v["holderId"], v["face"]) == ("live", t1, FACE)
    assert api.gql("matcher", ISSUE, input=terms)["issueVoucher"]["id"] == root  # retry
    assert api.error("matcher", ISSUE, input={**terms, "face": FACE - 1}).code == "CONFLICT"
    assert _used(api, line_id) == used0 + FACE
    balanced(api)

    # Tier 1 splits three ways; bad splits write nothing.
    on = TODAY + timedelta(days=1)
    parts = [FACE // 2, FACE // 4, FACE - FACE // 2 - FACE // 4]
    short = api.error("matcher", SPLIT, id=root, amounts=[FACE // 2, FACE // 4],
                      on=on.isoformat(), req=f"{root}-split-bad")  # fmt: skip
    assert short.code == "BAD_REQUEST" and "sum" in short.message
    assert len(api.gql("anna", TREE, id=root)["voucherTree"]) == 1
    pieces = api.gql("matcher", SPLIT, id=root, amounts=parts, on=on.isoformat(),
                     req=f"{root}-split")["splitVoucher"]  # fmt: skip
    assert [p["id"] for p in pieces] == [f"{root}.1", f"{root}.2", f"{root}.3"]
    assert {p["holderId"] for p in pieces} == {t1}
    repeat = api.gql("matcher", SPLIT, id=root, amounts=parts, on=on.isoformat(),
                     req=f"{root}-split")["splitVoucher"]  # fmt: skip
    assert [p["id"] for p in repeat] == [p["id"] for p in pieces]
    assert api.error("matcher", SPLIT, id=root, amounts=[FACE // 2, FACE - FACE // 2],
                     on=on.isoformat(), req=f"{root}-split").code == "CONFLICT"  # fmt: skip
    assert _used(api, line_id) == used0 + FACE
    balanced(api)

    # Up the chain: .1 to tier 2; .2 to tier 2 and on to tier 3; .3 stays with tier 1.
    on = TODAY + timedelta(days=2)
    unknown = api.error("matcher", TRANSFER, id=f"{root}.1", to="E-NOBODY", on=on.isoformat(),
                        req=f"{root}-t-bad")  # fmt: skip
    assert unknown.code in ("NOT_FOUND", "UNPROCESSABLE")
    skip = api.error("matcher", TRANSFER, id=f"{root}.2", to=t3, on=on.isoformat(),
                     req=f"{root}-t-skip")  # fmt: skip
    assert skip.code == "UNPROCESSABLE" and "tier by tier" in skip.message
    a = api.gql("matcher", TRANSFER, id=f"{root}.1", to=t2, on=on.isoformat(),
                req=f"{root}-t1")["transferVoucher"]  # fmt: skip
    assert (a["holderId"], a["holders"]) == (t2, [t1, t2])
    api.gql("matcher", TRANSFER, id=f"{root}.2", to=t2, on=on.isoformat(), req=f"{root}-t2")
    nxt = (on + timedelta(days=1)).isoformat()
    b = api.gql("matcher", TRANSFER, id=f"{root}.2", to=t3, on=nxt,
                req=f"{root}-t3")["transferVoucher"]  # fmt: skip
    assert (b["holderId"], b["holders"]) == (t3, [t1, t2, t3])
    again = api.gql("matcher", TRANSFER, id=f"{root}.2", to=t3, on=nxt, req=f"{root}-t3")
    assert again["transferVoucher"]["holders"] == [t1, t2, t3]
    # Each hop is a posting of the holders' voucher claims (memo 9202, one per holder): the
    # leaf's holder's statement shows the piece arriving, its previous holders' show it
    # passing through; the retried transfer posted nothing more.
    leaf = f"{root}.2"
    assert hops(api, t3, root) == [("voucher_transfer", leaf, parts[1])]
    assert hops(api, t2, root) == [("voucher_transfer", f"{root}.1", parts[0]),
                                   ("voucher_transfer", leaf, parts[1]),
                                   ("voucher_transfer", leaf, -parts[1])]  # fmt: skip
    assert hops(api, t1, root) == [
        ("voucher_issue", root, FACE), ("voucher_split", root, -FACE),
        *(("voucher_split", f"{root}.{i}", p) for i, p in enumerate(parts, start=1)),
        ("voucher_transfer", f"{root}.1", -parts[0]), ("voucher_transfer", leaf, -parts[1]),
    ]  # fmt: skip
    balanced(api)

    # Tier 3 discounts its piece with funder B; after maturity nobody discounts.
    late = api.error(OFFICER_B, DISCOUNT, id=f"{root}.2", on=due.isoformat(),
                     req=f"{root}-d-late")  # fmt: skip
    assert late.code == "CONFLICT" and "due" in late.message
    assert api.error("matcher", DISCOUNT, id=f"{root}.2", on=TODAY.isoformat(),
                     req=f"{root}-d").code == "FORBIDDEN"  # fmt: skip
    before, before_default = _credit(api, t3, OFFICER_B, FUNDER_B), _credit(api, t3)
    d = api.gql(OFFICER_B, DISCOUNT, id=f"{root}.2",
                on=(TODAY + timedelta(days=10)).isoformat(),
                req=f"{root}-d")["discountVoucher"]  # fmt: skip
    assert d["voucher"]["status"] == "financed" and d["dayCount"] == "ACT/360"
    assert d["proceeds"] + d["discount"] == parts[1] and 0 < d["discount"] < parts[1] // 50
    # Paid into tier 3's account with funder B, which the default funder cannot read.
    assert _credit(api, t3, OFFICER_B, FUNDER_B) == before + d["proceeds"]
    assert _credit(api, t3) == before_default
    hidden = api.error("otto", BALANCE, id=f"2011:CNY:{t3}@{FUNDER_B}")
    assert hidden.code == "NOT_FOUND"
    # Nor funder B the default funder's (the core's line's limit account).
    assert api.error(OFFICER_B, BALANCE, id=f"9101:CNY:{line_id}").code == "NOT_FOUND"
    book_b = balanced(api)[FUNDER_B]
    assert book_b["1303"] == parts[1] and book_b["2502"] == -d["discount"]

    # Maturity: the core pays; every leaf holder (or the funder) is paid; the line released.
    early = api.error("matcher", CLEAR, id=root, on=(due - timedelta(days=1)).isoformat())
    assert early.code == "CONFLICT"
    t1_before, t2_before = _credit(api, t1), _credit(api, t2)
    api.gql("otto", DEPOSIT, e=core, amount=FACE, req=f"{root}-pay", on=due.isoformat())
    cleared = api.gql("matcher", CLEAR, id=root, on=due.isoformat())["clearVoucher"]
    status = {x["id"]: x["status"] for x in cleared}
    assert status == {root: "split", f"{root}.1": "cleared", f"{root}.2": "cleared",
                      f"{root}.3": "cleared"}  # fmt: skip
    assert _credit(api, t1) == t1_before + parts[2]
    assert _credit(api, t2) == t2_before + parts[0]
    # Funder B collected the face (through both funders' cash accounts); tier 3 is not
    # paid twice.
    assert _credit(api, t3, OFFICER_B, FUNDER_B) == before + d["proceeds"]
    assert _credit(api, t3) == before_default
    assert _used(api, line_id) == used0
    assert api.gql("matcher", CLEAR, id=root, on=due.isoformat())["clearVoucher"] == cleared
    # Clearing ends every claim: no holder holds anything of this voucher any more.
    for holder in (t1, t2, t3):
        assert sum(x[2] for x in hops(api, holder, root)) == 0
    assert hops(api, t3, root)[-1] == ("voucher_clear", leaf, -parts[1])
    books = balanced(api)
    # Funder B's book after maturity: the receivable and the deferred discount are closed,
    # the face is in its cash, the discount is its income.
    b = books[FUNDER_B]
    assert (b["1303"], b["2502"], b["6012"]) == (0, 0, -d["discount"])
    assert b["1001"] == parts[1] and b["2011"] == -(before + d["proceeds"])


def test_a_second_pledge_of_a_receivable_is_refused_until_discharged(
    api: Api, world: World
) -> None:
    pledged = {p["collateral_id"] for p in world.rows("pledges")}
    inv = next(i for i in world.rows("invoices")
               if i["status"] == "issued" and i["id"] not in pledged)  # fmt: skip
    until = (TODAY + timedelta(days=365)).isoformat()
    terms: dict[str, Any] = {"kind": "pledge", "collateralId": inv["id"],
                             "securedParty": "Funder A", "registeredOn": TODAY.isoformat(),
                             "expiresOn": until, "description": "receivable pledge"}  # fmt: skip
    first = api.gql("otto", REGISTER, input=terms, req="VJ-REG-1")["registerSecurityInterest"]
    assert (first["status"], first["debtorId"], first["registeredBy"]) == (
        "live", inv["seller_id"], "otto")
    assert api.gql("otto", REGISTER, input=terms,
                   req="VJ-REG-1")["registerSecurityInterest"]["id"] == first["id"]  # fmt: skip
    second = api.error("olga", REGISTER, input={**terms, "securedParty": "Funder B"},
                       req="VJ-REG-2")  # fmt: skip
    assert second.code == "CONFLICT"
    assert first["id"] in second.message and "Funder A" in second.message
    assert api.error("olga", REGISTER, input={**terms, "kind": "mortgage"},
                     req="VJ-REG-3").code == "BAD_REQUEST"  # fmt: skip
    assert api.error("rita", REGISTER, input=terms, req="VJ-REG-4").code == "FORBIDDEN"
    found = api.gql("anna", SEARCH, collateral=inv["id"])["securityInterests"]
    assert [e["node"]["id"] for e in found["edges"]] == [first["id"]]

    later = (TODAY + timedelta(days=5)).isoformat()
    gone = api.gql("otto", DISCHARGE, id=first["id"], on=later)["dischargeSecurityInterest"]
    assert gone["status"] == "discharged"
    b = api.gql("olga", REGISTER, input={**terms, "securedParty": "Funder B"},
                req="VJ-REG-2")["registerSecurityInterest"]  # fmt: skip
    assert (b["status"], b["securedParty"]) == ("live", "Funder B")
    by_debtor = api.gql("anna", SEARCH, debtor=inv["seller_id"])["securityInterests"]
    assert {e["node"]["id"] for e in by_debtor["edges"]} >= {first["id"], b["id"]}


EOD = """mutation($on: Date!) { runEndOfDay(asOf: $on) { overdueVouchers voucherAlerts } }"""
ALERTS = """query($e: ID!) { alertList(enterpriseId: $e, kind: "voucher_overdue", first: 20) {
  edges { node { id kind severity status message enterpriseIds clearedAt } } } }"""


def test_a_voucher_unpaid_at_maturity_is_overdue_until_paid(api: Api, world: World) -> None:
    """Overdue at maturity, over HTTP: the core does not pay at maturity, the end-of-day job
    marks the voucher's open pieces overdue and raises one alert about the core and the
    holders; clearing stays refused while the core cannot pay, and a later payment clears
    every piece with its postings (holders paid, line released, books balanced)."""
    from tests.journeys.test_voucher_concurrency import _pair

    face = 30_000_000  # 300,000.00 yuan
    taken = {_chain(world)[0][1], _pair(world, taken=_chain(world)[0][1])[1]}
    cores = {e["id"] for e in world.rows("enterprises") if e["is_core"] == "true"}
    suppliers: dict[str, set[str]] = defaultdict(set)
    for i in world.rows("invoices"):
        if i["status"] != "void":
            suppliers[i["buyer_id"]].add(i["seller_id"])
    found = None
    for i in sorted(world.rows("invoices"), key=lambda i: -int(i["amount"])):
        core, t1 = i["buyer_id"], i["seller_id"]
        if (core in cores and t1 not in cores | taken and int(i["amount"]) > face
                and i["status"] == "issued" and suppliers[t1] - cores - {core}):
            open_ = {n["node"]["invoiceId"] for n in api.gql(
                "matcher", PAYABLES, core=core)["payables"]["edges"]
                if n["node"]["financingId"] is None}  # fmt: skip
            if i["id"] in open_:
                found = (core, t1, min(suppliers[t1] - cores - {core}), i["id"])
                break
    assert found, "no unconfirmed payable of a core to another tier-1 supplier"
    core, t1, t2, invoice = found
    due = TODAY + timedelta(days=20)
    api.gql("matcher", CONFIRM, inv=invoice, core=core, outcome="partly_confirmed",
            due=due.isoformat(), amount=face)  # fmt: skip
    line_id = _sc_line(api, core)
    used0 = _used(api, line_id)
    root = f"VO-{core}-{t1}"
    api.gql("matcher", ISSUE, input={
        "id": root, "coreId": core, "holderId": t1, "face": face, "invoiceIds": [invoice],
        "issuedOn": TODAY.isoformat(), "dueOn": due.isoformat(),
    })  # fmt: skip
    on = (TODAY + timedelta(days=1)).isoformat()
    parts = [face // 3, face - face // 3]
    api.gql("matcher", SPLIT, id=root, amounts=parts, on=on, req=f"{root}-split")
    api.gql("matcher", TRANSFER, id=f"{root}.1", to=t2, on=on, req=f"{root}-t")

    # The day before maturity nothing is overdue; at maturity's end, unpaid, both pieces are.
    before = api.gql("otto", EOD, on=(due - timedelta(days=1)).isoformat())["runEndOfDay"]
    assert before == {"overdueVouchers": 0, "voucherAlerts": 0}
    run = api.gql("otto", EOD, on=due.isoformat())["runEndOfDay"]
    assert run == {"overdueVouchers": 2, "voucherAlerts": 1}
    again = api.gql("otto", EOD, on=(due + timedelta(days=1)).isoformat())["runEndOfDay"]
    assert again == {"overdueVouchers": 0, "voucherAlerts": 0}
    tree = {x["id"]: x["status"] for x in api.gql("anna", TREE, id=root)["voucherTree"]}
    assert tree == {root: "split", f"{root}.1": "overdue", f"{root}.2": "overdue"}
    for who in (core, t1, t2):  # one alert, about the core and every holder
        (alert,) = [e["node"] for e in api.gql("otto", ALERTS, e=who)["alertList"]["edges"]
                    if root in e["node"]["message"]]  # fmt: skip
        assert (alert["severity"], alert["status"], alert["clearedAt"]) == ("high", "open", None)
        assert set(alert["enterpriseIds"]) == {core, t1, t2}
    # Overdue pieces are not passed on; the core still cannot pay: refused, nothing written.
    moved = api.error("matcher", TRANSFER, id=f"{root}.2", to=t2, on=due.isoformat(),
                      req=f"{root}-late")  # fmt: skip
    assert moved.code == "CONFLICT"
    later = (due + timedelta(days=4)).isoformat()
    t1_before, t2_before = _credit(api, t1), _credit(api, t2)
    core_funds = _credit(api, core)
    if core_funds < face:
        broke = api.error("matcher", CLEAR, id=root, on=later)
        assert broke.code == "UNPROCESSABLE" and "too little" in broke.message
        assert {x["status"] for x in api.gql("anna", TREE, id=root)["voucherTree"]} == {
            "split", "overdue"}
    # Paid late: the core's deposit arrives and the voucher clears with its postings.
    api.gql("otto", DEPOSIT, e=core, amount=face, req=f"{root}-pay", on=later)
    cleared = api.gql("matcher", CLEAR, id=root, on=later)["clearVoucher"]
    assert {x["id"]: x["status"] for x in cleared} == {
        root: "split", f"{root}.1": "cleared", f"{root}.2": "cleared"}
    assert _credit(api, t1) == t1_before + parts[1]
    assert _credit(api, t2) == t2_before + parts[0]
    assert _used(api, line_id) == used0
    for holder in (t1, t2):
        assert sum(x[2] for x in hops(api, holder, root)) == 0
    (alert,) = [e["node"] for e in api.gql("otto", ALERTS, e=core)["alertList"]["edges"]
                if root in e["node"]["message"]]  # fmt: skip
    assert alert["clearedAt"] is not None
    balanced(api)
