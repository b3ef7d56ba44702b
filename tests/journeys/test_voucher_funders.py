"""Journey over HTTP on the journey world: a voucher issued on another funder's line.

A core's supply-chain line may be granted by any funder on the platform. Funder B (made with
the CLI, with its own admin and credit officer) grants a core a line; B's credit officer
issues a voucher on it (the default funder's staff may not, nor may B's officer issue on the
default funder's line); the tier-1 holder's own user splits it and the holders' users pass
pieces to tier 2 and tier 3 (the default funder's staff may not touch B's voucher, nor a firm
a piece it does not hold); the tier-3 holder discounts its piece with the default funder
(funder A); at maturity the core's own user clears the tree, paid from the core's account
with B: the holders are paid into their accounts with B, and A collects its piece through
both funders' cash accounts; B's line is released. Each funder's
trial balance is zero after every step, read by its own user, and neither reads the other's
book or accounts.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from tests.journeys.conftest import PASSWORD, Api, World, cli
from tests.journeys.test_credit_journey import TODAY
from tests.journeys.test_voucher_concurrency import _pair
from tests.journeys.test_voucher_journey import (
    BALANCE,
    CLEAR,
    CONFIRM,
    DEPOSIT,
    DISCOUNT,
    ISSUE,
    LINE,
    PAYABLES,
    SPLIT,
    STATEMENT,
    TRANSFER,
    TRIAL,
    _chain,
)

FUNDER_B = "vf-bank-b"
ADMIN_B = f"admin-{FUNDER_B}"
PROPOSE_LINE = """mutation($id: ID!, $input: GrantCreditLineInput!) {
  proposeCreditLine(id: $id, input: $input) { id status } }"""
DECIDE_LINE = """mutation($id: ID!) { decideCreditLineProposal(id: $id, approve: true,
  note: "core reviewed") { status line { id } } }"""
OFFICER_B = f"credit_officer-{FUNDER_B}"
FACE = 200_000_000  # 2,000,000.00 yuan
ISSUE_B = ISSUE.replace("dueOn }", "dueOn lineFunderId }")


def _chain_b(world: World, taken: set[str]) -> tuple[str, str, str, str]:
    """(core, tier 1, tier 2, tier 3) as `_chain` reads them, with a tier 1 that the other
    voucher journeys leave alone and that the core owes at least twice the face."""
    suppliers: dict[str, set[str]] = defaultdict(set)
    owed: dict[tuple[str, str], int] = defaultdict(int)
    cores = {e["id"] for e in world.rows("enterprises") if e["is_core"] == "true"}
    for i in world.rows("invoices"):
        if i["status"] != "void":
            suppliers[i["buyer_id"]].add(i["seller_id"])
        if i["buyer_id"] in cores and i["status"] in ("", "issued", "partially_paid", "overdue"):
            owed[(i["buyer_id"], i["seller_id"])] += int(i["amount"])
    for (core, t1), amount in sorted(owed.items(), key=lambda x: (-x[1], x[0])):
        if amount < 2 * FACE or t1 in taken or t1 in cores:
            continue
        for t2 in sorted(suppliers[t1]):
            for t3 in sorted(suppliers[t2]):
                if len({core, t1, t2, t3}) == 4:
                    return core, t1, t2, t3
    raise AssertionError("no core with a three-tier chain and enough owed to a free tier 1")


def _books(api: Api) -> dict[str, dict[str, int]]:
    """Each funder's trial balance, read by its own user, is zero; neither reads the other's.
    Returns the balances per chart code of each book."""
    books = {}
    for user, funder in (("otto", "default"), (OFFICER_B, FUNDER_B)):
        tb = api.gql(user, TRIAL)["trialBalance"]
        assert tb["funderId"] == funder, tb
        assert tb["balanced"] and tb["totalDebits"] == tb["totalCredits"], tb
        books[funder] = {x["code"]: int(x["balance"]) for x in tb["lines"]}
    assert api.error("otto", TRIAL, funder=FUNDER_B).code == "FORBIDDEN"
    assert api.error(OFFICER_B, TRIAL, funder="default").code == "FORBIDDEN"
    return books


def _balance(api: Api, user: str, account: str) -> int:
    """Debits less credits posted on an account the user's funder keeps (0 before it exists)."""
    r = api.raw(user, BALANCE, id=account).json()
    if r.get("errors"):
        assert r["errors"][0]["extensions"]["code"] == "NOT_FOUND", r
        return 0
    b = r["data"]["accountBalance"]
    return int(b["debitsPosted"]) - int(b["creditsPosted"])


def _hops(api: Api, holder: str, root: str) -> list[tuple[str, str, int]]:
    """The holder's voucher claims (9202) in funder B's book for one tree, read by B."""
    lines = api.gql(OFFICER_B, STATEMENT,
                    id=f"9202:CNY:{holder}@{FUNDER_B}")["accountStatement"]  # fmt: skip
    return [(x["code"], x["ref"], int(x["debit"]) - int(x["credit"])) for x in lines
            if x["ref"] == root or x["ref"].startswith(f"{root}.")]  # fmt: skip


def test_a_voucher_on_funder_b_line_discounted_by_funder_a(
    api: Api, world: World, cli_env: dict[str, str]
) -> None:
    cli(cli_env, "users", "add-funder", FUNDER_B, "--name", "VF Bank B", "--kind", "bank")
    for user, role in ((ADMIN_B, "admin"), (OFFICER_B, "credit_officer")):
        cli(cli_env, "users", "add", user, "--role", role, "--funder", FUNDER_B,
            stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    chains = _chain(world)
    taken = {chains[0][1], _pair(world, taken=chains[0][1])[1]}  # the other journeys' tier 1
    core, t1, t2, t3 = _chain_b(world, taken)
    due = TODAY + timedelta(days=60)

    # The core confirms open payables to tier 1 worth exactly the face.
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
        api.gql("matcher", CONFIRM, inv=n["invoiceId"], core=core, outcome="confirmed",
                due=due.isoformat())  # fmt: skip
    rest = FACE - sum(int(n["amount"]) for n in picked[:-1])
    partly = rest < int(picked[-1]["amount"])
    api.gql("matcher", CONFIRM, inv=picked[-1]["invoiceId"], core=core,
            outcome="partly_confirmed" if partly else "confirmed", due=due.isoformat(),
            amount=rest if partly else None)  # fmt: skip

    # Funder B grants the core a supply-chain line, by two people (the admission rules may
    # refer the core: earlier journeys leave alerts about it); the default funder's staff
    # cannot see it.
    terms = {"id": f"VF-SC-{core}", "enterpriseId": core, "kind": "supply_chain",
             "limit": 3 * FACE, "currency": "CNY",
             "expiresOn": (TODAY + timedelta(days=720)).isoformat()}  # fmt: skip
    api.gql(OFFICER_B, PROPOSE_LINE, id=f"P-VF-SC-{core}", input=terms)
    line_b = api.gql(ADMIN_B, DECIDE_LINE, id=f"P-VF-SC-{core}")[
        "decideCreditLineProposal"]["line"]["id"]  # fmt: skip
    assert api.error("otto", LINE, id=line_b).code == "NOT_FOUND"

    def used() -> int:
        return int(api.gql(OFFICER_B, LINE, id=line_b)["creditLine"]["used"])

    assert used() == 0
    root = f"VF-{core}"
    terms = {"id": root, "coreId": core, "holderId": t1, "face": FACE,
             "invoiceIds": [n["invoiceId"] for n in picked], "issuedOn": TODAY.isoformat(),
             "dueOn": due.isoformat()}  # fmt: skip
    # Nobody issues on another funder's line: not the default funder's staff on B's, not
    # B's officer on the default funder's.
    no = api.error("otto", ISSUE_B, input={**terms, "funderId": FUNDER_B})
    assert no.code == "FORBIDDEN" and "own funder" in no.message
    assert api.error(OFFICER_B, ISSUE_B, input={**terms, "funderId": "default"}).code == (
        "FORBIDDEN")
    assert used() == 0
    # B's officer issues on B's line (its own funder's, by default).
    v = api.gql(OFFICER_B, ISSUE_B, input=terms)["issueVoucher"]
    assert (v["status"], v["holderId"], v["face"], v["lineFunderId"]) == (
        "live", t1, FACE, FUNDER_B)
    assert used() == FACE
    again = api.gql(OFFICER_B, ISSUE_B, input={**terms, "funderId": FUNDER_B})["issueVoucher"]
    assert again == v
    # The same id on the default funder's line is another voucher's terms (an unbound admin
    # may name any funder).
    assert api.error("ada", ISSUE_B, input={**terms, "funderId": "default"}).code == "CONFLICT"
    assert used() == FACE
    b0 = _books(api)[FUNDER_B]
    assert abs(b0["2202"]) == FACE and abs(b0["9103"]) == FACE

    # Tier 1's own user splits three ways; the holders' users pass pieces to tier 2 and on
    # to tier 3. The voucher is in B's book: the default funder's staff may not touch it,
    # nor may a firm touch a piece it does not hold.
    for firm in (core, t1, t2, t3):
        cli(cli_env, "users", "add", f"user-{firm}", "--role", "service", "--enterprise", firm,
            stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    on = TODAY + timedelta(days=1)
    parts = [FACE // 2, FACE // 4, FACE - FACE // 2 - FACE // 4]
    split = {"id": root, "amounts": parts, "on": on.isoformat(), "req": f"{root}-split"}
    for user in ("matcher", "otto"):
        assert api.error(user, SPLIT, **split).code == "NOT_FOUND"
    no = api.error(f"user-{t2}", SPLIT, **split)
    assert no.code == "FORBIDDEN" and f"not held by {t2}" in no.message, no
    pieces = api.gql(f"user-{t1}", SPLIT, **split)["splitVoucher"]
    assert [p["id"] for p in pieces] == [f"{root}.1", f"{root}.2", f"{root}.3"]
    assert api.gql(f"user-{t1}", SPLIT, **split)["splitVoucher"] == pieces  # a retry
    assert api.error("matcher", TRANSFER, id=f"{root}.1", to=t2, on=on.isoformat(),
                     req=f"{root}-t1").code == "NOT_FOUND"  # fmt: skip
    api.gql(f"user-{t1}", TRANSFER, id=f"{root}.1", to=t2, on=on.isoformat(), req=f"{root}-t1")
    api.gql(OFFICER_B, TRANSFER, id=f"{root}.2", to=t2, on=on.isoformat(), req=f"{root}-t2")
    nxt = (on + timedelta(days=1)).isoformat()
    assert api.error(f"user-{t1}", TRANSFER, id=f"{root}.2", to=t3, on=nxt,
                     req=f"{root}-t3").code == "FORBIDDEN"  # t2 holds it now  # fmt: skip
    b = api.gql(f"user-{t2}", TRANSFER, id=f"{root}.2", to=t3, on=nxt,
                req=f"{root}-t3")["transferVoucher"]  # fmt: skip
    assert (b["holderId"], b["holders"]) == (t3, [t1, t2, t3])
    # Every hop is in B's book: the holders' voucher claims there, which A cannot read.
    leaf = f"{root}.2"
    assert _hops(api, t3, root) == [("voucher_transfer", leaf, parts[1])]
    assert _hops(api, t1, root)[:2] == [("voucher_issue", root, FACE),
                                        ("voucher_split", root, -FACE)]  # fmt: skip
    assert api.error("otto", STATEMENT, id=f"9202:CNY:{t1}@{FUNDER_B}").code == "NOT_FOUND"
    _books(api)

    # Tier 3 discounts its piece with funder A (the default funder), in A's book.
    t3_at_a = _balance(api, "otto", f"2011:CNY:{t3}")
    d = api.gql("otto", DISCOUNT, id=leaf, on=(TODAY + timedelta(days=10)).isoformat(),
                req=f"{root}-d")["discountVoucher"]  # fmt: skip
    assert d["voucher"]["status"] == "financed"
    assert d["proceeds"] + d["discount"] == parts[1] and d["discount"] > 0
    assert _balance(api, "otto", f"2011:CNY:{t3}") == t3_at_a - d["proceeds"]
    assert _balance(api, "otto", f"1303:CNY:{leaf}") == parts[1]
    assert api.error(OFFICER_B, BALANCE, id=f"1303:CNY:{leaf}").code == "NOT_FOUND"
    cash_a = _books(api)["default"].get("1001", 0)

    # Maturity: the core pays from its account with B; B's line is released.
    t1_at_b = _balance(api, OFFICER_B, f"2011:CNY:{t1}@{FUNDER_B}")
    t2_at_b = _balance(api, OFFICER_B, f"2011:CNY:{t2}@{FUNDER_B}")
    api.gql(OFFICER_B, DEPOSIT, e=core, amount=FACE, req=f"{root}-pay", on=due.isoformat())
    for user in ("matcher", "otto"):  # not the default funder's staff
        assert api.error(user, CLEAR, id=root, on=due.isoformat()).code == "NOT_FOUND"
    assert api.error(f"user-{t1}", CLEAR, id=root, on=due.isoformat()).code == "FORBIDDEN"
    cleared = api.gql(f"user-{core}", CLEAR, id=root, on=due.isoformat())["clearVoucher"]
    assert {x["id"]: x["status"] for x in cleared} == {
        root: "split", f"{root}.1": "cleared", leaf: "cleared", f"{root}.3": "cleared"}
    assert _balance(api, OFFICER_B, f"2011:CNY:{t1}@{FUNDER_B}") == t1_at_b - parts[2]
    assert _balance(api, OFFICER_B, f"2011:CNY:{t2}@{FUNDER_B}") == t2_at_b - parts[0]
    assert _balance(api, OFFICER_B, f"2011:CNY:{core}@{FUNDER_B}") == 0
    # Tier 3 is not paid twice; A collected the face of its piece.
    assert _balance(api, "otto", f"2011:CNY:{t3}") == t3_at_a - d["proceeds"]
    assert _balance(api, "otto", f"1303:CNY:{leaf}") == 0
    assert used() == 0
    assert api.gql(OFFICER_B, CLEAR, id=root, on=due.isoformat())["clearVoucher"] == cleared
    for holder in (t1, t2, t3):
        assert sum(x[2] for x in _hops(api, holder, root)) == 0
    books = _books(api)
    assert books["default"].get("1001", 0) == cash_a + parts[1]
    bb = books[FUNDER_B]
    # B's book: the face less A's piece stays in its cash, owed to the holders it paid;
    # the voucher memos and the line's use are closed.
    assert bb["1001"] == FACE - parts[1] and bb["2011"] == -(FACE - parts[1])
    assert (bb.get("2202", 0), bb.get("9201", 0), bb.get("9202", 0), bb.get("9203", 0),
            bb.get("9103", 0)) == (0, 0, 0, 0, 0)  # fmt: skip
