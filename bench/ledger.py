"""Ledger throughput: transfers per second with every check (idempotency, account locks,
balance limits, running totals), one at a time and batched, against a plain Cypher write
of the same rows (UNWIND ... CREATE, no checks) in the same run.

The headline "ratio" is batched ledger throughput / plain write throughput (1 would mean
the checks are free). Target: at least 2,000 transfers/s batched. It runs on a cleared
database of the finance test server (slot 3, ports 7730/7731; other benches share slot 7).

    .venv/bin/python bench/ledger.py [--quick] [--slot 3] [--batch 500]

``--concurrent`` (issue 24, item 3): money movements sent by many API clients at once. A
small world (`chainlens generate`, 300 firms, loaded by the real ingest) in the same server;
the app served by uvicorn in this process; ``--clients`` (50) clients in a second process
(asyncio, one keep-alive connection each) send single deposits and withdrawals
(`depositToSettlement` / `withdrawFromSettlement`, one in four a withdrawal, which the
balance may refuse) for ``--seconds`` each, after a discarded warm-up:

- ``single``: one transfer per transaction, one after the other (`ledger.create_transfer`,
  the 49/s of the issue), measured in the same run;
- ``api_unbatched``: the same clients against the app with group commit off
  (``ledger_batching=False``: one transaction per request, as before);
- ``api_batched``: the same clients against the app with group commit on
  (`finance/batching.py`).

Every request must be answered exactly once (answers counted per request id) and the
transfers in the ledger must be exactly those answered with success (ids compared), and the
trial balance zero. The headline "ratio" is api_batched / single (target >= 10); the ratio
to api_unbatched is printed beside it.

    .venv/bin/python bench/ledger.py --concurrent [--quick] [--clients 50] [--seconds 15]
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
from typing import Any

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
    ap.add_argument("--concurrent", action="store_true",
                    help="money movements from many API clients at once (issue 24, item 3)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=None, help="per phase (15; --quick: 6)")
    ap.add_argument("--client-process", help=argparse.SUPPRESS)  # the load generator
    args = ap.parse_args()
    if args.client_process:
        return run_clients(json.loads(args.client_process))
    if args.concurrent:
        return concurrent(args, _settings(args.slot))
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


# ---- --concurrent: money movements from many API clients at once ------------------------
DEPOSIT = (
    "mutation($e: ID!, $a: BigInt!, $r: ID!) { depositToSettlement(enterpriseId: $e, "
    "amount: $a, requestId: $r) { transferId } }"
)
WITHDRAW = (
    "mutation($e: ID!, $a: BigInt!, $r: ID!) { withdrawFromSettlement(enterpriseId: $e, "
    "amount: $a, requestId: $r) { transferId } }"
)
PASSWORD = "Ledger-bench-Passw0rd-2026!"


def run_clients(spec: dict[str, Any]) -> int:
    """The load generator (a process of its own): ``clients`` keep-alive connections, each
    sending one request at a time for ``seconds``; a plain HTTP/1.1 client on asyncio
    streams, so that the generator takes as little of the machine as it can. Prints one
    JSON line: every request id with its answer (ok, refused with a code, or no answer)."""
    import asyncio

    async def client(k: int, end: float, out: list[list[Any]]) -> None:
        rng = random.Random(spec["seed"] * 1000 + k)
        reader, writer = await asyncio.open_connection(spec["host"], spec["port"])
        n = 0
        try:
            while time.perf_counter() < end:
                n += 1
                req = f"{spec['prefix']}-{k}-{n}"
                withdraw = rng.random() < 0.25
                variables = {"e": rng.choice(spec["enterprises"]), "r": req,
                             "a": rng.randint(1, 10_000) * (4 if withdraw else 1)}  # fmt: skip
                body = json.dumps({"query": WITHDRAW if withdraw else DEPOSIT,
                                   "variables": variables}).encode()  # fmt: skip
                head = (
                    f"POST /graphql HTTP/1.1\r\nHost: {spec['host']}\r\n"
                    f"Authorization: Bearer {spec['token']}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                )
                t = time.perf_counter()
                try:
                    writer.write(head.encode() + body)
                    status = int((await reader.readline()).split()[1])
                    length = 0
                    while (line := await reader.readline()) not in (b"\r\n", b""):
                        name, _, value = line.decode().partition(":")
                        if name.lower() == "content-length":
                            length = int(value)
                    answer = json.loads(await reader.readexactly(length))
                except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as e:
                    out.append([req, withdraw, 0, f"no answer: {e!r}", time.perf_counter() - t])
                    break
                errors = answer.get("errors")
                code = (errors[0].get("extensions") or {}).get("code") if errors else None
                out.append([req, withdraw, status, code, time.perf_counter() - t])
        finally:
            writer.close()

    async def all_clients() -> list[list[Any]]:
        out: list[list[Any]] = []
        end = time.perf_counter() + spec["seconds"]
        await asyncio.gather(*(client(k, end, out) for k in range(spec["clients"])))
        return out

    started = time.perf_counter()
    answers = asyncio.run(all_clients())
    print(json.dumps({"wall": time.perf_counter() - started, "answers": answers}))
    return 0


def _load(url: str, token: str, enterprises: list[str], clients: int, seconds: float,
          prefix: str, seed: int) -> dict[str, Any]:  # fmt: skip
    import subprocess
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    spec = {"host": parts.hostname, "port": parts.port, "token": token, "clients": clients,
            "seconds": seconds, "prefix": prefix, "seed": seed,
            "enterprises": enterprises}  # fmt: skip
    proc = subprocess.run([sys.executable, __file__, "--client-process", json.dumps(spec)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"the load generator failed: {proc.stderr[-2000:]}")
    got: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return got


def _phase(driver: Any, db: str, raw: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Throughput and latency of one phase, and its checks: each request id answered once;
    the ledger's transfers of the phase exactly those answered with success."""
    answers = raw["answers"]
    ids = [a[0] for a in answers]
    ok = {a[0]: a[1] for a in answers if a[2] == 200 and a[3] is None}
    # Refused: an answer that is not a success (a limit, 503 while the database is away).
    refused = [a for a in answers if a[2] != 0 and a[0] not in ok]
    unanswered = [a for a in answers if a[2] == 0]  # no answer at all
    codes = sorted({f"{a[2]} {a[3]}" for a in refused})
    mine = f"{prefix}-"
    moved = {
        t.id
        for t in ledger.all_transfers(driver, db)
        if t.code in ("deposit", "withdrawal") and t.id.split(":", 1)[1].startswith(mine)
    }
    expected = {("wd:" if w else "dep:") + r for r, w in ok.items()}
    latencies = sorted(a[4] for a in answers)
    wall = raw["wall"]
    return {
        "requests": len(answers),
        "ok": len(ok),
        "refused": len(refused),
        "refused_codes": codes,
        "unanswered": len(unanswered),
        "answered_once": len(ids) == len(set(ids)) and not unanswered,
        "ledger_matches_answers": moved == expected,
        "tps": round(len(ok) / wall, 1),
        "answers_per_s": round(len(answers) / wall, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else 0.0,
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1) if latencies else 0.0,
    }


def concurrent(args: argparse.Namespace, settings: Settings) -> int:
    import logging
    import threading

    import httpx
    import uvicorn

    from api.app import create_app
    from api.security import Role, add_user
    from chainlens.logs import configure_logging
    from ingest.loader import ingest_folder
    from ingest.synthetic.generator import generate
    from tests.api.conftest import free_port

    seconds = args.seconds or (6.0 if args.quick else 15.0)
    warmup = 2.0 if args.quick else 4.0
    settings = settings.model_copy(update={
        "rate_limit_per_minute": 10_000_000, "rate_limit_burst": 1_000_000,
        "graphql_cost_per_minute": 1_000_000_000, "graphql_cost_burst": 1_000_000_000,
        "log_level": "WARNING", "read_cache_ttl_s": 0.0,
    })  # fmt: skip
    configure_logging(settings.log_level)
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    server = ManagedNeo4j(settings)
    started = server.start()
    driver = create_driver(settings)
    db = settings.neo4j_database
    try:
        print("waiting for the server …", flush=True)
        wait_until_answers(driver, db)
        folder = PROJECT_ROOT / ".chainlens" / "bench" / "ledger-world-300-7"
        marker = settings.state_dir / "bench-ledger-loaded"

        def firms() -> list[str]:
            records, _, _ = driver.execute_query("MATCH (e:Enterprise) RETURN e.id AS id "
                                                 "ORDER BY id LIMIT 200", database_=db)  # fmt: skip
            return [r["id"] for r in records]

        enterprises = firms()
        if len(enterprises) < 200 or not marker.exists() or marker.read_text() != folder.name:
            # Loaded once, then kept: each run's ids carry the run's tag.
            print("loading a world of 300 firms …", flush=True)
            marker.unlink(missing_ok=True)
            clear_database(driver, db)
            apply_schema(driver, db)
            if not (folder / "data" / "manifest.json").exists():
                generate(folder, enterprises=300, seed=7)
            ingest_folder(driver, db, folder / "data")
            marker.write_text(folder.name)
            enterprises = firms()
        run = datetime.now(UTC).strftime("%H%M%S")
        add_user(driver, db, "ledger-officer", PASSWORD, [Role.CREDIT_OFFICER])

        # One transfer per transaction, one after the other (the figure the target is of).
        rng = random.Random(args.slot)
        accounts = 200
        ledger.ensure_accounts(driver, db, [
            AccountSpec(f"acc-{i}", AccountCode.CASH, CCY, f"bench {i}") for i in range(accounts)
        ])  # fmt: skip
        for r in _requests(f"swarm-{run}", 30, accounts, rng):
            ledger.create_transfer(driver, db, r)
        single_n = 150 if args.quick else 500
        t0 = time.perf_counter()
        for r in _requests(f"single-{run}", single_n, accounts, rng):
            ledger.create_transfer(driver, db, r)
        single_tps = single_n / (time.perf_counter() - t0)
        print(f"single (one transfer per transaction, sequential): {single_tps:.1f} transfers/s",
              flush=True)  # fmt: skip

        phases: dict[str, dict[str, Any]] = {}
        for name, batching in (("api_unbatched", False), ("api_batched", True)):
            # The app makes its own driver, as `chainlens serve` does (the API's connection
            # wait and retry time).
            app = create_app(settings.model_copy(update={"ledger_batching": batching}))
            uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(),
                                               log_level="warning", access_log=False))  # fmt: skip
            thread = threading.Thread(target=uv.run, daemon=True)
            thread.start()
            deadline = time.monotonic() + 60
            while not uv.started:
                if not thread.is_alive() or time.monotonic() > deadline:
                    raise SystemExit("uvicorn did not start")
                time.sleep(0.05)
            url = f"http://127.0.0.1:{uv.config.port}"
            token = httpx.post(url + "/auth/token", timeout=60,
                               json={"username": "ledger-officer", "password": PASSWORD}
                               ).json()["access_token"]  # fmt: skip
            _load(url, token, enterprises, args.clients, warmup, f"warm-{name}-{run}", 1)
            raw = _load(url, token, enterprises, args.clients, seconds, f"{name}-{run}", 2)
            stats = app.state.ledger.stats if app.state.ledger is not None else None
            uv.should_exit = True
            thread.join(timeout=30)
            phases[name] = _phase(driver, db, raw, f"{name}-{run}")
            if stats is not None:
                phases[name]["groups"] = stats.groups
                phases[name]["jobs_per_group"] = round(stats.jobs / max(1, stats.groups), 1)
                phases[name]["largest_group"] = stats.largest
                phases[name]["fallbacks"] = stats.fallbacks
            p = phases[name]
            print(f"{name}: {p['tps']} transfers/s ({p['answers_per_s']} answers/s, "
                  f"{p['refused']} refused {p['refused_codes']}, {p['unanswered']} unanswered), "
                  f"p50 {p['p50_ms']} ms, p99 {p['p99_ms']} ms"
                  + (f", {p['jobs_per_group']} requests per commit" if stats else ""),
                  flush=True)  # fmt: skip
        tb = ledger.trial_balance(driver, db, CCY)
        batched, unbatched = phases["api_batched"], phases["api_unbatched"]
        figures = {
            "bench": "ledger-concurrent",
            "quick": args.quick,
            "clients": args.clients,
            "seconds": seconds,
            "single_tps": round(single_tps, 1),
            **{f"{k}_{n}": v for k, p in phases.items() for n, v in p.items()},
            "trial_balance_ok": tb.balanced,
            "every_request_answered_once": all(p["answered_once"] for p in phases.values()),
            "ledger_matches_answers": all(p["ledger_matches_answers"] for p in phases.values()),
            "vs_unbatched": round(batched["tps"] / max(unbatched["tps"], 0.1), 2),
            "ratio": round(batched["tps"] / single_tps, 2),
        }
        print(f"batched through the API / one transfer per transaction: {figures['ratio']}x "
              f"(target >= 10); / the same API unbatched: {figures['vs_unbatched']}x; "
              f"trial balance zero: {tb.balanced}; every request answered once: "
              f"{figures['every_request_answered_once']}; ledger = answers: "
              f"{figures['ledger_matches_answers']}")  # fmt: skip
        print(json.dumps(figures))
    finally:
        driver.close()
        if started:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
