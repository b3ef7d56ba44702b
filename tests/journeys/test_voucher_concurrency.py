"""Issue #19's concurrency must-show, over HTTP on the journey world: 100 simultaneous
transfers of the same voucher (each its own request id) — exactly one succeeds, the others
are refused with a 4xx code, and the lineage, the holders and the ledger agree afterwards."""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from tests.journeys.conftest import Api, World
from tests.journeys.test_credit_journey import TODAY, balanced
from tests.journeys.test_voucher_journey import (
    CONFIRM,
    ISSUE,
    PAYABLES,
    TRANSFER,
    TREE,
    _chain,
    _sc_line,
    _used,
    hops,
)

FACE = 50_000_000  # 500,000.00 yuan
CLIENTS = 100


def _pair(world: World, taken: str) -> tuple[str, str, str]:
    """(core, tier 1, tier 2): a tier-1 supplier other than ``taken`` (the voucher journey's)
    that the core owes more than the face on one open invoice, and a supplier of it."""
    cores = {e["id"] for e in world.rows("enterprises") if e["is_core"] == "true"}
    suppliers: dict[str, set[str]] = defaultdict(set)
    for i in world.rows("invoices"):
        if i["status"] != "void":
            suppliers[i["buyer_id"]].add(i["seller_id"])
    for i in sorted(world.rows("invoices"), key=lambda i: -int(i["amount"])):
        core, t1 = i["buyer_id"], i["seller_id"]
        if (core in cores and t1 not in cores and t1 != taken and int(i["amount"]) > FACE
                and i["status"] in ("issued", "partially_paid", "overdue")):
            for t2 in sorted(suppliers[t1] - cores - {core}):
                return core, t1, t2
    raise AssertionError("no core owes a second tier-1 supplier enough on one invoice")


def test_one_of_a_hundred_simultaneous_transfers_wins(api: Api, world: World) -> None:
    core, t1, t2 = _pair(world, taken=_chain(world)[0][1])
    due = TODAY + timedelta(days=60)
    open_ = [n["node"] for n in api.gql("matcher", PAYABLES, core=core)["payables"]["edges"]
             if n["node"]["sellerId"] == t1 and n["node"]["financingId"] is None
             and n["node"]["status"] in ("issued", "partially_paid", "overdue")
             and int(n["node"]["amount"]) > FACE]  # fmt: skip
    assert open_, (core, t1)
    invoice = open_[0]["invoiceId"]
    api.gql("matcher", CONFIRM, inv=invoice, core=core, outcome="partly_confirmed",
            due=due.isoformat(), amount=FACE)  # fmt: skip
    line_id = _sc_line(api, core)
    used0 = _used(api, line_id)
    root = f"VC-{core}-{t1}"
    v = api.gql("matcher", ISSUE, input={
        "id": root, "coreId": core, "holderId": t1, "face": FACE, "invoiceIds": [invoice],
        "issuedOn": TODAY.isoformat(), "dueOn": due.isoformat(),
    })["issueVoucher"]  # fmt: skip
    assert (v["status"], v["holderId"]) == ("live", t1)
    assert _used(api, line_id) == used0 + FACE

    on = (TODAY + timedelta(days=1)).isoformat()
    api.token("matcher")  # one token for every thread

    def transfer(k: int) -> tuple[int, dict[str, object]]:
        r = api.raw("matcher", TRANSFER, id=root, to=t2, on=on, req=f"{root}-race-{k}")
        return r.status_code, r.json()

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        answers = list(pool.map(transfer, range(CLIENTS)))
    won = [body for _, body in answers if not body.get("errors")]
    lost = [(status, body) for status, body in answers if body.get("errors")]
    assert len(won) == 1, [b.get("errors") for _, b in lost][:3]
    assert won[0]["data"]["transferVoucher"]["holders"] == [t1, t2]  # type: ignore[index]
    codes = {str(b["errors"][0]["extensions"]["code"]) for _, b in lost}  # type: ignore[index]
    assert codes <= {"CONFLICT", "UNPROCESSABLE"}, codes
    assert all(status < 500 for status, _ in lost)

    # Lineage, holders and ledger agree: one hop, the line occupied once, books balanced.
    (node,) = api.gql("anna", TREE, id=root)["voucherTree"]
    assert (node["holderId"], node["holders"], node["status"]) == (t2, [t1, t2], "live")
    assert _used(api, line_id) == used0 + FACE
    # The ledger posted exactly the one hop that the lineage shows: the claim left tier 1
    # for tier 2 once, by the winning request.
    assert hops(api, t2, root) == [("voucher_transfer", root, FACE)]
    assert hops(api, t1, root) == [("voucher_issue", root, FACE),
                                   ("voucher_transfer", root, -FACE)]  # fmt: skip
    balanced(api)
