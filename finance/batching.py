"""Group commit for ledger writes: requests that arrive together share one transaction.

One ledger transfer per transaction is bound by the commit's flush (about 15 ms here), and
concurrent writers that touch a shared account (a funder's cash, a line's limit) queue on its
lock for the whole of each other's flush. A `GroupCommitter` gathers the jobs that arrive
while a transaction runs and commits them together:

- callers `submit` a `LedgerJob` and get a future; one writer thread per committer (one
  per database) takes what is waiting — after at most ``wait_s``, or at once when
  ``max_batch`` are waiting — and runs one managed transaction (`ledger.run_write`, so
  deadlocks and transient errors retry with the same bounds as any other write);
- in it, each job reads what it needs (`prepare`) and hands back its transfers as one
  linked chain; the chains of every job go to one `ledger.create_transfers_tx`, which checks
  them in order against the running totals (limits, idempotency, pending holds) and commits
  or refuses each chain on its own, so one job's refusal leaves the others alone and no
  account can be overdrawn by jobs of one group any more than by jobs of two;
- each job then reads its own results (`finish`) and its caller's future gets its own answer
  or its own error; a refused job wrote no transfer;
- when the group's transaction fails as a whole (an error no job owns), each of its jobs runs
  again alone, so one bad request cannot fail the others; an unreachable database (or one
  that gives no connection in time) and a contention past the write deadline fail the
  group's jobs at once (`GROUP_WIDE`: nothing was acknowledged; each may be sent again);
- the queue is bounded: past ``max_queue`` waiting jobs, `submit` refuses with `Busy`
  (HTTP 503, nothing written) instead of growing without bound;
- two jobs with the same key (the same transfer ids) never share a group: the later one
  waits for the next, where it finds the first one's transfers (an idempotent repeat).

The API routes deposits, withdrawals and drawdowns through one committer per process
(`api/app.py`, settings ``ledger_batch_*``); the CLI and tests call the same jobs alone
(`run_alone`), one transaction each, as before.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import (
    ConnectionAcquisitionTimeoutError,
    ServiceUnavailable,
    SessionExpired,
)

from chainlens.logs import get_logger
from finance import ledger
from finance.accounts import AccountSpec
from finance.errors import Busy, Contention, FinanceError
from finance.ledger import Account, TransferRequest, TransferResult, TransferStatus
from graph.errors import DatabaseUnavailable

log = get_logger(__name__)

# Failures of a group that no job owns and that running each job alone would only repeat,
# one after the other: the database unreachable (or not answering a new connection), or a
# contention that outlasted the write deadline. Every job of the group gets the error at once
# (nothing acknowledged; each may be sent again with its request id).
GROUP_WIDE: tuple[type[Exception], ...] = (
    DatabaseUnavailable, Contention, ServiceUnavailable, SessionExpired,
    ConnectionAcquisitionTimeoutError,
)  # fmt: skip

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class Prepared:
    """What a job asks of the group's transaction: accounts to open if missing (MERGE) and
    its transfers, committed as one chain (all or none)."""

    accounts: Sequence[AccountSpec]
    requests: Sequence[TransferRequest]


class LedgerJob(Protocol[T_co]):
    """One caller's ledger write. ``key`` names its transfers (two jobs with one key never
    share a group). ``prepare`` only reads; ``finish`` turns the chain's results and the
    touched accounts (as the group left them) into the answer. Either refuses with a
    `FinanceError`; a refused job writes no transfer."""

    @property
    def key(self) -> str: ...

    def prepare(self, tx: ManagedTransaction, now: datetime) -> Prepared: ...

    def finish(self, results: list[TransferResult], accounts: Mapping[str, Account]) -> T_co: ...


@dataclass
class _Outcome:
    value: Any = None
    error: BaseException | None = None


def _closed(requests: Sequence[TransferRequest]) -> list[TransferRequest]:
    """The job's requests as one chain: every one linked but the last."""
    reqs = list(requests)
    return [*(replace(r, linked=True) for r in reqs[:-1]), replace(reqs[-1], linked=False)]


def group_tx(
    tx: ManagedTransaction, jobs: Sequence[LedgerJob[Any]], *, alone: bool = False
) -> list[_Outcome]:
    """Run ``jobs`` in the caller's transaction; one outcome per job.

    ``alone`` (a single job): a refusal is raised, so that the transaction rolls back
    entirely, as a business operation of its own would."""
    now = datetime.now(UTC)
    outcomes: list[_Outcome | None] = [None] * len(jobs)
    chains: list[tuple[int, list[TransferRequest]]] = []
    specs: dict[str, AccountSpec] = {}
    for i, job in enumerate(jobs):
        try:
            p = job.prepare(tx, now)
        except FinanceError as e:
            if alone:
                raise
            outcomes[i] = _Outcome(error=e)
            continue
        for s in p.accounts:
            specs.setdefault(s.id, s)
        chains.append((i, _closed(p.requests)) if p.requests else (i, []))
    ledger.ensure_accounts_tx(tx, list(specs.values()))
    requests = [r for _, reqs in chains for r in reqs]
    accounts: dict[str, Account] = {}
    results = ledger.create_transfers_tx(tx, requests, now, balances=accounts) if requests else []
    at = 0
    for i, reqs in chains:
        mine = results[at : at + len(reqs)]
        at += len(reqs)
        try:
            outcomes[i] = _Outcome(value=jobs[i].finish(mine, accounts))
        except FinanceError as e:
            if alone or any(r.status == TransferStatus.CREATED for r in mine):
                raise  # part of it would stay written: the group fails, each job runs alone
            outcomes[i] = _Outcome(error=e)
    return [o if o is not None else _Outcome(error=FinanceError("not run")) for o in outcomes]


def run_alone(driver: Driver, database: str, job: LedgerJob[T]) -> T:
    """One job in a transaction of its own (the CLI's and the non-batched path)."""
    outcome = ledger.run_write(driver, database, lambda tx: group_tx(tx, [job], alone=True))[0]
    if outcome.error is not None:
        raise outcome.error
    return outcome.value  # type: ignore[no-any-return]


@dataclass
class _Item(Generic[T]):
    job: LedgerJob[T]
    future: Future[T] = field(default_factory=Future)


@dataclass
class Stats:
    """What a committer has done: jobs answered, group transactions committed, the largest
    group, groups that failed whole and ran their jobs alone, submissions refused as busy."""

    jobs: int = 0
    groups: int = 0
    largest: int = 0
    fallbacks: int = 0
    refused: int = 0


class GroupCommitter:
    """The queue and its writer thread for one database (see the module's docstring)."""

    def __init__(
        self,
        driver: Driver,
        database: str,
        *,
        max_batch: int = 200,
        wait_s: float = 0.002,
        max_queue: int = 5_000,
        gate: Callable[[], None] | None = None,
    ) -> None:
        self.driver, self.database = driver, database
        self.max_batch, self.wait_s, self.max_queue = max(1, max_batch), max(0.0, wait_s), max_queue
        # Called before each group: raises (DatabaseUnavailable) to fail the group at once,
        # as the API's breaker does while the database is known to be gone.
        self.gate = gate
        self.stats = Stats()
        self._queue: deque[_Item[Any]] = deque()
        self._cv = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(
            target=self._run, name=f"ledger-writer-{database}", daemon=True
        )
        self._thread.start()

    def submit(self, job: LedgerJob[T]) -> Future[T]:
        """Queue ``job``; its future gets the job's answer or its error. `Busy` when the
        queue is full or the committer is closing (nothing written)."""
        item: _Item[T] = _Item(job)
        with self._cv:
            if self._closed or len(self._queue) >= self.max_queue:
                self.stats.refused += 1
                raise Busy(
                    "the ledger has more requests waiting than it takes; nothing was written: "
                    "send the same request again shortly"
                )
            self._queue.append(item)
            self._cv.notify()
        return item.future

    def close(self, timeout: float = 30.0) -> None:
        """Refuse new jobs, commit those waiting, stop the writer."""
        with self._cv:
            self._closed = True
            self._cv.notify()
        self._thread.join(timeout)

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def _take(self) -> list[_Item[Any]] | None:
        with self._cv:
            while not self._queue and not self._closed:
                self._cv.wait()
            if not self._queue:
                return None  # closed and drained
            deadline = time.monotonic() + self.wait_s
            while len(self._queue) < self.max_batch and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cv.wait(left)
            group: list[_Item[Any]] = []
            keys: set[str] = set()
            later: list[_Item[Any]] = []
            while self._queue and len(group) < self.max_batch:
                item = self._queue.popleft()
                if item.job.key in keys:
                    later.append(item)  # same transfers: the next group
                else:
                    keys.add(item.job.key)
                    group.append(item)
            self._queue.extendleft(reversed(later))
            return group

    def _run(self) -> None:
        while True:
            group = self._take()
            if group is None:
                return
            try:
                self._commit(group)
            except BaseException as e:  # never leave a caller waiting
                log.error("ledger.group_commit_crashed", error=repr(e))
                for item in group:
                    if not item.future.done():
                        item.future.set_exception(e)

    def _commit(self, group: list[_Item[Any]]) -> None:
        live = [item for item in group if item.future.set_running_or_notify_cancel()]
        if not live:
            return
        # The stats are counted before any caller is answered, so that an answer implies them.
        try:
            if self.gate is not None:
                self.gate()
            outcomes = ledger.run_write(
                self.driver, self.database, lambda tx: group_tx(tx, [i.job for i in live])
            )
        except Exception as e:
            if len(live) == 1 or isinstance(e, GROUP_WIDE):
                self._count(len(live), 0)
                for item in live:
                    item.future.set_exception(e)
                return
            # No job owns the failure: each runs alone and gets its own answer.
            log.warning("ledger.group_failed", jobs=len(live), error=repr(e))
            self.stats.fallbacks += 1
            self._count(len(live), len(live))
            for item in live:
                try:
                    if self.gate is not None:
                        self.gate()
                    item.future.set_result(run_alone(self.driver, self.database, item.job))
                except Exception as alone_error:
                    item.future.set_exception(alone_error)
            return
        self._count(len(live), 1, largest=len(live))
        for item, outcome in zip(live, outcomes, strict=True):
            if outcome.error is not None:
                item.future.set_exception(outcome.error)
            else:
                item.future.set_result(outcome.value)

    def _count(self, jobs: int, groups: int, largest: int = 0) -> None:
        self.stats.jobs += jobs
        self.stats.groups += groups
        self.stats.largest = max(self.stats.largest, largest)
