"""Trade authenticity: circular trade, the four-flow check (四流合一) and duplicate pledges.

Circular trade. Invoices that go round a cycle of firms within a short window with amounts
that stay close (goods or money round-tripping) are the signature of fictitious trade used to
inflate receivables. The scan first finds the strongly connected components of the `SUPPLIES`
graph (a trade cycle can only live inside one), then, inside each, searches cycles of
*invoices*: starting from each invoice, a bounded depth-first search follows invoices issued
by the current buyer, no earlier than the start and within `window_days` of it, whose amount
is within `amount_tolerance` of the start amount, until it returns to the start seller. Each
invoice cycle is found once, from its earliest invoice. Cycles over the same firms in the
same order are one ring with several rounds.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

import networkx as nx
from neo4j import Driver

from graph.analytics._common import LIVE_FINANCING, check_range, read
from graph.errors import InvalidArgument, NotFound
from graph.queries import analytics as q

MAX_RING_LENGTH = 6
MAX_RINGS = 10_000
MAX_WINDOW_DAYS = 366
# Goods may leave up to this long before the invoice or arrive this long after it.
GOODS_SLACK_DAYS = 60


@dataclass(frozen=True, slots=True)
class RingInvoice:
    id: str
    seller_id: str
    buyer_id: str
    amount: int
    issued_on: date


@dataclass(frozen=True, slots=True)
class TradeRing:
    """Firms trading round a cycle: members[i] invoices members[i+1] (and the last the first)."""

    id: str
    members: list[str]
    rounds: list[list[RingInvoice]]
    invoices_without_goods: int
    """Invoices of the ring with no shipment delivering them (no goods flow at all)."""

    @property
    def total_amount(self) -> int:
        return sum(i.amount for r in self.rounds for i in r)

    @property
    def invoice_count(self) -> int:
        return sum(len(r) for r in self.rounds)


@dataclass(frozen=True, slots=True)
class RingScan:
    rings: list[TradeRing]
    components_searched: int
    invoices_searched: int
    truncated: bool


def _as_date(value: Any) -> date:
    return value.to_native() if hasattr(value, "to_native") else value  # type: ignore[no-any-return]


def circular_trade(
    driver: Driver,
    database: str,
    window_days: int = 90,
    amount_tolerance: float = 0.25,
    min_length: int = 3,
    max_length: int = MAX_RING_LENGTH,
    max_rings: int = 5_000,
) -> RingScan:
    """Every ring of invoices in the graph (a full scan), most invoices first."""
    check_range("window_days", window_days, 1, MAX_WINDOW_DAYS)
    check_range("min_length", min_length, 2, MAX_RING_LENGTH)
    check_range("max_length", max_length, min_length, MAX_RING_LENGTH)
    check_range("max_rings", max_rings, 1, MAX_RINGS)
    if not 0 <= amount_tolerance <= 1:
        raise InvalidArgument(f"amount_tolerance must be between 0 and 1, got {amount_tolerance}")
    graph: nx.DiGraph[str] = nx.DiGraph()
    pairs = read(driver, database, q.ALL_SUPPLIES_PAIRS)[0]
    graph.add_edges_from(zip(pairs["sellers"], pairs["buyers"], strict=True))
    components = [c for c in nx.strongly_connected_components(graph) if len(c) >= min_length]
    window = timedelta(days=window_days)
    found: dict[tuple[str, ...], list[list[RingInvoice]]] = defaultdict(list)
    searched = 0
    truncated = False
    for component in sorted(components, key=lambda c: min(c)):
        rows = read(driver, database, q.INVOICES_AMONG, ids=sorted(component))[0]["rows"]
        invoices = sorted(
            (RingInvoice(r[0], r[1], r[2], int(r[3]), date.fromisoformat(r[4])) for r in rows),
            key=lambda i: (i.issued_on, i.id),
        )
        searched += len(invoices)
        by_seller: dict[str, list[RingInvoice]] = defaultdict(list)
        for inv in invoices:
            by_seller[inv.seller_id].append(inv)
        dates = {s: [i.issued_on for i in lst] for s, lst in by_seller.items()}
        count = sum(len(v) for v in found.values())
        for start in invoices:
            low = start.amount * (1 - amount_tolerance)
            high = start.amount * (1 + amount_tolerance)
            start_key = (start.issued_on, start.id)
            last_day = start.issued_on + window
            stack: list[tuple[list[RingInvoice], set[str]]] = [
                ([start], {start.seller_id, start.buyer_id})
            ]
            while stack:
                path, members = stack.pop()
                here = path[-1].buyer_id
                candidates = by_seller.get(here, [])
                lo = bisect.bisect_left(dates[here], start.issued_on) if candidates else 0
                hi = bisect.bisect_right(dates[here], last_day) if candidates else 0
                for nxt in candidates[lo:hi]:
                    if (nxt.issued_on, nxt.id) <= start_key or not low <= nxt.amount <= high:
                        continue
                    if nxt.buyer_id == start.seller_id:
                        if len(path) + 1 >= min_length:
                            ring = [*path, nxt]
                            found[_canonical([i.seller_id for i in ring])].append(ring)
                            count += 1
                    elif nxt.buyer_id not in members and len(path) + 1 < max_length:
                        stack.append(([*path, nxt], members | {nxt.buyer_id}))
                if count >= max_rings:
                    truncated = True
                    break
            if truncated:
                break
        if truncated:
            break
    rings = _rings(driver, database, found)
    return RingScan(rings, len(components), searched, truncated)


def _canonical(members: list[str]) -> tuple[str, ...]:
    start = members.index(min(members))
    return tuple(members[start:] + members[:start])


def _rings(
    driver: Driver, database: str, found: dict[tuple[str, ...], list[list[RingInvoice]]]
) -> list[TradeRing]:
    ids = sorted({i.id for rounds in found.values() for r in rounds for i in r})
    shipments = {
        r["id"]: int(r["shipments"])
        for r in read(driver, database, q.INVOICE_SHIPMENT_COUNTS, ids=ids)
    }
    rings = []
    for members, rounds in found.items():
        rounds.sort(key=lambda r: (min(i.issued_on for i in r), [i.id for i in r]))
        invoice_ids = {i.id for r in rounds for i in r}
        rings.append(
            TradeRing(
                id="RING-" + "-".join(members),
                members=list(members),
                rounds=rounds,
                invoices_without_goods=sum(1 for i in invoice_ids if not shipments.get(i)),
            )
        )
    rings.sort(key=lambda r: (-r.invoice_count, r.members))
    return rings


# ---- four flows ----------------------------------------------------------------------------
class Flow(StrEnum):
    CONTRACT = "contract"  # business flow
    GOODS = "goods"  # logistics flow
    INVOICE = "invoice"  # information flow
    PAYMENT = "payment"  # capital flow


@dataclass(frozen=True, slots=True)
class FlowCheck:
    flow: Flow
    present: bool
    consistent: bool
    detail: str


@dataclass(frozen=True, slots=True)
class FourFlow:
    """The four flows of one invoice (or contract): score = share of flows present and
    consistent (1.0 for a genuine, fully settled trade)."""

    subject_id: str
    checks: list[FlowCheck]

    @property
    def score(self) -> float:
        return sum(1 for c in self.checks if c.present and c.consistent) / len(self.checks)

    @property
    def missing(self) -> list[Flow]:
        return [c.flow for c in self.checks if not c.present]

    @property
    def inconsistent(self) -> list[Flow]:
        return [c.flow for c in self.checks if c.present and not c.consistent]


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _present(flow: Flow, problems: list[str], fine: str) -> FlowCheck:
    return FlowCheck(flow, True, not problems, "; ".join(problems) or fine)


def _check_invoice(row: dict[str, Any]) -> FourFlow:
    issued = _as_date(row["issued_on"]) if row["issued_on"] is not None else None
    amount = int(row["amount"] or 0)
    due = amount + int(row["tax"] or 0)
    checks = []

    contract = row["contract"]
    if contract is None:
        checks.append(FlowCheck(Flow.CONTRACT, False, False, "no contract behind the invoice"))
    else:
        problems = []
        signed = contract.get("signed_on")
        if signed is not None and issued is not None and issued < _as_date(signed):
            problems.append(f"invoiced on {issued} before the contract was signed on {signed}")
        if contract.get("amount") is not None and amount > int(contract["amount"]):
            problems.append(f"invoice amount {amount} exceeds contract amount {contract['amount']}")
        checks.append(_present(Flow.CONTRACT, problems, f"under contract {contract['id']}"))

    shipments = row["shipments"]
    if not shipments:
        checks.append(FlowCheck(Flow.GOODS, False, False, "no shipment delivers the invoice"))
    else:
        problems = []
        qty = _num(row["qty"])
        shipped = sum(_num(s.get("quantity")) or 0.0 for s in shipments)
        if qty is not None and qty > 0 and abs(shipped - qty) > 0.01 * qty:
            problems.append(f"shipped quantity {shipped:g} differs from invoiced {qty:g}")
        if issued is not None:
            slack = timedelta(days=GOODS_SLACK_DAYS)
            for s in shipments:
                on = s.get("shipped_on")
                if on is not None and abs(_as_date(on) - issued) > slack:
                    problems.append(f"shipment {s['id']} left on {on}, far from invoice date")
        if any(s.get("received_on") is None for s in shipments):
            problems.append("goods not confirmed received")
        checks.append(_present(Flow.GOODS, problems, f"{len(shipments)} shipment(s) match"))

    invoice_problems = []
    if row["status"] == "void":
        invoice_problems.append("invoice is void")
    if row["seller"] is None or row["buyer"] is None:
        invoice_problems.append("seller or buyer unknown")
    checks.append(_present(Flow.INVOICE, invoice_problems, f"invoice {row['id']}"))

    payments = row["payments"]
    if not payments:
        checks.append(FlowCheck(Flow.PAYMENT, False, False, "no payment settles the invoice"))
    else:
        paid = sum(int(p.get("amount") or 0) for p in payments)
        problems = []
        if paid < amount:
            problems.append(f"paid {paid} of {due}")
        if paid > due:
            problems.append(f"paid {paid}, more than the {due} due")
        # the capital flow runs from the buyer: a payment a third party made does not settle
        # the buyer's debt (a payer the graph does not know is not held against it)
        others = [f"{p['id']} by {p['payer']}" for p in payments
                  if p.get("payer") is not None and row["buyer"] is not None
                  and p["payer"] != row["buyer"]]  # fmt: skip
        if others:
            problems.append(f"paid by another than the buyer {row['buyer']} "
                            f"({', '.join(others)})")  # fmt: skip
        if issued is not None:
            early = [p["id"] for p in payments if p.get("paid_on") is not None
                     and _as_date(p["paid_on"]) < issued]  # fmt: skip
            if early:
                problems.append(f"paid before the invoice was issued ({', '.join(early)})")
        fine = f"paid {paid} in {len(payments)} payment(s)"
        checks.append(_present(Flow.PAYMENT, problems, fine))
    return FourFlow(row["id"], checks)


def four_flow_invoice(driver: Driver, database: str, invoice_id: str) -> FourFlow:
    """Do contract, goods movement, invoice and payment agree for this invoice?"""
    rows = read(driver, database, q.FOUR_FLOW_INVOICE, ids=[invoice_id])
    if not rows:
        raise NotFound(f"no invoice with id {invoice_id!r}")
    return _check_invoice(rows[0])


def four_flow_invoices(driver: Driver, database: str, invoice_ids: list[str]) -> list[FourFlow]:
    """The four-flow check of many invoices in one query (unknown ids are skipped)."""
    if len(invoice_ids) > 1000:
        raise InvalidArgument("at most 1000 invoices per four-flow batch")
    return [_check_invoice(r) for r in read(driver, database, q.FOUR_FLOW_INVOICE, ids=invoice_ids)]


def four_flow_contract(driver: Driver, database: str, contract_id: str) -> FourFlow:
    """Four flows at contract level: invoices, shipments and payments under the contract."""
    rows = read(driver, database, q.CONTRACT_INVOICES, id=contract_id)
    if not rows:
        raise NotFound(f"no contract with id {contract_id!r}")
    row = rows[0]
    contract = row["contract"]
    invoices = four_flow_invoices(driver, database, row["invoices"][:1000])
    c_amount = int(contract["amount"] or 0)
    invoice_rows = read(driver, database, q.FOUR_FLOW_INVOICE, ids=row["invoices"][:1000])
    invoiced = sum(int(r["amount"] or 0) for r in invoice_rows)
    checks = [FlowCheck(Flow.CONTRACT, True, True, f"contract amount {c_amount}")]
    if not invoices:
        checks.append(FlowCheck(Flow.INVOICE, False, False, "no invoice under the contract"))
    else:
        checks.append(FlowCheck(Flow.INVOICE, True, invoiced <= c_amount,
                                f"invoiced {invoiced} of {c_amount}"))  # fmt: skip
    goods = [f for f in invoices if Flow.GOODS not in f.missing]
    if not goods and not row["shipments"]:
        checks.append(FlowCheck(Flow.GOODS, False, False, "no shipment under the contract"))
    else:
        bad = [f.subject_id for f in invoices if Flow.GOODS in f.missing + f.inconsistent]
        checks.append(FlowCheck(Flow.GOODS, True, not bad,
                                f"goods flow missing or off for {', '.join(bad)}" if bad
                                else "every invoice has matching goods"))  # fmt: skip
    paid = [f for f in invoices if Flow.PAYMENT not in f.missing]
    if not paid:
        checks.append(FlowCheck(Flow.PAYMENT, False, False, "no payment under the contract"))
    else:
        bad = [f.subject_id for f in invoices if Flow.PAYMENT in f.missing + f.inconsistent]
        checks.append(FlowCheck(Flow.PAYMENT, True, not bad,
                                f"payment missing or off for {', '.join(bad)}" if bad
                                else "every invoice is paid"))  # fmt: skip
    return FourFlow(contract_id, checks)


# ---- duplicate pledges ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PledgedFinancing:
    id: str
    status: str
    amount_minor: int
    outstanding_minor: int
    product_kind: str | None
    lender: str | None
    origin: str


@dataclass(frozen=True, slots=True)
class DuplicatePledge:
    """One invoice or asset pledged or assigned to more than one financing."""

    collateral_id: str
    collateral_kind: str  # "invoice" or "asset"
    financings: list[PledgedFinancing] = field(default_factory=list)

    @property
    def live_count(self) -> int:
        return sum(1 for f in self.financings if f.status in LIVE_FINANCING)

    @property
    def conflicting(self) -> bool:
        """True when two or more of the financings hold the collateral at once."""
        return self.live_count >= 2


def duplicate_pledges(
    driver: Driver, database: str, conflicting_only: bool = True
) -> list[DuplicatePledge]:
    """Collateral in more than one financing; by default only where two are live."""
    found = []
    for r in read(driver, database, q.DUPLICATE_PLEDGES):
        fins = sorted(
            (PledgedFinancing(f["id"], f["status"], f["amount_minor"], f["outstanding_minor"],
                              f.get("product_kind"), f.get("lender"), f["origin"])
             for f in r["financings"]),
            key=lambda f: f.id,
        )  # fmt: skip
        pledge = DuplicatePledge(r["id"], r["kind"], fins)
        if pledge.conflicting or not conflicting_only:
            found.append(pledge)
    return found
