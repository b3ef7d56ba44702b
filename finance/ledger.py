"""A double-entry ledger in Neo4j, in the spirit of TigerBeetle.

- Transfers are immutable nodes (CREATE only), keyed by an idempotency id: a retry with the
  same fields returns the existing transfer; the same id with other fields is refused.
- Amounts are integer minor units; a transfer's two accounts share its currency.
- Two-phase: a PENDING transfer reserves amounts (pending totals); a POST (full or partial)
  or a VOID resolves it exactly once.
- LINKED transfers commit all or nothing with the transfers that follow them up to and
  including the first unlinked one.
- Accounts may forbid debits beyond credits (or the reverse), counting pending amounts, so
  a limit cannot be overdrawn. The accounts of a batch are write-locked (in id order) before
  balances are read, so concurrent batches serialise on shared accounts.
- Running totals on Account are updated in the same transaction as the transfers; balances
  as of a time and statements are computed from the transfers themselves.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from neo4j import Driver, ManagedTransaction, unit_of_work
from neo4j.exceptions import (
    ConstraintError,
    DriverError,
    Neo4jError,
    ResultFailedError,
    ServiceUnavailable,
    SessionExpired,
)

from finance.accounts import AccountSpec
from finance.errors import Contention, FinanceError, IdempotencyConflict, LedgerRejected, NotFound
from graph.errors import DatabaseUnavailable
from graph.queries import finance as q

T = TypeVar("T")
MAX_WRITE_ATTEMPTS = 20
# A write that collides for longer than this gives up (Contention); one attempt's server time.
WRITE_DEADLINE_S = 30.0
WRITE_TIMEOUT_S = 10.0


class TransferKind(StrEnum):
    SINGLE = "single"  # posted at once
    PENDING = "pending"  # reserves; resolved later by POST or VOID
    POST = "post"  # posts (part of) a pending transfer
    VOID = "void"  # releases a pending transfer


class TransferStatus(StrEnum):
    CREATED = "created"
    EXISTS = "exists"
    EXISTS_WITH_DIFFERENT_FIELDS = "exists_with_different_fields"
    DUPLICATE_IN_BATCH = "duplicate_in_batch"
    ACCOUNT_NOT_FOUND = "account_not_found"
    ACCOUNTS_MUST_DIFFER = "accounts_must_differ"
    AMOUNT_MUST_BE_POSITIVE = "amount_must_be_positive"
    CURRENCY_MISMATCH = "currency_mismatch"
    EXCEEDS_CREDITS = "exceeds_credits"
    EXCEEDS_DEBITS = "exceeds_debits"
    PENDING_ID_REQUIRED = "pending_id_required"
    PENDING_NOT_FOUND = "pending_not_found"
    NOT_PENDING = "pending_transfer_not_pending"
    PENDING_ALREADY_POSTED = "pending_already_posted"
    PENDING_ALREADY_VOIDED = "pending_already_voided"
    EXCEEDS_PENDING_AMOUNT = "exceeds_pending_amount"
    LINKED_EVENT_FAILED = "linked_event_failed"
    LINKED_CHAIN_OPEN = "linked_event_chain_open"

    @property
    def ok(self) -> bool:
        return self in (TransferStatus.CREATED, TransferStatus.EXISTS)


@dataclass(frozen=True)
class TransferRequest:
    """What a caller asks for. For POST and VOID, accounts and currency come from the pending
    transfer and may be left empty; a POST with amount 0 posts the full pending amount."""

    id: str
    debit_account_id: str = ""
    credit_account_id: str = ""
    amount: int = 0
    currency: str = ""
    kind: TransferKind = TransferKind.SINGLE
    pending_id: str = ""
    linked: bool = False
    code: str = ""  # business reason: disbursement, repayment, accrual, hold ...
    ref: str = ""  # business reference: financing, voucher or credit-line id
    value_at: datetime | None = None  # business time; defaults to the creation time


@dataclass(frozen=True)
class Transfer:
    id: str
    debit_account_id: str
    credit_account_id: str
    amount: int
    currency: str
    kind: TransferKind
    pending_id: str
    linked: bool
    code: str
    ref: str
    value_at: datetime
    created_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Transfer:
        return cls(
            id=row["id"],
            debit_account_id=row["debit_account_id"],
            credit_account_id=row["credit_account_id"],
            amount=row["amount"],
            currency=row["currency"],
            kind=TransferKind(row["kind"]),
            pending_id=row.get("pending_id") or "",
            linked=bool(row.get("linked")),
            code=row.get("code") or "",
            ref=row.get("ref") or "",
            value_at=_native(row["value_at"]),
            created_at=_native(row["created_at"]),
        )

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "debit_account_id": self.debit_account_id,
            "credit_account_id": self.credit_account_id,
            "amount": self.amount,
            "currency": self.currency,
            "kind": self.kind.value,
            "pending_id": self.pending_id,
            "linked": self.linked,
            "code": self.code,
            "ref": self.ref,
            "value_at": self.value_at.isoformat(),
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class TransferResult:
    id: str
    status: TransferStatus
    transfer: Transfer | None = None


@dataclass
class Account:
    id: str
    code: str
    kind: str
    currency: str
    name: str
    owner_id: str
    debits_must_not_exceed_credits: bool
    credits_must_not_exceed_debits: bool
    debits_posted: int = 0
    credits_posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Account:
        return cls(
            id=row["id"],
            code=row["code"],
            kind=row["kind"],
            currency=row["currency"],
            name=row.get("name") or "",
            owner_id=row.get("owner_id") or "",
            debits_must_not_exceed_credits=bool(row.get("debits_must_not_exceed_credits")),
            credits_must_not_exceed_debits=bool(row.get("credits_must_not_exceed_debits")),
            debits_posted=row["debits_posted"],
            credits_posted=row["credits_posted"],
            debits_pending=row["debits_pending"],
            credits_pending=row["credits_pending"],
        )

    @property
    def debit_balance(self) -> int:
        """Posted debits minus posted credits (negative for a credit balance)."""
        return self.debits_posted - self.credits_posted

    @property
    def credit_balance(self) -> int:
        return self.credits_posted - self.debits_posted

    @property
    def available_credit(self) -> int:
        """For a debits-must-not-exceed-credits account: what may still be debited."""
        return self.credits_posted - self.debits_posted - self.debits_pending


def _native(value: Any) -> datetime:
    return value.to_native() if hasattr(value, "to_native") else value  # type: ignore[no-any-return]


def _now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------
# Accounts
# --------------------------------------------------------------------------------------


def ensure_accounts_tx(tx: ManagedTransaction, specs: Sequence[AccountSpec]) -> None:
    """Create missing accounts (MERGE on id); an existing id keeps what it was created with."""
    if not specs:
        return
    rows = [{"id": s.id, "props": s.props()} for s in specs]
    for got in q.ensure_accounts(tx, rows):
        spec = next(s for s in specs if s.id == got["id"])
        if got["currency"] != spec.currency:
            raise FinanceError(
                f"account {spec.id} exists in {got['currency']}, not {spec.currency}"
            )


def ensure_accounts(driver: Driver, database: str, specs: Sequence[AccountSpec]) -> None:
    with driver.session(database=database) as session:
        session.execute_write(ensure_accounts_tx, list(specs))


def get_account(driver: Driver, database: str, account_id: str) -> Account:
    rows = q.get_accounts(driver, database, [account_id])
    if account_id not in rows:
        raise NotFound(f"account {account_id} does not exist")
    return Account.from_row(rows[account_id])


def get_accounts(driver: Driver, database: str, ids: Sequence[str]) -> dict[str, Account]:
    return {k: Account.from_row(v) for k, v in q.get_accounts(driver, database, ids).items()}


# --------------------------------------------------------------------------------------
# Transfers
# --------------------------------------------------------------------------------------


@dataclass
class _Totals:
    dp: int = 0
    cp: int = 0
    dq: int = 0
    cq: int = 0


@dataclass
class _State:
    accounts: dict[str, dict[str, Any]]
    known: dict[str, Transfer]  # existing and created-in-batch transfers by id
    resolved: dict[str, str]  # pending id -> kind of its resolution
    deltas: dict[str, _Totals] = field(default_factory=dict)

    journal: list[tuple[str, str, Any]] = field(default_factory=list)

    def mark(self) -> int:
        return len(self.journal)

    def rollback(self, mark: int) -> None:
        """Undo every change made since `mark` (a failed linked chain leaves no trace)."""
        while len(self.journal) > mark:
            what, key, value = self.journal.pop()
            if what == "move":
                dp, cp, dq, cq = value
                self._apply(key, -dp, -cp, -dq, -cq)
            elif what == "known":
                self.known.pop(key, None)
            else:
                self.resolved.pop(key, None)

    def add_known(self, t: Transfer) -> None:
        self.known[t.id] = t
        self.journal.append(("known", t.id, None))

    def resolve(self, pending_id: str, kind: str) -> None:
        self.resolved[pending_id] = kind
        self.journal.append(("resolved", pending_id, None))

    def move(self, account_id: str, *, dp: int = 0, cp: int = 0, dq: int = 0, cq: int = 0) -> None:
        self._apply(account_id, dp, cp, dq, cq)
        self.journal.append(("move", account_id, (dp, cp, dq, cq)))

    def _apply(self, account_id: str, dp: int, cp: int, dq: int, cq: int) -> None:
        a = self.accounts[account_id]
        a["debits_posted"] += dp
        a["credits_posted"] += cp
        a["debits_pending"] += dq
        a["credits_pending"] += cq
        d = self.deltas.setdefault(account_id, _Totals())
        d.dp += dp
        d.cp += cp
        d.dq += dq
        d.cq += cq


def _same(req: TransferRequest, t: Transfer) -> bool:
    """Whether a retried request asks for exactly the existing transfer."""
    if req.kind != t.kind or req.pending_id != t.pending_id or req.linked != t.linked:
        return False
    if req.code != t.code or req.ref != t.ref:
        return False
    if req.debit_account_id and req.debit_account_id != t.debit_account_id:
        return False
    if req.credit_account_id and req.credit_account_id != t.credit_account_id:
        return False
    if req.currency and req.currency != t.currency:
        return False
    return not (req.amount and req.amount != t.amount)


def _limits_ok(a: dict[str, Any], debit: int, credit: int) -> TransferStatus | None:
    if (
        a.get("debits_must_not_exceed_credits")
        and debit
        and (a["debits_posted"] + a["debits_pending"] + debit > a["credits_posted"])
    ):
        return TransferStatus.EXCEEDS_CREDITS
    if (
        a.get("credits_must_not_exceed_debits")
        and credit
        and (a["credits_posted"] + a["credits_pending"] + credit > a["debits_posted"])
    ):
        return TransferStatus.EXCEEDS_DEBITS
    return None


def _apply_one(
    req: TransferRequest, st: _State, now: datetime
) -> tuple[TransferStatus, Transfer | None]:
    existing = st.known.get(req.id)
    if existing is not None:
        if _same(req, existing):
            return TransferStatus.EXISTS, existing
        return TransferStatus.EXISTS_WITH_DIFFERENT_FIELDS, existing
    value_at = req.value_at or now
    if req.kind in (TransferKind.POST, TransferKind.VOID):
        if not req.pending_id:
            return TransferStatus.PENDING_ID_REQUIRED, None
        p = st.known.get(req.pending_id)
        if p is None:
            return TransferStatus.PENDING_NOT_FOUND, None
        if p.kind != TransferKind.PENDING:
            return TransferStatus.NOT_PENDING, None
        done = st.resolved.get(p.id)
        if done == TransferKind.POST:
            return TransferStatus.PENDING_ALREADY_POSTED, None
        if done == TransferKind.VOID:
            return TransferStatus.PENDING_ALREADY_VOIDED, None
        if (req.debit_account_id and req.debit_account_id != p.debit_account_id) or (
            req.credit_account_id and req.credit_account_id != p.credit_account_id
        ):
            return TransferStatus.EXISTS_WITH_DIFFERENT_FIELDS, None
        if req.currency and req.currency != p.currency:
            return TransferStatus.CURRENCY_MISMATCH, None
        if req.amount < 0:
            return TransferStatus.AMOUNT_MUST_BE_POSITIVE, None
        amount = p.amount if req.kind == TransferKind.VOID or req.amount == 0 else req.amount
        if amount > p.amount:
            return TransferStatus.EXCEEDS_PENDING_AMOUNT, None
        st.move(p.debit_account_id, dq=-p.amount)
        st.move(p.credit_account_id, cq=-p.amount)
        if req.kind == TransferKind.POST:
            dr, cr = st.accounts[p.debit_account_id], st.accounts[p.credit_account_id]
            bad = _limits_ok(dr, amount, 0) or _limits_ok(cr, 0, amount)
            if bad:
                return bad, None
            st.move(p.debit_account_id, dp=amount)
            st.move(p.credit_account_id, cp=amount)
        t = Transfer(
            req.id,
            p.debit_account_id,
            p.credit_account_id,
            amount,
            p.currency,
            req.kind,
            p.id,
            req.linked,
            req.code,
            req.ref,
            value_at,
            now,
        )
        st.resolve(p.id, req.kind.value)
        st.add_known(t)
        return TransferStatus.CREATED, t
    if req.pending_id:
        return TransferStatus.EXISTS_WITH_DIFFERENT_FIELDS, None
    if req.amount <= 0:
        return TransferStatus.AMOUNT_MUST_BE_POSITIVE, None
    if req.debit_account_id == req.credit_account_id:
        return TransferStatus.ACCOUNTS_MUST_DIFFER, None
    dra = st.accounts.get(req.debit_account_id)
    cra = st.accounts.get(req.credit_account_id)
    if dra is None or cra is None:
        return TransferStatus.ACCOUNT_NOT_FOUND, None
    dr, cr = dra, cra
    if not (req.currency == dr["currency"] == cr["currency"]):
        return TransferStatus.CURRENCY_MISMATCH, None
    bad = _limits_ok(dr, req.amount, 0) or _limits_ok(cr, 0, req.amount)
    if bad:
        return bad, None
    if req.kind == TransferKind.PENDING:
        st.move(req.debit_account_id, dq=req.amount)
        st.move(req.credit_account_id, cq=req.amount)
    else:
        st.move(req.debit_account_id, dp=req.amount)
        st.move(req.credit_account_id, cp=req.amount)
    t = Transfer(
        req.id,
        req.debit_account_id,
        req.credit_account_id,
        req.amount,
        req.currency,
        req.kind,
        "",
        req.linked,
        req.code,
        req.ref,
        value_at,
        now,
    )
    st.add_known(t)
    return TransferStatus.CREATED, t


def _chains(requests: Sequence[TransferRequest]) -> list[list[int]]:
    chains: list[list[int]] = []
    current: list[int] = []
    for i, r in enumerate(requests):
        current.append(i)
        if not r.linked:
            chains.append(current)
            current = []
    if current:
        chains.append(current)
    return chains


def create_transfers_tx(
    tx: ManagedTransaction,
    requests: Sequence[TransferRequest],
    now: datetime | None = None,
    *,
    balances: dict[str, Account] | None = None,
) -> list[TransferResult]:
    """Check and write a batch inside the caller's transaction; one result per request.

    Failed requests write nothing; callers composing a business operation usually follow
    with `require_ok` so that the whole transaction rolls back on any failure. ``balances``,
    when given, receives every account the batch locked as the batch leaves it (no extra
    round trip; `finance.batching` answers each caller with it).
    """
    now = now or _now()
    ids = [r.id for r in requests]
    pending_ids = sorted({r.pending_id for r in requests if r.pending_id})
    # Pending transfers are immutable, so reading them before taking locks is safe.
    pendings = {k: Transfer.from_row(v) for k, v in q.get_transfers_tx(tx, pending_ids).items()}
    account_ids = {a for r in requests for a in (r.debit_account_id, r.credit_account_id) if a}
    account_ids |= {a for p in pendings.values() for a in (p.debit_account_id, p.credit_account_id)}
    # Lock the accounts; then, under the locks, what exists and what was resolved meanwhile.
    accounts, existing_rows, resolutions = q.prepare_batch(
        tx, sorted(account_ids), ids, pending_ids
    )
    existing = {k: Transfer.from_row(v) for k, v in existing_rows.items()}
    st = _State(accounts, {**pendings, **existing}, {k: v["kind"] for k, v in resolutions.items()})
    results: list[TransferResult | None] = [None] * len(requests)
    created: list[Transfer] = []
    seen: set[str] = set()
    for chain in _chains(requests):
        mark = st.mark()
        chain_created: list[Transfer] = []
        failed: int | None = None
        statuses: dict[int, tuple[TransferStatus, Transfer | None]] = {}
        for i in chain:
            req = requests[i]
            if req.id in seen and req.id not in st.known:
                statuses[i] = (TransferStatus.DUPLICATE_IN_BATCH, None)
            else:
                statuses[i] = _apply_one(req, st, now)
            seen.add(req.id)
            status, t = statuses[i]
            if not status.ok:
                failed = i
                break
            if status == TransferStatus.CREATED and t is not None:
                chain_created.append(t)
        open_chain = requests[chain[-1]].linked
        if failed is None and not open_chain:
            created += chain_created
            for i in chain:
                results[i] = TransferResult(requests[i].id, *statuses[i])
            continue
        st.rollback(mark)
        for i in chain:
            if i == failed:
                results[i] = TransferResult(requests[i].id, statuses[i][0], statuses[i][1])
            elif open_chain and failed is None:
                results[i] = TransferResult(requests[i].id, TransferStatus.LINKED_CHAIN_OPEN)
            else:
                results[i] = TransferResult(requests[i].id, TransferStatus.LINKED_EVENT_FAILED)
    deltas = [
        {"id": k, "dp": d.dp, "cp": d.cp, "dq": d.dq, "cq": d.cq}
        for k, d in sorted(st.deltas.items())
        if d.dp or d.cp or d.dq or d.cq
    ]
    q.commit_batch(tx, [t.row() for t in created], deltas)
    if balances is not None:
        balances.update({k: Account.from_row(v) for k, v in st.accounts.items()})
    return [r for r in results if r is not None]


def require_ok(results: Sequence[TransferResult]) -> list[Transfer]:
    """The transfers of an all-successful batch, else LedgerRejected naming the first failure."""
    for r in results:
        if r.status == TransferStatus.EXISTS_WITH_DIFFERENT_FIELDS:
            raise IdempotencyConflict(f"transfer {r.id} already exists with different fields")
        if not r.status.ok:
            raise LedgerRejected(f"transfer {r.id} rejected: {r.status.value}", list(results))
    return [r.transfer for r in results if r.transfer is not None]


def run_write(driver: Driver, database: str, fn: Callable[[ManagedTransaction], T]) -> T:
    """Run one business operation as one managed write transaction.

    Two transactions creating the same new transfer id on disjoint accounts are not
    serialised by account locks; the loser hits the uniqueness constraint and runs again,
    now seeing the winner's transfer. A deadlock that the driver reports as a failed result
    while rolling back (`ResultFailedError` caused by a retryable error) is retried here too.
    Retries stop after WRITE_DEADLINE_S (each attempt's server time bounded by
    WRITE_TIMEOUT_S): under a storm of concurrent writes to one line the caller gets
    `Contention` (nothing written, safe to send again) instead of waiting for minutes.
    """
    conflicts = 0
    deadline = time.monotonic() + WRITE_DEADLINE_S
    work = unit_of_work(timeout=WRITE_TIMEOUT_S)(fn)
    for attempt in range(MAX_WRITE_ATTEMPTS):
        try:
            with driver.session(database=database) as session:
                return session.execute_write(work)
        except ConstraintError as e:
            conflicts += 1
            if conflicts == 3:
                raise FinanceError(f"write conflicts persisted: {e.message}") from e
        except (ServiceUnavailable, SessionExpired) as e:
            # The driver has already retried for its max_transaction_retry_time: the server
            # is gone. Answer now (503) rather than spin until the write deadline.
            raise DatabaseUnavailable(
                "the database cannot be reached; nothing was acknowledged: send the same "
                "request again later"
            ) from e
        except (ResultFailedError, Neo4jError) as e:
            cause = e.__cause__ if isinstance(e, ResultFailedError) else e
            retryable = isinstance(cause, (Neo4jError, DriverError)) and (
                cause.is_retryable() or _timed_out(cause)
            )
            if not retryable:
                raise
            if attempt == MAX_WRITE_ATTEMPTS - 1 or time.monotonic() > deadline:
                raise Contention(
                    f"the write kept colliding with concurrent writes for "
                    f"{WRITE_DEADLINE_S:.0f} s; nothing was written, send it again"
                ) from e
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    raise FinanceError("the write could not be completed")


def _timed_out(error: Neo4jError | DriverError) -> bool:
    """The server ended the attempt at WRITE_TIMEOUT_S (a client error, so not retryable):
    `TransactionTimedOut...`, or `LockClientStopped` when the attempt was waiting for a lock
    at that moment (40 concurrent approvals on one line met it before they were queued)."""
    code = (error.code or "") if isinstance(error, Neo4jError) else ""
    return code.startswith("Neo.ClientError.Transaction.TransactionTimedOut") or (
        code == "Neo.ClientError.Transaction.LockClientStopped"
    )


def create_transfers(
    driver: Driver, database: str, requests: Sequence[TransferRequest]
) -> list[TransferResult]:
    """Commit a batch in one transaction; failed requests are reported, the rest commit."""
    reqs = list(requests)
    return run_write(driver, database, lambda tx: create_transfers_tx(tx, reqs))


def create_transfer(driver: Driver, database: str, request: TransferRequest) -> Transfer:
    """One transfer, or an error saying why not; a retry returns the same transfer."""
    return require_ok(create_transfers(driver, database, [request]))[0]


# --------------------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    account_id: str
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int

    @property
    def debit_balance(self) -> int:
        return self.debits_posted - self.credits_posted


@dataclass(frozen=True)
class StatementLine:
    transfer_id: str
    value_at: datetime
    kind: TransferKind
    code: str
    ref: str
    debit: int
    credit: int
    balance: int  # posted debit balance after this line


def _posted(t: Transfer) -> bool:
    return t.kind in (TransferKind.SINGLE, TransferKind.POST)


def balance_as_of(
    driver: Driver, database: str, account_id: str, at: datetime | None = None
) -> Balance:
    """Balances from the transfers with value time up to `at` (all when None)."""
    rows, resolved = q.account_transfers(driver, database, account_id, None, at)
    dp = cp = dq = cq = 0
    for t in map(Transfer.from_row, rows):
        if _posted(t):
            dp += t.amount if t.debit_account_id == account_id else 0
            cp += t.amount if t.credit_account_id == account_id else 0
        elif t.kind == TransferKind.PENDING and t.id not in resolved:
            dq += t.amount if t.debit_account_id == account_id else 0
            cq += t.amount if t.credit_account_id == account_id else 0
    return Balance(account_id, dp, cp, dq, cq)


def statement(
    driver: Driver,
    database: str,
    account_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[StatementLine]:
    """Posted movements of an account in a window with the running debit balance."""
    opening = 0
    if since is not None:
        rows_before, _ = q.account_transfers(driver, database, account_id, None, since)
        for t in map(Transfer.from_row, rows_before):
            if _posted(t) and t.value_at < since:
                opening += t.amount if t.debit_account_id == account_id else -t.amount
    rows, _ = q.account_transfers(driver, database, account_id, since, until)
    lines: list[StatementLine] = []
    balance = opening
    for t in map(Transfer.from_row, rows):
        if not _posted(t):
            continue
        debit = t.amount if t.debit_account_id == account_id else 0
        credit = t.amount if t.credit_account_id == account_id else 0
        balance += debit - credit
        lines.append(StatementLine(t.id, t.value_at, t.kind, t.code, t.ref, debit, credit, balance))
    return lines


@dataclass(frozen=True)
class TrialBalanceLine:
    code: str
    kind: str
    debits: int
    credits: int

    @property
    def balance(self) -> int:
        return self.debits - self.credits


@dataclass(frozen=True)
class TrialBalance:
    currency: str | None
    lines: list[TrialBalanceLine]
    funder_id: str | None = None  # one funder's book; None: every account on the platform

    @property
    def total_debits(self) -> int:
        return sum(line.debits for line in self.lines)

    @property
    def total_credits(self) -> int:
        return sum(line.credits for line in self.lines)

    @property
    def balanced(self) -> bool:
        return self.total_debits == self.total_credits


def trial_balance(
    driver: Driver, database: str, currency: str | None = None, funder_id: str | None = None
) -> TrialBalance:
    """Posted debits and credits per chart code, from the accounts' running totals: of one
    funder's book when ``funder_id`` is given (each balances on its own: payments between
    books pass through both funders' cash accounts), else of every account."""
    by_code: dict[str, list[int]] = {}
    kinds: dict[str, str] = {}
    for row in q.all_accounts(driver, database, currency, funder_id):
        acc = by_code.setdefault(row["code"], [0, 0])
        acc[0] += row["debits_posted"]
        acc[1] += row["credits_posted"]
        kinds[row["code"]] = row["kind"]
    lines = [TrialBalanceLine(c, kinds[c], d, cr) for c, (d, cr) in sorted(by_code.items())]
    return TrialBalance(currency, lines, funder_id)


def recompute_totals(driver: Driver, database: str) -> dict[str, Balance]:
    """Every account's totals recomputed from all transfers (audits the running totals)."""
    transfers = [Transfer.from_row(r) for r in q.all_transfers(driver, database)]
    resolved = {t.pending_id for t in transfers if t.kind in (TransferKind.POST, TransferKind.VOID)}
    sums: dict[str, list[int]] = {}
    for t in transfers:
        dr = sums.setdefault(t.debit_account_id, [0, 0, 0, 0])
        cr = sums.setdefault(t.credit_account_id, [0, 0, 0, 0])
        if _posted(t):
            dr[0] += t.amount
            cr[1] += t.amount
        elif t.kind == TransferKind.PENDING and t.id not in resolved:
            dr[2] += t.amount
            cr[3] += t.amount
    return {k: Balance(k, *v) for k, v in sums.items()}


def all_transfers(driver: Driver, database: str) -> list[Transfer]:
    return [Transfer.from_row(r) for r in q.all_transfers(driver, database)]
