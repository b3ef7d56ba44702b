"""Ledger throughput: transfers per second with every check (idempotency, account locks,
balance limits, running totals), one at a time and batched, against a plain Cypher write
of the same rows (UNWIND ... CREATE, no checks) in the same run.

The headline "ratio" is batched ledger throughput / plain write throughput (1 would mean
the checks are free). Target: at least 2,000 transfers/s batched. It runs on a cleared
database of the finance test server (slot 3, ports 7730/7731; other benches share slot 7).

    .venv/bin/python bench/ledger.py [--quick] [--slot 3] [--batch 500]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chainlens.settings import PROJECT_ROOT, Environment, Settings
from finance import ledger
from finance.accounts import AccountCode, AccountSpec
from finance.ledger import TransferRequest
from graph.driver import create_driver, wait_until_answers
from graph.maintenance import clear_database
from graph.queries import finance as q
from graph.schema import apply_schema
from graph.server import ManagedNeo4j

CCY = "CNY"


def _settings(slot: int) -> Settings:
    return Settings(
        environment=Environment.TEST,
        state_dir=PROJECT_ROOT / ".chainlens" / f"test-slot-{slot}",
        neo4j_bolt_port=7700 + 10 * slot,
        neo4j_http_port=7701 + 10 * slot,
        neo4j_heap="768m",
        neo4j_pagecache="256m",
    )


def _requests(prefix: str, n: int, accounts: int, rng: random.Random) -> list[TransferRequest]:
    out = []
    for i in range(n):
        a, b = rng.sample(range(accounts), 2)
        out.append(
            TransferRequest(
                f"{prefix}-{i}", f"acc-{a}", f"acc-{b}", rng.randint(1, 10_000), CCY, code="bench"
            )
        )
    return out


def _row(r: TransferRequest, now: datetime) -> dict[str, object]:
    return {
        "id": r.id,
        "debit_account_id": r.debit_account_id,
        "credit_account_id": r.credit_account_id,
        "amount": r.amount,
        "currency": r.currency,
        "kind": r.kind.value,
        "pending_id": "",
        "linked": False,
        "code": r.code,
        "ref": "",
        "value_at": now.isoformat(),
        "created_at": now.isoformat(),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--slot", type=int, default=3)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--accounts", type=int, default=1000)
    args = ap.parse_args()
    single_n = 200 if args.quick else 1000
    batches = 6 if args.quick else 30
    settings = _settings(args.slot)
    server = ManagedNeo4j(settings)
    started = server.start()
    driver = create_driver(settings)
    db = settings.neo4j_database
    try:
        wait_until_answers(driver, db)
        clear_database(driver, db)
        apply_schema(driver, db)
        # Half the accounts may not go below zero; funding them first keeps checks real.
        specs = [
            AccountSpec(
                f"acc-{i}",
                AccountCode.SETTLEMENT if i % 2 else AccountCode.CASH,
                CCY,
                f"bench {i}",
                debits_must_not_exceed_credits=bool(i % 2),
            )
            for i in range(args.accounts)
        ]
        ledger.ensure_accounts(driver, db, specs)
        funding = [
            TransferRequest(f"fund-{i}", "acc-0", f"acc-{i}", 10**12, CCY, code="fund")
            for i in range(1, args.accounts, 2)
        ]
        ledger.create_transfers(driver, db, funding)
        rng = random.Random(7)
        # Warm-up (plans cached) for both paths.
        ledger.create_transfers(driver, db, _requests("warm", args.batch, args.accounts, rng))
        now = datetime.now(UTC)
        with driver.session(database=db) as s:
            rows = [_row(r, now) for r in _requests("warmp", args.batch, args.accounts, rng)]
            s.execute_write(q.plain_transfer_write, rows)

        singles = _requests("single", single_n, args.accounts, rng)
        t0 = time.perf_counter()
        lat = []
        for r in singles:
            t = time.perf_counter()
            ledger.create_transfer(driver, db, r)
            lat.append(time.perf_counter() - t)
        single_tps = single_n / (time.perf_counter() - t0)

        ours, plain = [], []
        rejected = 0
        for b in range(batches):
            reqs = _requests(f"b{b}", args.batch, args.accounts, rng)
            t = time.perf_counter()
            results = ledger.create_transfers(driver, db, reqs)
            ours.append(args.batch / (time.perf_counter() - t))
            rejected += sum(1 for x in results if not x.status.ok)
            rows = [_row(r, now) for r in _requests(f"p{b}", args.batch, args.accounts, rng)]
            t = time.perf_counter()
            with driver.session(database=db) as s:
                s.execute_write(q.plain_transfer_write, rows)
            plain.append(args.batch / (time.perf_counter() - t))
        tb = ledger.trial_balance(driver, db, CCY)
        figures = {
            "bench": "ledger",
            "quick": args.quick,
            "batch": args.batch,
            "accounts": args.accounts,
            "single_n": single_n,
            "batches": batches,
            "single_tps": round(single_tps, 1),
            "single_latency_ms_median": round(statistics.median(lat) * 1000, 2),
            "batched_tps_median": round(statistics.median(ours), 1),
            "plain_tps_median": round(statistics.median(plain), 1),
            "rejected": rejected,
            "trial_balance_ok": tb.balanced,
            "ratio": round(statistics.median(ours) / statistics.median(plain), 3),
        }
        print(
            f"single (one transfer per transaction): {figures['single_tps']} transfers/s, "
            f"median latency {figures['single_latency_ms_median']} ms"
        )
        print(
            f"batched ({args.batch} per transaction): median "
            f"{figures['batched_tps_median']} transfers/s"
        )
        print(
            f"plain Cypher write, same batches:      median "
            f"{figures['plain_tps_median']} transfers/s"
        )
        print(f"ratio batched/plain: {figures['ratio']}  (target >= 2,000 transfers/s batched)")
        print(json.dumps(figures))
    finally:
        driver.close()
        if started:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
