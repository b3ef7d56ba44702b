"""The ledger against the real Neo4j: idempotency, two-phase, linked chains, limits, reports,
and hypothesis properties over random operation sequences."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j import Driver

from finance import ledger
from finance.accounts import AccountCode, AccountSpec
from finance.errors import IdempotencyConflict, LedgerRejected
from finance.ledger import TransferKind, TransferRequest, TransferStatus
from graph.maintenance import clear_database

CNY = "CNY"


def _accounts(driver: Driver, database: str) -> None:
    ledger.ensure_accounts(
        driver,
        database,
        [
            AccountSpec("A", AccountCode.CASH, CNY, "a"),
            AccountSpec("B", AccountCode.SETTLEMENT, CNY, "b", debits_must_not_exceed_credits=True),
            AccountSpec("C", AccountCode.LOANS, CNY, "c", credits_must_not_exceed_debits=True),
            AccountSpec("U", AccountCode.CASH, "USD", "u"),
        ],
    )


def _t(id: str, dr: str, cr: str, amount: int, **kw: object) -> TransferRequest:
    return TransferRequest(id, dr, cr, amount, CNY, **kw)  # type: ignore[arg-type]


def test_retry_returns_the_same_single_transfer(db: Driver, database: str) -> None:
    _accounts(db, database)
    first = ledger.create_transfer(db, database, _t("t1", "A", "B", 500))
    again = ledger.create_transfers(db, database, [_t("t1", "A", "B", 500)])
    assert again[0].status == TransferStatus.EXISTS
    assert again[0].transfer == first
    assert len(ledger.all_transfers(db, database)) == 1
    assert ledger.get_account(db, database, "A").debits_posted == 500
    with pytest.raises(IdempotencyConflict):
        ledger.create_transfer(db, database, _t("t1", "A", "B", 501))


def test_limits_pending_and_void(db: Driver, database: str) -> None:
    _accounts(db, database)
    ledger.create_transfer(db, database, _t("fund", "A", "B", 1000))
    with pytest.raises(LedgerRejected, match="exceeds_credits"):
        ledger.create_transfer(db, database, _t("over", "B", "A", 1001))
    ledger.create_transfer(db, database, _t("hold", "B", "A", 800, kind=TransferKind.PENDING))
    # The hold counts against the limit.
    res = ledger.create_transfers(db, database, [_t("more", "B", "A", 300)])
    assert res[0].status == TransferStatus.EXCEEDS_CREDITS
    assert ledger.get_account(db, database, "B").available_credit == 200
    ledger.create_transfer(
        db, database, TransferRequest("v", kind=TransferKind.VOID, pending_id="hold")
    )
    b = ledger.get_account(db, database, "B")
    assert (b.debits_pending, b.available_credit) == (0, 1000)
    res = ledger.create_transfers(
        db, database, [TransferRequest("p", kind=TransferKind.POST, pending_id="hold")]
    )
    assert res[0].status == TransferStatus.PENDING_ALREADY_VOIDED
    with pytest.raises(LedgerRejected, match="exceeds_debits"):
        ledger.create_transfer(db, database, _t("c1", "A", "C", 1))
    with pytest.raises(LedgerRejected, match="currency_mismatch"):
        ledger.create_transfer(db, database, _t("x", "A", "U", 1))


def test_partial_post_releases_the_rest(db: Driver, database: str) -> None:
    _accounts(db, database)
    ledger.create_transfer(db, database, _t("fund", "A", "B", 1000))
    ledger.create_transfer(db, database, _t("h", "B", "A", 600, kind=TransferKind.PENDING))
    posted = ledger.create_transfer(
        db, database, TransferRequest("p", amount=250, kind=TransferKind.POST, pending_id="h")
    )
    assert (posted.debit_account_id, posted.amount) == ("B", 250)
    b = ledger.get_account(db, database, "B")
    assert (b.debits_posted, b.debits_pending, b.available_credit) == (250, 0, 750)
    res = ledger.create_transfers(
        db, database, [TransferRequest("p2", kind=TransferKind.POST, pending_id="h")]
    )
    assert res[0].status == TransferStatus.PENDING_ALREADY_POSTED


def test_linked_chain_is_all_or_nothing(db: Driver, database: str) -> None:
    _accounts(db, database)
    res = ledger.create_transfers(
        db,
        database,
        [
            _t("l1", "A", "B", 100, linked=True),
            _t("l2", "B", "A", 50, linked=True),
            _t("l3", "B", "A", 100),  # B would go below zero: the whole chain fails
            _t("solo", "A", "B", 10),
        ],
    )
    assert [r.status for r in res] == [
        TransferStatus.LINKED_EVENT_FAILED,
        TransferStatus.LINKED_EVENT_FAILED,
        TransferStatus.EXCEEDS_CREDITS,
        TransferStatus.CREATED,
    ]
    assert [t.id for t in ledger.all_transfers(db, database)] == ["solo"]
    res = ledger.create_transfers(db, database, [_t("o1", "A", "B", 1, linked=True)])
    assert res[0].status == TransferStatus.LINKED_CHAIN_OPEN


def test_reports_statement_and_balance_as_of(db: Driver, database: str) -> None:
    _accounts(db, database)
    d1, d2, d3 = (datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3))
    ledger.create_transfers(
        db,
        database,
        [
            _t("t1", "A", "B", 100, value_at=d1),
            _t("t2", "A", "B", 40, value_at=d2),
            _t("t3", "B", "A", 30, value_at=d3),
            _t("t4", "B", "A", 20, value_at=d3, kind=TransferKind.PENDING),
        ],
    )
    assert ledger.balance_as_of(db, database, "B", d2).credits_posted == 140
    later = ledger.balance_as_of(db, database, "B")
    assert (later.credits_posted, later.debits_posted, later.debits_pending) == (140, 30, 20)
    lines = ledger.statement(db, database, "B", since=d2)
    assert [(x.transfer_id, x.balance) for x in lines] == [("t2", -140), ("t3", -110)]
    tb = ledger.trial_balance(db, database, CNY)
    assert tb.balanced and tb.total_debits == 170


ACCS = ["A", "B", "C"]
op = st.one_of(
    st.tuples(
        st.just("single"),
        st.sampled_from(ACCS),
        st.sampled_from(ACCS),
        st.integers(1, 500),
        st.booleans(),
    ),
    st.tuples(
        st.just("pending"),
        st.sampled_from(ACCS),
        st.sampled_from(ACCS),
        st.integers(1, 500),
        st.booleans(),
    ),
    st.tuples(st.just("post"), st.integers(0, 30), st.integers(0, 300)),
    st.tuples(st.just("void"), st.integers(0, 30)),
    st.tuples(st.just("retry"), st.integers(0, 30)),
)


@pytest.mark.slow
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(st.lists(op, min_size=1, max_size=4), min_size=1, max_size=6))
def test_ledger_properties(driver: Driver, database: str, ops: list[list[tuple]]) -> None:  # type: ignore[type-arg]
    """Over any sequence of batches: debits equal credits, running totals equal the totals
    recomputed from transfers, created transfers never change, retries create nothing, and a
    void restores the balances the hold had taken."""
    clear_database(driver, database)
    _accounts(driver, database)
    sent: list[TransferRequest] = []
    snapshot: dict[str, ledger.Transfer] = {}
    n = 0
    for batch in ops:
        reqs: list[TransferRequest] = []
        for o in batch:
            n += 1
            if o[0] in ("single", "pending"):
                kind = TransferKind.SINGLE if o[0] == "single" else TransferKind.PENDING
                reqs.append(_t(f"t{n}", o[1], o[2], o[3], kind=kind, linked=o[4]))
            elif o[0] in ("post", "void") and sent:
                target = sent[o[1] % len(sent)]
                kind = TransferKind.POST if o[0] == "post" else TransferKind.VOID
                amount = o[2] if o[0] == "post" else 0
                reqs.append(
                    TransferRequest(f"t{n}", kind=kind, pending_id=target.id, amount=amount)
                )
            elif o[0] == "retry" and sent:
                reqs.append(sent[o[1] % len(sent)])
        if not reqs:
            continue
        before = {a.id: a for a in ledger.get_accounts(driver, database, ACCS).values()}
        results = ledger.create_transfers(driver, database, reqs)
        after = ledger.get_accounts(driver, database, ACCS)
        for req, res in zip(reqs, results, strict=True):
            if res.status == TransferStatus.CREATED:
                assert res.transfer is not None
                snapshot[res.id] = res.transfer
                sent.append(req)
            if res.status == TransferStatus.EXISTS:
                assert res.transfer == snapshot[res.id]
        if (
            len(reqs) == 1
            and results[0].status == TransferStatus.CREATED
            and reqs[0].kind == TransferKind.VOID
        ):
            p = snapshot[reqs[0].pending_id]
            assert (
                after[p.debit_account_id].debits_pending
                == before[p.debit_account_id].debits_pending - p.amount
            )
        if all(r.status == TransferStatus.EXISTS for r in results):
            assert {k: vars(v) for k, v in after.items()} == {k: vars(v) for k, v in before.items()}
    stored = {t.id: t for t in ledger.all_transfers(driver, database)}
    assert stored == snapshot
    accounts = ledger.get_accounts(driver, database, ACCS)
    assert sum(a.debits_posted for a in accounts.values()) == sum(
        a.credits_posted for a in accounts.values()
    )
    assert sum(a.debits_pending for a in accounts.values()) == sum(
        a.credits_pending for a in accounts.values()
    )
    recomputed = ledger.recompute_totals(driver, database)
    for a in accounts.values():
        r = recomputed.get(a.id, ledger.Balance(a.id, 0, 0, 0, 0))
        assert (a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending) == (
            r.debits_posted,
            r.credits_posted,
            r.debits_pending,
            r.credits_pending,
        )
        if a.debits_must_not_exceed_credits:
            assert a.debits_posted + a.debits_pending <= a.credits_posted
        if a.credits_must_not_exceed_debits:
            assert a.credits_posted + a.credits_pending <= a.debits_posted
