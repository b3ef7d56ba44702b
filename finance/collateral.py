"""Collateral valuations, loan-to-value and margin calls.

`on_valuation` is the entry the sensors package calls when a pledged asset's value changes
(head count, weight, price): the new value, the LTV of every live financing it backs and any
margin call are written in one transaction. A margin call is an `Alert` about the financing,
keyed by financing and day, so repeated valuations on one day raise one call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from neo4j import Driver, ManagedTransaction

from finance import ledger
from finance.errors import FinanceError, NotFound
from finance.products.factory import recorded_tx
from graph.model import FINANCING_OUTSTANDING
from graph.queries import finance as q


@dataclass(frozen=True)
class LoanToValue:
    financing_id: str
    exposure_minor: int  # principal outstanding (or approved, before disbursement) + interest
    collateral_value_minor: int
    ltv_bps: int | None  # None when the collateral is worth nothing
    max_ltv_bps: int | None


@dataclass(frozen=True)
class MarginCall:
    alert_id: str
    financing_id: str
    ltv_bps: int | None
    max_ltv_bps: int
    shortfall_minor: int  # cash (or extra collateral value x max LTV) that restores the limit
    message: str


def _ltv(tx: ManagedTransaction, financing_id: str, lock: bool = True) -> LoanToValue:
    row = q.lock_financing(tx, financing_id) if lock else q.get_financing_tx(tx, financing_id)
    if row is None:
        raise NotFound(f"financing {financing_id} does not exist")
    # A loaded financing's limit is its lender's, not known here: its LTV has no maximum.
    product_id = row.get("product_id")
    max_ltv = (
        recorded_tx(tx, product_id, row.get("product_version")).max_ltv_bps if product_id else None
    )
    value = sum(int(c["value"] or 0) for c in q.collateral_of_financing(tx, financing_id))
    principal = (
        row["outstanding_minor"] if row["status"] in FINANCING_OUTSTANDING else row["amount_minor"]
    )
    exposure = int(principal) + int(row.get("interest_due_minor") or 0)
    ltv = None if value <= 0 else exposure * 10_000 // value
    return LoanToValue(financing_id, exposure, value, ltv, max_ltv)


def loan_to_value(driver: Driver, database: str, financing_id: str) -> LoanToValue:
    with driver.session(database=database) as s:
        return s.execute_read(lambda tx: _ltv(tx, financing_id, lock=False))


def on_valuation(
    driver: Driver, database: str, asset_id: str, value_minor: int, currency: str
) -> list[MarginCall]:
    """Record an asset's new value; returns the margin calls it raised (idempotent per day)."""
    if value_minor < 0:
        raise FinanceError("a valuation cannot be negative")
    now = datetime.now(UTC)

    def work(tx: ManagedTransaction) -> list[MarginCall]:
        if not q.set_asset_value(tx, asset_id, value_minor, currency, now):
            raise NotFound(f"asset {asset_id} does not exist")
        calls: list[MarginCall] = []
        for fid in q.financings_of_collateral(tx, asset_id):
            ltv = _ltv(tx, fid)
            q.update_financing(tx, fid, {"ltv_bps": ltv.ltv_bps, "ltv_at": now})
            limit = ltv.max_ltv_bps
            if limit is None or (ltv.ltv_bps is not None and ltv.ltv_bps <= limit):
                continue
            shortfall = ltv.exposure_minor - ltv.collateral_value_minor * limit // 10_000
            alert_id = f"margin:{fid}:{now.date().isoformat()}"
            shown = "n/a" if ltv.ltv_bps is None else f"{ltv.ltv_bps / 100:.1f}%"
            message = (
                f"margin call on {fid}: loan-to-value {shown} exceeds {limit / 100:.1f}% after "
                f"{asset_id} was valued at {value_minor / 100:,.2f} {currency}; "
                f"pay {shortfall / 100:,.2f} or add collateral"
            )
            q.merge_alert(
                tx,
                alert_id,
                fid,
                {
                    "kind": "margin_call",
                    "status": "open",
                    "ltv_bps": ltv.ltv_bps,
                    "max_ltv_bps": limit,
                    "shortfall_minor": shortfall,
                    "message": message,
                    "asset_id": asset_id,
                    "created_at": now,
                },
            )
            calls.append(MarginCall(alert_id, fid, ltv.ltv_bps, limit, shortfall, message))
        return calls

    return ledger.run_write(driver, database, work)
