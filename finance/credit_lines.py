"""Credit lines: hierarchies, occupation through ledger holds, release, freeze, expiry.

A line is a `(:CreditLine)-[:GRANTED_TO]->(:Enterprise)` node, optionally `PART_OF` a parent
(a group line split among members; a core's supply-chain line; a per-product sub-limit).
Its limit lives in the ledger: the LIMIT memo account is credited with the limit and cannot
be debited beyond it; an occupation debits it (pending while reserved, posted once drawn)
on EVERY level up to the root, as one linked chain, so no level can be overdrawn. Repayment
releases by the reverse posting. Account locks serialise concurrent occupations.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from neo4j import Driver, ManagedTransaction

from finance import ledger
from finance.accounts import (
    AccountCode,
    book_of,
    lender_account,
    limit_accounts,
    limit_id,
    limit_used_id,
    settlement_account,
)
from finance.batching import Prepared, run_alone
from finance.errors import FinanceError, InvalidState, LimitExceeded, NotFound
from finance.ledger import TransferKind, TransferRequest, TransferResult, TransferStatus
from graph.model import DEFAULT_FUNDER, CreditLineKind, CreditLineStatus
from graph.queries import finance as q

# The graph model's vocabularies (`graph/model.py`).
LineKind = CreditLineKind
LineStatus = CreditLineStatus


@dataclass(frozen=True)
class LineSpec:
    id: str
    enterprise_id: str
    kind: LineKind
    limit_minor: int
    currency: str
    expires_on: date
    parent_id: str | None = None
    product_id: str | None = None
    tier: int | None = None  # a TIER line: the tier (1..5) of the suppliers it serves
    funder_id: str = DEFAULT_FUNDER  # the funder that grants it (and whose book it is in)


@dataclass(frozen=True)
class LineUsage:
    id: str
    kind: str
    status: str
    currency: str
    limit_minor: int
    used_minor: int  # posted occupation
    held_minor: int  # pending occupation (reserved, not yet drawn)
    expires_on: date | None

    @property
    def available_minor(self) -> int:
        return self.limit_minor - self.used_minor - self.held_minor


def _now() -> datetime:
    return datetime.now(UTC)


def _native_date(x: Any) -> date | None:
    return x.to_native() if hasattr(x, "to_native") else x  # type: ignore[no-any-return]


def check_spec(spec: LineSpec) -> None:
    """Refuse a line whose terms contradict each other (no graph read)."""
    if spec.limit_minor <= 0:
        raise FinanceError("a credit line's limit must be positive")
    if (spec.kind == LineKind.TIER) != (spec.tier is not None):
        raise FinanceError("a tier sub-limit, and only a tier sub-limit, names its tier")
    if spec.kind == LineKind.TIER and (spec.parent_id is None or not 1 <= (spec.tier or 0) <= 5):
        raise FinanceError("a tier sub-limit has a tier from 1 to 5 and a supply-chain parent")


def grant_line(driver: Driver, database: str, spec: LineSpec) -> LineUsage:
    """Create a line and fund its limit account; granting the same id again is a no-op."""
    check_spec(spec)
    now = _now()

    def work(tx: ManagedTransaction) -> None:
        props = {
            "kind": spec.kind.value,
            "currency": spec.currency,
            "limit_minor": spec.limit_minor,
            "expires_on": spec.expires_on,
            "product_id": spec.product_id,
            "tier": spec.tier,
            "funder_id": spec.funder_id,
        }
        got = q.merge_line(tx, spec.id, spec.enterprise_id, spec.parent_id, props, now)
        if got is None:
            raise NotFound(f"enterprise {spec.enterprise_id} does not exist")
        if not got["parent_ok"]:
            raise NotFound(f"parent line {spec.parent_id} does not exist")
        if got["line"]["currency"] != spec.currency:
            raise FinanceError(f"line {spec.id} exists in another currency")
        ledger.ensure_accounts_tx(
            tx,
            [
                lender_account(AccountCode.LIMIT_SOURCE, spec.currency, spec.funder_id),
                *limit_accounts(spec.id, spec.currency, spec.funder_id),
            ],
        )
        ledger.require_ok(
            ledger.create_transfers_tx(
                tx,
                [
                    TransferRequest(
                        f"grant:{spec.id}",
                        lender_account(AccountCode.LIMIT_SOURCE, spec.currency, spec.funder_id).id,
                        limit_id(spec.id, spec.currency),
                        spec.limit_minor,
                        spec.currency,
                        code="limit_grant",
                        ref=spec.id,
                    )
                ],
                now,
            )
        )

    ledger.run_write(driver, database, work)
    return usage(driver, database, spec.id)


def change_limit(
    driver: Driver, database: str, line_id: str, new_limit_minor: int, request_id: str
) -> LineUsage:
    """Raise or cut a limit; a cut below what is used or held is refused by the ledger."""
    now = _now()

    def work(tx: ManagedTransaction) -> None:
        path = q.line_path(tx, line_id)
        if not path:
            raise NotFound(f"credit line {line_id} does not exist")
        line = path[0]
        ccy = line["currency"]
        lim = ledger.Account.from_row(
            q.lock_accounts(tx, [limit_id(line_id, ccy)])[limit_id(line_id, ccy)]
        )
        line = q.line_path(tx, line_id)[0]  # re-read under the account lock
        delta = new_limit_minor - int(line["limit_minor"])
        if delta == 0:
            return
        src = lender_account(AccountCode.LIMIT_SOURCE, ccy, book_of(line)).id
        dr, cr = (src, lim.id) if delta > 0 else (lim.id, src)
        res = ledger.create_transfers_tx(
            tx,
            [
                TransferRequest(
                    f"limit:{line_id}:{request_id}",
                    dr,
                    cr,
                    abs(delta),
                    ccy,
                    code="limit_change",
                    ref=line_id,
                )
            ],
            now,
        )
        if res[0].status == TransferStatus.EXCEEDS_CREDITS:
            raise LimitExceeded(
                f"cannot cut line {line_id} to {new_limit_minor}: more is used or reserved"
            )
        ledger.require_ok(res)
        q.set_line_limit(tx, line_id, new_limit_minor)

    ledger.run_write(driver, database, work)
    return usage(driver, database, line_id)


def set_status(driver: Driver, database: str, line_id: str, frozen: bool, reason: str) -> LineUsage:
    """Freeze (no new occupation anywhere below this line) or unfreeze."""
    now = _now()

    def work(tx: ManagedTransaction) -> None:
        path = q.line_path(tx, line_id)
        if not path:
            raise NotFound(f"credit line {line_id} does not exist")
        if path[0]["status"] == LineStatus.EXPIRED:
            raise InvalidState(f"line {line_id} has expired")
        status = LineStatus.FROZEN if frozen else LineStatus.ACTIVE
        q.set_line_status(tx, line_id, status.value, reason, now)

    ledger.run_write(driver, database, work)
    return usage(driver, database, line_id)


def expire_lines(driver: Driver, database: str, today: date) -> list[str]:
    """Mark lines past their expiry date as expired; returns their ids."""
    now = _now()
    return ledger.run_write(driver, database, lambda tx: q.expire_lines(tx, today, now))


def usage(driver: Driver, database: str, line_id: str) -> LineUsage:
    path = q.line_path_read(driver, database, line_id)
    if not path:
        raise NotFound(f"credit line {line_id} does not exist")
    line = path[0]
    ccy = line["currency"]
    accounts = ledger.get_accounts(
        driver, database, [limit_id(line_id, ccy), limit_used_id(line_id, ccy)]
    )
    lim, use = accounts[limit_id(line_id, ccy)], accounts[limit_used_id(line_id, ccy)]
    used = use.credit_balance  # occupations posted less releases
    held = lim.debits_pending
    return LineUsage(
        line_id,
        line["kind"],
        line["status"],
        ccy,
        lim.available_credit + used + held,
        used,
        held,
        _native_date(line.get("expires_on")),
    )


def lines_of(driver: Driver, database: str, enterprise_id: str) -> list[LineUsage]:
    return [usage(driver, database, r["id"]) for r in q.lines_of(driver, database, enterprise_id)]


# --------------------------------------------------------------------------------------
# Occupation inside a business transaction
# --------------------------------------------------------------------------------------


def _check_path(path: list[dict[str, Any]], line_id: str, on: date) -> None:
    if not path:
        raise NotFound(f"credit line {line_id} does not exist")
    for level in path:
        if level["status"] == LineStatus.FROZEN:
            raise InvalidState(
                f"credit line {level['id']} is frozen ({level.get('status_reason') or 'no reason'})"
            )
        expires = _native_date(level.get("expires_on"))
        if level["status"] == LineStatus.EXPIRED or (expires is not None and on > expires):
            raise InvalidState(f"credit line {level['id']} expired on {expires}")


def occupy_tx(
    tx: ManagedTransaction,
    line_id: str,
    amount: int,
    key: str,
    *,
    pending: bool,
    ref: str,
    on: date,
    now: datetime,
    linked_tail: bool = False,
    path: list[dict[str, Any]] | None = None,
) -> list[TransferRequest]:
    """Requests that occupy `amount` on the line and every ancestor (linked: all or none).

    Returned, not executed, so that the caller commits them in one chain with its other
    postings (`linked_tail=True` keeps the chain open for what follows). ``path`` is the
    line's path as the caller read it in this transaction (read here when not given).
    """
    path = path or q.line_path(tx, line_id)
    _check_path(path, line_id, on)
    ccy = path[0]["currency"]
    kind = TransferKind.PENDING if pending else TransferKind.SINGLE
    reqs = [
        TransferRequest(
            f"{key}:occ:{level['id']}",
            limit_id(level["id"], ccy),
            limit_used_id(level["id"], ccy),
            amount,
            ccy,
            kind=kind,
            linked=True,
            code="limit_occupy",
            ref=ref,
        )
        for level in path
    ]
    if not linked_tail:
        reqs[-1] = _unlinked(reqs[-1])
    return reqs


def confirm_requests(
    hold_key: str, path_ids: list[str], key: str, *, void: bool = False, amount: int = 0
) -> list[TransferRequest]:
    """POST (draw) or VOID (release) the pending holds made by `occupy_tx` under `hold_key`."""
    kind = TransferKind.VOID if void else TransferKind.POST
    return [
        TransferRequest(
            f"{key}:{kind.value}:{lid}",
            kind=kind,
            pending_id=f"{hold_key}:occ:{lid}",
            amount=amount,
            linked=True,
            code="limit_" + kind.value,
        )
        for lid in path_ids
    ]


def release_requests(
    tx: ManagedTransaction, line_id: str, amount: int, key: str, ref: str
) -> list[TransferRequest]:
    """Reverse postings that free `amount` of posted occupation on every level (repayment)."""
    path = q.line_path(tx, line_id)
    if not path:
        raise NotFound(f"credit line {line_id} does not exist")
    ccy = path[0]["currency"]
    return [
        TransferRequest(
            f"{key}:rel:{level['id']}",
            limit_used_id(level["id"], ccy),
            limit_id(level["id"], ccy),
            amount,
            ccy,
            linked=True,
            code="limit_release",
            ref=ref,
        )
        for level in path
    ]


def path_ids(tx: ManagedTransaction, line_id: str) -> list[str]:
    return [level["id"] for level in q.line_path(tx, line_id)]


def _unlinked(r: TransferRequest) -> TransferRequest:
    return replace(r, linked=False)


def close_chain(reqs: list[TransferRequest]) -> list[TransferRequest]:
    """The same requests with the last one unlinked, so the chain commits as one."""
    return [*reqs[:-1], _unlinked(reqs[-1])] if reqs else reqs


def raise_for(results: list[TransferResult], line_id: str, amount: int) -> None:
    """Translate a failed occupation into the error a caller understands."""
    for r in results:
        if r.status == TransferStatus.EXCEEDS_CREDITS:
            raise LimitExceeded(
                f"credit line {line_id} (or a line above it) has less than {amount} available"
            )
    ledger.require_ok(results)


# --------------------------------------------------------------------------------------
# A plain drawdown: occupy the line and pay out, in one transaction
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drawdown:
    request_id: str
    line_id: str
    amount_minor: int
    transfer_id: str  # the payout transfer


# In-process stripes keyed by a line's root: occupations of one line tree from this process
# queue here instead of in Neo4j's lock manager, where 40 concurrent drawdowns on one line
# deadlocked on the accounts they share (~80 DeadlockDetected retries in 200) and, in the
# retry storm, a driver connection could hang. Other processes still meet at the database
# locks, with retries bounded by `ledger.run_write`.
_STRIPES = tuple(threading.Lock() for _ in range(64))


@contextmanager
def line_guard(driver: Driver, database: str, line_id: str | None) -> Iterator[None]:
    """Hold this process's stripe for the tree of ``line_id`` (found by a plain read); no
    line, nothing to hold."""
    if line_id is None:
        yield
        return
    path = q.line_path_read(driver, database, line_id)
    root = path[-1]["id"] if path else line_id
    with _STRIPES[zlib.crc32(root.encode()) % len(_STRIPES)]:
        yield


@dataclass(frozen=True)
class DrawdownJob:
    """A drawdown as a ledger job (`finance.batching`): committed alone by `drawdown`, or
    with others by the API's group committer. Its chain occupies every level of the line
    and pays out, so it commits whole or not at all."""

    line_id: str
    amount_minor: int
    request_id: str
    on: date | None = None

    @property
    def key(self) -> str:
        return f"dd:{self.request_id}"

    @property
    def payout_id(self) -> str:
        return f"dd:{self.request_id}:payout"

    def prepare(self, tx: ManagedTransaction, now: datetime) -> Prepared:
        path = q.line_path(tx, self.line_id)
        if not path:
            raise NotFound(f"credit line {self.line_id} does not exist")
        ccy, borrower = path[0]["currency"], path[0]["enterprise_id"]
        loans = lender_account(AccountCode.LOANS, ccy, book_of(path[0]))
        settle = settlement_account(borrower, ccy, book_of(path[0]))
        occ = occupy_tx(
            tx,
            self.line_id,
            self.amount_minor,
            self.key,
            pending=False,
            ref=self.request_id,
            on=self.on or now.date(),
            now=now,
            linked_tail=True,
            path=path,
        )
        payout = TransferRequest(
            self.payout_id,
            loans.id,
            settle.id,
            self.amount_minor,
            ccy,
            code="disbursement",
            ref=self.request_id,
        )
        return Prepared([loans, settle], [*occ, payout])

    def finish(self, results: list[TransferResult], accounts: Mapping[str, Any]) -> Drawdown:
        raise_for(results, self.line_id, self.amount_minor)
        return Drawdown(self.request_id, self.line_id, self.amount_minor, self.payout_id)


def drawdown(
    driver: Driver,
    database: str,
    line_id: str,
    amount_minor: int,
    request_id: str,
    on: date | None = None,
) -> Drawdown:
    """Occupy `amount_minor` on a line (and its ancestors) and pay it into the borrower's
    settlement account, all or nothing; retrying the same request id changes nothing."""
    with line_guard(driver, database, line_id):
        return run_alone(driver, database, DrawdownJob(line_id, amount_minor, request_id, on))
