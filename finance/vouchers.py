"""E-credit vouchers (电子债权凭证): issue, split, transfer up the chain, discount, clear.

A core enterprise issues a voucher to a tier-1 supplier against its confirmed payables; the
face occupies the core's supply-chain line of one funder (posted) and a memo of its voucher
payables. That funder's book (`line_funder_id`) is the voucher's: the memos of its hops, the
core's payment and the holders' at maturity are posted there.
Holders split a voucher (children sum to the parent) and pass pieces to their own
suppliers, tier by tier; any holder may discount a piece with a funder (in that funder's
book: the holder is paid into its settlement account with the funder); at maturity the
core pays the face of every live piece from its settlement account with the line's funder:
to the holder's account there, or to the funder for discounted ones (through both funders'
cash accounts when that is another funder), and the line is freed. Lineage is graph:
`SPLIT_FROM`, `HELD_BY` (now) and `HELD` (every holding, in order).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from neo4j import Driver, ManagedTransaction

from finance import credit_lines as cl
from finance import ledger
from finance.accounts import (
    AccountCode,
    discounted_voucher_account,
    lender_account,
    settlement_account,
    voucher_accounts,
    voucher_held_account,
    voucher_held_contra,
)
from finance.daycount import DayCount, discount
from finance.errors import (
    FinanceError,
    Forbidden,
    IdempotencyConflict,
    InvalidState,
    NotEligible,
    NotFound,
)
from finance.ledger import TransferRequest
from graph.model import (
    CONFIRMED_PAYABLE,
    DEFAULT_FUNDER,
    INVOICE_OPEN,
    VOUCHER_UNPAID_AT_MATURITY,
    InvoiceStatus,
)
from graph.queries import finance as q
from graph.queries import postloan as pq


@dataclass(frozen=True)
class Voucher:
    id: str
    root_id: str
    parent_id: str | None
    core_id: str
    face_minor: int
    currency: str
    issued_on: date
    due_on: date
    status: str  # live, split, financed, overdue, cleared
    holder_id: str | None
    holders: list[str]  # every holder in order
    line_funder_id: str = DEFAULT_FUNDER  # whose line it occupies: the book of its postings


def _d(x: Any) -> date:
    return x.to_native() if hasattr(x, "to_native") else x  # type: ignore[no-any-return]


def _book(v: dict[str, Any]) -> str:
    """The funder whose line a voucher (or a piece) occupies; older vouchers: the default."""
    return str(v.get("line_funder_id") or DEFAULT_FUNDER)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def _locked(tx: ManagedTransaction, voucher_id: str) -> tuple[dict[str, Any], str | None, int]:
    got = q.lock_voucher(tx, voucher_id)
    if got is None:
        raise NotFound(f"voucher {voucher_id} does not exist")
    return dict(got["voucher"]), got["holder_id"], got["holdings"]


def issue(
    driver: Driver,
    database: str,
    voucher_id: str,
    core_id: str,
    holder_id: str,
    face_minor: int,
    currency: str,
    invoice_ids: list[str],
    issued_on: date,
    due_on: date,
    funder_id: str = DEFAULT_FUNDER,
) -> Voucher:
    """Issue against confirmed payables of `core_id` to `holder_id`, occupying the core's
    supply-chain line granted by `funder_id`, and posting in that funder's book; re-issuing
    the same id returns the voucher."""
    if not voucher_id or "." in voucher_id:
        raise FinanceError("a voucher id is not empty and has no dots (pieces are <id>.<n>)")
    if face_minor <= 0 or due_on <= issued_on:
        raise FinanceError("a voucher needs a positive face and a due date after issue")
    now = datetime.now(UTC)

    def work(tx: ManagedTransaction) -> None:
        got = q.lock_voucher(tx, voucher_id)
        if got is not None:
            v = got["voucher"]
            terms = (v["core_id"], int(v["face_minor"]), v["currency"], _d(v["issued_on"]),
                     _d(v["due_on"]))  # fmt: skip
            same = terms == (core_id, face_minor, currency, issued_on, due_on)
            if not same or v["root_id"] != voucher_id or _book(v) != funder_id:
                raise IdempotencyConflict(f"voucher {voucher_id} exists with other terms")
            return
        if not invoice_ids:
            raise FinanceError("a voucher needs the confirmed payables it is issued against")
        rows = {r["id"]: r for r in q.payables(tx, invoice_ids)}
        total = 0
        for iid in invoice_ids:
            r = rows.get(iid)
            if r is None:
                raise NotFound(f"invoice {iid} does not exist")
            if r["buyer_id"] != core_id or r["seller_id"] != holder_id:
                raise NotEligible(f"invoice {iid} is not a payable of {core_id} to {holder_id}")
            if r["confirmation"] not in CONFIRMED_PAYABLE:
                raise NotEligible(
                    f"invoice {iid} is not confirmed by the core "
                    f"({r['confirmation'] or 'no answer yet'})"
                )
            if (r["status"] or InvoiceStatus.ISSUED) not in INVOICE_OPEN:
                raise NotEligible(f"invoice {iid} is {r['status']}, no longer owed")
            if (r["currency"] or currency) != currency:
                raise NotEligible(f"invoice {iid} is in {r['currency']}, not {currency}")
            if r["used"]:
                raise NotEligible(f"invoice {iid} already backs a voucher")
            if r["financing_id"]:
                raise NotEligible(f"invoice {iid} is assigned to financing {r['financing_id']}")
            total += int(r["confirmed_minor"])
        if face_minor > total:
            raise NotEligible(f"face {face_minor} exceeds the confirmed payables {total}")
        line_id = q.line_of(tx, core_id, "supply_chain", currency, funder=funder_id)
        if line_id is None:
            of = "" if funder_id == DEFAULT_FUNDER else f" from {funder_id}"
            raise NotEligible(f"{core_id} has no supply-chain credit line in {currency}{of}")
        ledger.ensure_accounts_tx(
            tx,
            [
                *voucher_accounts(core_id, currency, funder_id),
                lender_account(AccountCode.VOUCHER_OUTSTANDING, currency, funder_id),
                voucher_held_account(holder_id, currency, funder_id),
                voucher_held_contra(voucher_id, currency, funder_id),
            ],
        )
        occ = cl.occupy_tx(
            tx,
            line_id,
            face_minor,
            f"vi:{voucher_id}",
            pending=False,
            ref=voucher_id,
            on=issued_on,
            now=now,
            linked_tail=True,
        )
        memo = TransferRequest(
            f"vi:{voucher_id}:memo",
            lender_account(AccountCode.VOUCHER_OUTSTANDING, currency, funder_id).id,
            voucher_accounts(core_id, currency, funder_id)[0].id,
            face_minor,
            currency,
            code="voucher_issue",
            ref=voucher_id,
            value_at=_at(issued_on),
            linked=True,
        )
        held = TransferRequest(  # the first holder's claim
            f"vi:{voucher_id}:held",
            voucher_held_account(holder_id, currency, funder_id).id,
            voucher_held_contra(voucher_id, currency, funder_id).id,
            face_minor,
            currency,
            code="voucher_issue",
            ref=voucher_id,
            value_at=_at(issued_on),
        )
        cl.raise_for(
            ledger.create_transfers_tx(tx, [*occ, memo, held], now), line_id, face_minor
        )
        q.create_voucher(
            tx,
            {
                "id": voucher_id,
                "root_id": voucher_id,
                "core_id": core_id,
                "line_id": line_id,
                "face_minor": face_minor,
                "currency": currency,
                "issued_on": issued_on,
                "due_on": due_on,
                "status": "live",
                "depth": 0,
                "line_funder_id": funder_id,
            },
            core_id,
            holder_id,
            invoice_ids,
            issued_on,
        )

    # Issues on one core's line queue in this process, as drawdowns and approvals do.
    line_id = q.line_of_read(driver, database, core_id, "supply_chain", currency,
                             funder=funder_id)  # fmt: skip
    with cl.line_guard(driver, database, line_id):
        ledger.run_write(driver, database, work)
    return get(driver, database, voucher_id)


def _hop_key(prefix: str, voucher_id: str, request_id: str | None, fallback: str) -> str:
    """The ledger key of one hop: the voucher and the caller's request id (the same request
    again finds its postings), or `fallback` (what makes the hop unique) without one."""
    return f"{prefix}:{voucher_id}:{request_id or fallback}"


def _require_holder(voucher_id: str, holder: str | None, held_by: str | None) -> None:
    if held_by is not None and holder != held_by:
        raise Forbidden(f"voucher {voucher_id} is not held by {held_by}")


def split(
    driver: Driver,
    database: str,
    voucher_id: str,
    amounts: list[int],
    on: date,
    request_id: str | None = None,
    held_by: str | None = None,
) -> list[Voucher]:
    """Split a live voucher into children (ids `<id>.1`, `<id>.2`, ...) summing to it.

    In the same transaction as the lineage, the holder's voucher claim (9202) gives up the
    parent and takes each piece, through the tree's contra (9203), so that the holder's
    statement shows the split. Keyed by `request_id`: the same request again, once the
    split is done, answers the pieces and posts nothing. With `held_by` (an enterprise's
    user acting for its firm), only a voucher that firm holds is split."""
    if len(amounts) < 2 or any(a <= 0 for a in amounts):
        raise FinanceError("a split needs at least two positive amounts")
    now = datetime.now(UTC)

    def work(tx: ManagedTransaction) -> None:
        v, holder, _ = _locked(tx, voucher_id)
        key = _hop_key("vs", voucher_id, request_id, "split")
        if v["status"] == "split" and request_id and q.get_transfers_tx(tx, [f"{key}:0"]):
            return  # this request split it already
        _require_holder(voucher_id, holder, held_by)
        if v["status"] != "live" or holder is None:
            raise InvalidState(f"voucher {voucher_id} is {v['status']}, not live")
        if sum(amounts) != v["face_minor"]:
            raise FinanceError(
                f"split amounts sum to {sum(amounts)}, not the face {v['face_minor']}"
            )
        if on >= _d(v["due_on"]):
            raise InvalidState(f"voucher {voucher_id} is due")
        children = [
            {
                **{
                    k: v[k]
                    for k in ("root_id", "core_id", "line_id", "currency", "issued_on", "due_on")
                },
                "line_funder_id": _book(v),
                "id": f"{voucher_id}.{i}",
                "face_minor": a,
                "status": "live",
                "depth": int(v["depth"]) + 1,
            }
            for i, a in enumerate(amounts, start=1)
        ]
        ccy, book = v["currency"], _book(v)
        held = voucher_held_account(holder, ccy, book)
        contra = voucher_held_contra(v["root_id"], ccy, book)
        ledger.ensure_accounts_tx(tx, [held, contra])
        reqs = [
            TransferRequest(
                f"{key}:0", contra.id, held.id, int(v["face_minor"]), ccy, linked=True,
                code="voucher_split", ref=voucher_id, value_at=_at(on),
            ),
            *(
                TransferRequest(
                    f"{key}:{i}", held.id, contra.id, a, ccy, linked=i < len(amounts),
                    code="voucher_split", ref=f"{voucher_id}.{i}", value_at=_at(on),
                )
                for i, a in enumerate(amounts, start=1)
            ),
        ]  # fmt: skip
        ledger.require_ok(ledger.create_transfers_tx(tx, reqs, now))
        q.split_voucher(tx, voucher_id, children, on)

    ledger.run_write(driver, database, work)
    # The pieces from one read of the tree (not one read per piece).
    pieces = {v.id: v for v in tree(driver, database, voucher_id.split(".")[0])}
    return [pieces[f"{voucher_id}.{i}"] for i in range(1, len(amounts) + 1)]


def transfer(
    driver: Driver,
    database: str,
    voucher_id: str,
    to_enterprise_id: str,
    on: date,
    request_id: str | None = None,
    held_by: str | None = None,
) -> Voucher:
    """Pass a live voucher from its holder to one of the holder's suppliers (up the chain).

    In the same transaction as the lineage edge, the claim moves from the old holder's
    voucher account (9202) to the new holder's. Keyed by `request_id`: the same request
    again, once the voucher moved, answers it and posts nothing. With `held_by`, only a
    voucher that firm holds (or that this request moved from it) is passed on."""
    now = datetime.now(UTC)

    def work(tx: ManagedTransaction) -> None:
        v, holder, holdings = _locked(tx, voucher_id)
        key = _hop_key("vt", voucher_id, request_id, str(holdings + 1))
        if v["status"] != "live" or holder is None:
            raise InvalidState(f"voucher {voucher_id} is {v['status']}, not live")
        if holder == to_enterprise_id and request_id and q.get_transfers_tx(tx, [key]):
            return  # this request moved it already
        _require_holder(voucher_id, holder, held_by)
        if holder == to_enterprise_id:
            # Another request to move a voucher its target already holds lost a race.
            raise InvalidState(f"voucher {voucher_id} is already held by {holder}")
        if not q.supplies_to(tx, to_enterprise_id, holder):
            raise NotEligible(
                f"{to_enterprise_id} does not supply {holder}: vouchers move tier by tier"
            )
        ccy, book = v["currency"], _book(v)
        new = voucher_held_account(to_enterprise_id, ccy, book)
        old = voucher_held_account(holder, ccy, book)
        ledger.ensure_accounts_tx(tx, [new, old])
        ledger.require_ok(
            ledger.create_transfers_tx(
                tx,
                [
                    TransferRequest(
                        key, new.id, old.id, int(v["face_minor"]), ccy,
                        code="voucher_transfer", ref=voucher_id, value_at=_at(on),
                    )
                ],
                now,
            )
        )  # fmt: skip
        q.move_voucher(tx, voucher_id, to_enterprise_id, holdings + 1, on)

    ledger.run_write(driver, database, work)
    return get(driver, database, voucher_id)


def finance_voucher(
    driver: Driver,
    database: str,
    voucher_id: str,
    rate_bps: int,
    on: date,
    day_count: DayCount = DayCount.ACT_360,
    funder_id: str = DEFAULT_FUNDER,
) -> tuple[Voucher, int]:
    """Discount a live voucher with a funder, in that funder's book: the holder receives
    face less discount in its settlement account with the funder; the discount is the
    funder's deferred income until clearing. Returns the voucher and the proceeds."""
    now = datetime.now(UTC)
    out: dict[str, int] = {}

    def work(tx: ManagedTransaction) -> None:
        v, holder, _ = _locked(tx, voucher_id)
        if v["status"] != "live" or holder is None:
            raise InvalidState(f"voucher {voucher_id} is {v['status']}, not live")
        ccy, face, due = v["currency"], int(v["face_minor"]), _d(v["due_on"])
        if on >= due:
            raise InvalidState(f"voucher {voucher_id} is due; it is cleared, not discounted")
        disc = discount(face, rate_bps, on, due, day_count)
        recv = discounted_voucher_account(voucher_id, ccy, funder_id)
        settle = settlement_account(holder, ccy, funder_id)
        deferred = lender_account(AccountCode.DEFERRED_DISCOUNT, ccy, funder_id)
        ledger.ensure_accounts_tx(tx, [recv, settle, deferred])
        key = f"vf:{voucher_id}"
        ledger.require_ok(
            ledger.create_transfers_tx(
                tx,
                [
                    TransferRequest(
                        f"{key}:proceeds",
                        recv.id,
                        settle.id,
                        face - disc,
                        ccy,
                        linked=True,
                        code="voucher_discount",
                        ref=voucher_id,
                        value_at=_at(on),
                    ),
                    TransferRequest(
                        f"{key}:discount",
                        recv.id,
                        deferred.id,
                        disc,
                        ccy,
                        code="voucher_discount",
                        ref=voucher_id,
                        value_at=_at(on),
                    ),
                ],
                now,
            )
        )
        q.update_voucher(
            tx,
            voucher_id,
            {
                "status": "financed",
                "financed_on": on,
                "discount_minor": disc,
                "rate_bps": rate_bps,
                "financed_holder_id": holder,
                "funder_id": funder_id,
            },
        )
        out["proceeds"] = face - disc

    ledger.run_write(driver, database, work)
    return get(driver, database, voucher_id), out["proceeds"]


def clear(
    driver: Driver, database: str, root_id: str, on: date, issued_by: str | None = None
) -> list[Voucher]:
    """At maturity the core pays every live piece of a voucher tree from its settlement
    account: holders receive the face, the funder of a discounted piece collects it and
    earns the deferred discount; the core's line and voucher memo are released.

    Everything is paid in the book of the funder whose line the voucher occupies: from the
    core's settlement account with that funder to the holders' accounts with it. A piece
    discounted by another funder is paid in two linked transfers, core -> the line funder's
    cash and the discounting funder's cash -> its receivable, so that each funder's trial
    balance balances. With `issued_by` (a core's user acting for its firm), only a tree
    that core issued is cleared."""
    now = datetime.now(UTC)

    def work(tx: ManagedTransaction) -> None:
        root, _, _ = _locked(tx, root_id)
        if issued_by is not None and root["core_id"] != issued_by:
            raise Forbidden(f"voucher {root_id} was not issued by {issued_by}")
        if root["root_id"] != root_id:
            raise FinanceError(f"{root_id} is not the root of its voucher tree")
        if on < _d(root["due_on"]):
            raise InvalidState(f"voucher {root_id} is due on {_d(root['due_on'])}")
        leaves = q.voucher_leaves(tx, root_id)
        if not leaves:
            return
        ccy, core, book = root["currency"], root["core_id"], _book(root)
        core_settle = settlement_account(core, ccy, book)
        reqs: list[TransferRequest] = []
        contra = voucher_held_contra(root_id, ccy, book)
        accounts = [core_settle, lender_account(AccountCode.DISCOUNT_INCOME, ccy, book), contra]
        total = 0
        for leaf in leaves:
            v = leaf["voucher"]
            face = int(v["face_minor"])
            total += face
            key = f"vc:{v['id']}"
            if leaf["holder_id"]:  # the holder's claim ends (the memo of who holds what)
                held = voucher_held_account(leaf["holder_id"], ccy, book)
                accounts.append(held)
                reqs.append(
                    TransferRequest(
                        f"{key}:held", contra.id, held.id, face, ccy, linked=True,
                        code="voucher_clear", ref=v["id"], value_at=_at(on),
                    )
                )  # fmt: skip
            if v.get("financed_on") is not None:  # discounted (financed, or overdue since)
                funder = v.get("funder_id") or DEFAULT_FUNDER
                recv = discounted_voucher_account(v["id"], ccy, funder).id
                if funder == book:
                    legs = [(core_settle.id, recv, "pay")]
                else:  # from the core's bank to the funder: through both cash accounts
                    cash_out = lender_account(AccountCode.CASH, ccy, book)
                    cash_in = lender_account(AccountCode.CASH, ccy, funder)
                    accounts += [cash_out, cash_in,
                                 lender_account(AccountCode.DISCOUNT_INCOME, ccy, funder)]
                    legs = [(core_settle.id, cash_out.id, "pay"), (cash_in.id, recv, "collect")]
                reqs += [
                    TransferRequest(
                        f"{key}:{leg}",
                        debit,
                        credit,
                        face,
                        ccy,
                        linked=True,
                        code="voucher_clear",
                        ref=v["id"],
                        value_at=_at(on),
                    )
                    for debit, credit, leg in legs
                ]
                if int(v.get("discount_minor") or 0):
                    reqs.append(
                        TransferRequest(
                            f"{key}:income",
                            lender_account(AccountCode.DEFERRED_DISCOUNT, ccy, funder).id,
                            lender_account(AccountCode.DISCOUNT_INCOME, ccy, funder).id,
                            int(v["discount_minor"]),
                            ccy,
                            linked=True,
                            code="discount_income",
                            ref=v["id"],
                            value_at=_at(on),
                        )
                    )
            else:
                holder = settlement_account(leaf["holder_id"], ccy, book)
                ledger.ensure_accounts_tx(tx, [holder])
                reqs.append(
                    TransferRequest(
                        f"{key}:pay",
                        core_settle.id,
                        holder.id,
                        face,
                        ccy,
                        linked=True,
                        code="voucher_clear",
                        ref=v["id"],
                        value_at=_at(on),
                    )
                )
        ledger.ensure_accounts_tx(tx, list({a.id: a for a in accounts}.values()))
        reqs.append(
            TransferRequest(
                f"vc:{root_id}:memo",
                voucher_accounts(core, ccy, book)[0].id,
                lender_account(AccountCode.VOUCHER_OUTSTANDING, ccy, book).id,
                total,
                ccy,
                linked=True,
                code="voucher_clear",
                ref=root_id,
                value_at=_at(on),
            )
        )
        reqs += cl.release_requests(tx, root["line_id"], total, f"vc:{root_id}", root_id)
        results = ledger.create_transfers_tx(tx, cl.close_chain(reqs), now)
        for r in results:
            if r.status == ledger.TransferStatus.EXCEEDS_CREDITS and r.id.endswith(":pay"):
                raise NotEligible(f"{core} has too little in its settlement account to clear")
        ledger.require_ok(results)
        for leaf in leaves:
            q.update_voucher(tx, leaf["voucher"]["id"], {"status": "cleared", "cleared_on": on})
        q.update_voucher(tx, root_id, {"cleared_on": on})
        pq.clear_voucher_alerts(tx, root_id, now)  # paid late: its overdue alert says when

    ledger.run_write(driver, database, work)
    return tree(driver, database, root_id)


@dataclass(frozen=True)
class OverdueRun:
    pieces: int  # open pieces marked overdue
    alerts: int  # new alerts (one per voucher tree and maturity)


def mark_overdue(driver: Driver, database: str, as_of: date) -> OverdueRun:
    """The end-of-day step for vouchers: every tree whose maturity has passed (`due_on` on or
    before `as_of`, the day's end) with pieces not paid (live or discounted) has those pieces
    marked `overdue`, and raises one `voucher_overdue` alert about the root, its core and
    the holders of the unpaid pieces. Each tree in its own transaction under the root's
    lock, as `clear` takes it, so a tree cleared meanwhile is left alone; idempotent."""
    now = datetime.now(UTC)
    unpaid = {str(s) for s in VOUCHER_UNPAID_AT_MATURITY}
    pieces = alerts = 0
    for root_id in pq.due_unpaid_voucher_roots(driver, database, as_of):

        def work(tx: ManagedTransaction, root_id: str = root_id) -> tuple[int, int]:
            root, _, _ = _locked(tx, root_id)
            due = _d(root["due_on"])
            if as_of < due:
                return 0, 0
            late = [x for x in q.voucher_leaves(tx, root_id) if x["voucher"]["status"] in unpaid]
            if not late:
                return 0, 0
            pq.mark_vouchers_overdue(tx, [x["voucher"]["id"] for x in late], as_of)
            ccy = root["currency"]
            owed = sum(int(x["voucher"]["face_minor"]) for x in late)
            holders = sorted({x["holder_id"] for x in late if x["holder_id"]})
            new = pq.merge_voucher_alert(
                tx, f"voucher_overdue:{root_id}:{due}", root_id, holders,
                {
                    "kind": "voucher_overdue", "severity": "high", "status": "open",
                    "scope": f"voucher:{root_id}", "voucher_id": root_id,
                    "message": f"voucher {root_id} of {root['core_id']} was not paid at "
                    f"maturity {due}: {owed / 100:,.2f} {ccy} owed on {len(late)} "
                    f"piece(s) to {', '.join(holders)}",
                    "raised_at": now, "created_at": now,
                },
            )  # fmt: skip
            return len(late), int(new)

        n, a = ledger.run_write(driver, database, work)
        pieces, alerts = pieces + n, alerts + a
    return OverdueRun(pieces, alerts)


def _voucher(row: dict[str, Any]) -> Voucher:
    v = row["voucher"]
    return Voucher(
        id=v["id"],
        root_id=v["root_id"],
        parent_id=row.get("parent_id"),
        core_id=v["core_id"],
        face_minor=v["face_minor"],
        currency=v["currency"],
        issued_on=_d(v["issued_on"]),
        due_on=_d(v["due_on"]),
        status=v["status"],
        holder_id=row.get("holder_id"),
        holders=list(row.get("holders") or []),
        line_funder_id=_book(v),
    )


def tree(driver: Driver, database: str, root_id: str) -> list[Voucher]:
    """Every voucher of a tree (root and all pieces) with holders and lineage."""
    return [_voucher(r) for r in q.voucher_tree(driver, database, root_id)]


def get(driver: Driver, database: str, voucher_id: str) -> Voucher:
    """One voucher with its holders (one read of it, not of its tree)."""
    row = q.voucher_one(driver, database, voucher_id)
    if row is None:
        raise NotFound(f"voucher {voucher_id} does not exist")
    return _voucher(row)


@dataclass(frozen=True)
class Reach:
    core_id: str
    max_tier: int  # deepest tier that ever held one of the core's vouchers
    holders_by_tier: dict[int, list[str]]


def reach(driver: Driver, database: str, core_id: str) -> Reach:
    """How far down the chain the core's credit reached through its vouchers (one query)."""
    rows = q.voucher_reach(driver, database, core_id)
    by_tier = {int(r["tier"]): sorted(r["ids"]) for r in rows if r["tier"] is not None}
    return Reach(core_id, max(by_tier, default=0), by_tier)
