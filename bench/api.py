"""Load test of the API against the same work done by calling the domain functions directly.

Generates N enterprises (`ingest.synthetic.generate`, cached under `.chainlens/bench/`) and
loads them with `ingest.loader.ingest_folder` into the benchmark server (slot 7, its own
state folder and ports 7775/7776, so the test server of the slot is left alone). Then, for
three typical queries, 50 connections of wrk (a second process, on loopback; script
`bench/api_load.lua`) hammer the API for a fixed time each, and in the same run 50 threads
call the same domain functions on the same driver:

- card: one enterprise with 20 neighbours and its group exposure
  (`get_enterprises` + `neighbourhoods` + `group_exposure` directly), twice over the API:
  first with the read cache off (``card_uncached``, every card read from the graph, as
  before the cache), then with it on (``card``: the cache keeps each card until a write,
  `graph/cache.py`; each of the 200 sampled firms is read once before the warm-up, so the
  measurement is of a warm cache);
- upstream: three tiers upstream of a core enterprise (`graph.analytics.tiers.tiers`);
- matches: product matches of an enterprise (`finance.matching.match_products`).

Then the write journey: `--write-clients` (20) relationship managers submit recourse
factoring of distinct open invoices over HTTP, a credit officer approves what the policy
refers (four eyes), against the same work from as many threads calling
`lifecycle.submit_application` / `review_application`; throughput and p50/p99 per decided
application, and the trial balance, which must be zero afterwards.

Before each measurement both paths run under the same load for `--warmup` seconds, which
are discarded: a Neo4j server that has just started runs its first seconds of load at a
third of the steady rate while its JIT compiles. Prints throughput and p50/p99 per query for
both, and the API's overhead as API p50 /
direct p50; the headline "ratio" is that of the enterprise card. Targets: card p99 < 250 ms
at 50 clients, ratio < 1.5; the cached card's throughput >= 4x the uncached card's
(``card_speedup``) and >= 0.3x the floor's (``card_vs_floor``). First, the same clients send
the smallest query there is (``FLOOR``, no database work): its p99 is what this machine gives
any query at that concurrency.

    .venv/bin/python bench/api.py [--quick] [--enterprises N] [--seconds S] [--clients C]
                                  [--warmup S] [--write-clients W]
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chainlens.settings import PROJECT_ROOT, Environment, Settings

SLOT = 7
PASSWORD = "Load-test-Passw0rd-2026!"

CARD = """query Card($id: ID!) {
  enterprise(id: $id) { id name uscc fraudScore defaultScore registeredCapital
    neighbourhood(limit: 20) { relationship outgoing id name } }
  groupExposure(id: $id, first: 5) { financings financed total }
}"""
UPSTREAM = """query Upstream($id: ID!) {
  tiers(id: $id, direction: UPSTREAM, depth: 3, first: 50) {
    perTier firms { totalCount edges { node { id name tier volume } } } }
}"""
MATCHES = """query Matches($id: ID!) {
  productMatches(enterpriseId: $id) { productId kind verdict amount rateBps reasons }
}"""
# The least any query costs: authenticated, limited, audited, answered without the database.
# Its p99 at the same concurrency is the floor under every other query's p99 on this machine.
FLOOR = "query Floor { __typename }"


def bench_settings() -> Settings:
    return Settings(
        environment=Environment.TEST,
        state_dir=PROJECT_ROOT / ".chainlens" / f"bench-slot-{SLOT}",
        neo4j_bolt_port=7705 + 10 * SLOT,
        neo4j_http_port=7706 + 10 * SLOT,
        neo4j_heap="1g",
        neo4j_pagecache="1g",
        rate_limit_per_minute=10_000_000,
        rate_limit_burst=1_000_000,
        graphql_cost_per_minute=1_000_000_000,
        log_level="WARNING",
    )


# ---- the load generator (wrk, a second process) ---------------------------------------------
LOAD_SCRIPT = Path(__file__).resolve().parent / "api_load.lua"


def load_with_wrk(
    url: str, token: str, query: str, ids: list[str], clients: int, seconds: float, seed: int
) -> dict[str, float]:
    """``clients`` keep-alive connections of wrk (one thread, so that the load generator
    takes as little of the two cores as it can) posting ``query`` for random ``ids``."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("bench/api.py needs wrk (Debian package wrk; scripts/system-deps.sh)")
    with tempfile.TemporaryDirectory() as tmp:
        bodies = Path(tmp) / "bodies.jsonl"
        bodies.write_text("".join(json.dumps({"query": query, "variables": {"id": i}}) + "\n"
                                  for i in ids), encoding="utf-8")  # fmt: skip
        proc = subprocess.run(
            [wrk, "-t1", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "60s",
             "-s", str(LOAD_SCRIPT), url, "--", str(bodies), str(seed)],
            capture_output=True, text=True, check=False,
            env={**os.environ, "CHAINLENS_BENCH_TOKEN": token},
        )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"wrk failed ({proc.returncode}): {proc.stderr.strip()}")
    raw = json.loads(proc.stdout.strip().splitlines()[-1])
    ok = raw["requests"] - raw["errors"]
    return {
        "n": ok,
        "errors": raw["errors"] + raw["socket_errors"],
        "throughput": round(ok / (raw["duration_us"] / 1e6), 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
    }


# ---- the bench ------------------------------------------------------------------------------
def summarise(latencies: list[float], wall: float, errors: int) -> dict[str, float]:
    ordered = sorted(latencies)
    if not ordered:
        return {"n": 0, "errors": errors, "throughput": 0.0, "p50_ms": 0.0, "p99_ms": 0.0}
    return {
        "n": len(ordered),
        "errors": errors,
        "throughput": round(len(ordered) / wall, 1),
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2),
    }


def direct(
    fn: Callable[[str], object], ids: list[str], clients: int, seconds: float
) -> dict[str, float]:
    """The same work from ``clients`` threads calling the domain functions on one driver."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(k: int) -> None:
        nonlocal errors
        rnd = random.Random(k)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                fn(rnd.choice(ids))
            except Exception:
                with lock:
                    errors += 1
                continue
            with lock:
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return summarise(latencies, time.perf_counter() - started, errors)


# ---- the write journey ----------------------------------------------------------------------
SUBMIT = """mutation Submit($input: ApplicationInput!) {
  submitApplication(input: $input) { id status financingId } }"""
REVIEW = """mutation Review($id: ID!) {
  reviewApplication(id: $id, approve: true, note: "bench") { id status financingId } }"""
TRIAL = "{ trialBalance { balanced totalDebits totalCredits } }"
# Open invoices not yet backing a live financing, with their sellers: one per application.
OPEN_INVOICES = """
MATCH (i:Invoice)-[:SELLER]->(s:Enterprise)
WHERE i.status IN ['issued', 'partially_paid', 'overdue'] AND i.amount >= 1000000
  AND NOT EXISTS { (i)-[:ASSIGNED_TO]->(f:Financing)
                   WHERE f.status IN ['approved', 'contracted', 'active', 'overdue'] }
RETURN s.id AS seller, i.id AS invoice, i.amount AS amount ORDER BY i.id LIMIT $limit
"""


def write_journey(
    url: str, driver: Any, db: str, clients: int, seconds: float, warmup: float, seed: int
) -> dict[str, Any]:
    """``clients`` relationship managers submit recourse factoring of distinct open invoices
    over HTTP for ``seconds``; what the policy refers, a credit officer approves (another
    user, four eyes). Then the same work from ``clients`` threads calling the domain
    functions. Latencies are per decided application (submit, plus review when referred);
    the trial balance must be zero afterwards."""
    import httpx

    from api.security import Role, add_user
    from finance import credit_lines as cl
    from finance import lifecycle as lc
    from finance.ledger import trial_balance

    rows, _, _ = driver.execute_query(OPEN_INVOICES, limit=20_000, database_=db)
    pairs = [(r["seller"], r["invoice"], int(r["amount"])) for r in rows]
    random.Random(seed).shuffle(pairs)
    expires = datetime.now(UTC).date().replace(year=datetime.now(UTC).year + 2)
    for seller in sorted({p[0] for p in pairs}):
        cl.grant_line(driver, db, cl.LineSpec(f"BENCH-{seller}", seller, cl.LineKind.ENTERPRISE,
                                              10**13, "CNY", expires))  # fmt: skip
    add_user(driver, db, "bench-rm", PASSWORD, [Role.RELATIONSHIP_MANAGER])
    add_user(driver, db, "bench-co", PASSWORD, [Role.CREDIT_OFFICER])
    run = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    lock = threading.Lock()
    queue = iter(pairs)

    def take() -> tuple[str, str, int] | None:
        with lock:
            return next(queue, None)

    def measure(decide: Callable[[str, str, str, int], str], span: float) -> dict[str, Any]:
        latencies: list[float] = []
        outcomes: dict[str, int] = {}
        errors = 0
        deadline = time.perf_counter() + span

        def client(k: int) -> None:
            nonlocal errors
            n = 0
            while time.perf_counter() < deadline and (item := take()) is not None:
                n += 1
                started = time.perf_counter()
                try:
                    outcome = decide(f"BW-{run}-{k}-{n}-{len(latencies)}", *item)
                except Exception:
                    with lock:
                        errors += 1
                    continue
                with lock:
                    latencies.append(time.perf_counter() - started)
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(client, range(clients)))
        return {**summarise(latencies, time.perf_counter() - started, errors), **outcomes}

    with httpx.Client(base_url=url, timeout=120,
                      limits=httpx.Limits(max_connections=2 * clients)) as http:  # fmt: skip
        tokens = {
            user: http.post("/auth/token", json={"username": user, "password": PASSWORD})
            .json()["access_token"]
            for user in ("bench-rm", "bench-co")
        }

        def gql(user: str, query: str, **variables: Any) -> dict[str, Any]:
            r = http.post("/graphql", json={"query": query, "variables": variables},
                          headers={"Authorization": f"Bearer {tokens[user]}"})  # fmt: skip
            body = r.json()
            if body.get("errors"):
                raise RuntimeError(body["errors"][0]["message"])
            data: dict[str, Any] = body["data"]
            return data

        def over_http(app_id: str, seller: str, invoice: str, amount: int) -> str:
            got = gql("bench-rm", SUBMIT, input={
                "id": app_id, "enterpriseId": seller, "productId": "factoring_recourse",
                "amount": amount, "currency": "CNY", "collateralIds": [invoice],
            })["submitApplication"]  # fmt: skip
            if got["status"] == "referred":
                got = gql("bench-co", REVIEW, id=app_id)["reviewApplication"]
                return "reviewed_" + str(got["status"])
            return str(got["status"])

        # Warm both paths first (query plans of the decision's Cypher, the JIT): the first
        # decisions under load cost several times the steady ones.
        measure(over_http, warmup)
        api = measure(over_http, seconds)
        balanced = gql("bench-co", TRIAL)["trialBalance"]["balanced"]

    def direct_call(app_id: str, seller: str, invoice: str, amount: int) -> str:
        app = lc.submit_application(driver, db, lc.ApplicationCreate(
            app_id + "-D", seller, "factoring_recourse", amount, "CNY", [invoice], "bench-rm"))
        if app.status == lc.AppStatus.REFERRED:
            app = lc.review_application(driver, db, app.id, "bench-co", "credit_officer", True)
            return "reviewed_" + app.status.value
        return app.status.value

    measure(direct_call, warmup)
    dr = measure(direct_call, seconds)
    return {
        "api": api, "direct": dr, "trial_balance_zero": balanced
        and trial_balance(driver, db, "CNY").balanced,
        "ratio_p50": round(api["p50_ms"] / dr["p50_ms"], 3) if dr["p50_ms"] else None,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 enterprises, 5 s a query")
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds of load per path before measuring (5; --quick: 3)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write-clients", type=int, default=20,
                        help="clients submitting and reviewing applications (write journey)")
    args = parser.parse_args()
    if args.quick:
        args.enterprises, args.seconds = 2_000, 5.0
    if args.warmup is None:
        args.warmup = 3.0 if args.quick else 5.0

    import uvicorn

    from api.app import create_app
    from api.security import Role, add_user
    from chainlens.logs import configure_logging
    from finance.matching import match_products
    from graph.analytics.exposure import group_exposure
    from graph.analytics.tiers import tiers
    from graph.driver import create_driver, wait_until_answers
    from graph.enterprises import get_enterprises
    from graph.maintenance import clear_database, count_by_label
    from graph.queries.audit import prune_audit_events
    from graph.queries.explorer import neighbourhoods
    from graph.schema import apply_schema
    from graph.server import ManagedNeo4j
    from ingest.loader import ingest_folder
    from ingest.synthetic import generate
    from tests.api.conftest import free_port

    settings = bench_settings()
    # As a deployment would run: warnings only (the API's per-request info lines and the
    # driver's notifications about absent properties would otherwise dominate the output).
    configure_logging(settings.log_level)
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    server = ManagedNeo4j(settings)
    if server.start():  # stopped however the run ends; a server already up is left as it was
        atexit.register(server.stop)
    driver = create_driver(settings)
    db = settings.neo4j_database
    wait_until_answers(driver, db)
    folder = PROJECT_ROOT / ".chainlens" / "bench" / f"chain-{args.enterprises}-{args.seed}"
    marker = settings.state_dir / "bench-api-loaded"
    if not (folder / "data" / "manifest.json").exists():
        print(f"generating {args.enterprises} enterprises …", flush=True)
        generate(folder, enterprises=args.enterprises, seed=args.seed)
    if not marker.exists() or marker.read_text() != folder.name:
        print("loading …", flush=True)
        clear_database(driver, db)
        apply_schema(driver, db)
        started = time.perf_counter()
        ingest_folder(driver, db, folder / "data")
        print(f"loaded in {time.perf_counter() - started:.1f} s", flush=True)
        marker.write_text(folder.name)
    # The API audits every request: drop earlier runs' events so that repeated runs measure
    # the same database.
    prune_audit_events(driver, db, datetime.now(UTC))
    counts = count_by_label(driver, db)
    add_user(driver, db, "bench", PASSWORD, [Role.ANALYST, Role.SERVICE])

    records, _, _ = driver.execute_query(
        "MATCH (e:Enterprise) RETURN e.id AS id, coalesce(e.is_core, false) AS core ORDER BY e.id",
        database_=db,
    )
    rnd = random.Random(args.seed)
    all_ids = [r["id"] for r in records]
    cores = [r["id"] for r in records if r["core"]] or all_ids[:5]
    sample = rnd.sample(all_ids, min(200, len(all_ids)))

    app = create_app(settings, driver=driver)
    port = free_port()
    uv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    while not uv.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    import httpx

    token = httpx.post(
        url + "/auth/token", json={"username": "bench", "password": PASSWORD}, timeout=60
    ).json()["access_token"]

    def card(i: str) -> object:
        return (
            get_enterprises(driver, db, [i]),
            neighbourhoods(driver, db, [i], 20),
            group_exposure(driver, db, i),
        )

    work: list[tuple[str, str, list[str], Callable[[str], object]]] = [
        ("card_uncached", CARD, sample, card),
        ("card", CARD, sample, card),
        ("upstream", UPSTREAM, cores, lambda i: tiers(driver, db, i, "upstream", 3)),
        ("matches", MATCHES, sample, lambda i: match_products(driver, db, i)),
    ]
    load_with_wrk(url, token, FLOOR, sample, args.clients, args.warmup, args.seed + 1)
    floor = load_with_wrk(url, token, FLOOR, sample, args.clients, args.seconds, args.seed)
    print(
        f"{'floor':9s} API    {floor['throughput']:8.1f}/s  p50 {floor['p50_ms']:8.1f} ms  "
        f"p99 {floor['p99_ms']:8.1f} ms  errors {floor['errors']}   ({FLOOR}: no database "
        "work)",
        flush=True,
    )
    results: dict[str, Any] = {}
    cache = app.state.read_cache
    for name, query, ids, fn in work:
        # The card without the read cache (what every card cost before it), then with it.
        cache.ttl_s = 0 if name == "card_uncached" else settings.read_cache_ttl_s
        cache.invalidate()
        if name == "card":
            # Fill the cache first, one card per sampled firm: under load the first reads
            # of the 200 firms would each take a second or more (as uncached), and a
            # 3 s warm-up does not reach them all. The hits and misses are printed.
            with httpx.Client(base_url=url, timeout=120) as http:
                for i in ids:
                    http.post("/graphql", json={"query": query, "variables": {"id": i}},
                              headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        # Warm both paths under the same load before measuring: query plans, connection pool,
        # and the JIT of a Neo4j server that has just started (a few calls are not enough:
        # the first seconds of load ran at a third of the steady rate).
        load_with_wrk(url, token, query, ids, args.clients, args.warmup, args.seed + 1)
        direct(fn, ids, args.clients, args.warmup)
        api = load_with_wrk(url, token, query, ids, args.clients, args.seconds, args.seed)
        dr = direct(fn, ids, args.clients, args.seconds)
        ratio = round(api["p50_ms"] / dr["p50_ms"], 3) if dr["p50_ms"] else None
        results[name] = {"api": api, "direct": dr, "ratio_p50": ratio}
        print(
            f"{name:9s}\n{'':9s} API    {api['throughput']:8.1f}/s  p50 {api['p50_ms']:8.1f} ms  "
            f"p99 {api['p99_ms']:8.1f} ms  errors {api['errors']}\n"
            f"{'':9s} direct {dr['throughput']:8.1f}/s  p50 {dr['p50_ms']:8.1f} ms  "
            f"p99 {dr['p99_ms']:8.1f} ms  errors {dr['errors']}   API/direct p50 {ratio}",
            flush=True,
        )
    writes = write_journey(
        url, driver, db, args.write_clients, args.seconds, args.warmup, args.seed
    )
    for side in ("api", "direct"):
        w = writes[side]
        print(
            f"{'write':9s} {side:6s} {w['throughput']:8.1f}/s  p50 {w['p50_ms']:8.1f} ms  "
            f"p99 {w['p99_ms']:8.1f} ms  errors {w['errors']}  outcomes "
            + ", ".join(f"{k} {v}" for k, v in sorted(w.items())
                        if k not in ("n", "errors", "throughput", "p50_ms", "p99_ms")),
            flush=True,
        )  # fmt: skip
    print(f"{'':9s} trial balance zero afterwards: {writes['trial_balance_zero']}; "
          f"API/direct p50 {writes['ratio_p50']}", flush=True)  # fmt: skip
    uv.should_exit = True
    thread.join(timeout=10)
    driver.close()
    summary = {
        "bench": "api",
        "enterprises": args.enterprises,
        "nodes": sum(counts.values()),
        "clients": args.clients,
        "seconds": args.seconds,
        "cpus": os.cpu_count(),
        "load_avg": round(os.getloadavg()[0], 1),
        **{
            f"{k}_{side}_{m}": v[side][m]
            for k, v in results.items()
            for side in ("api", "direct")
            for m in ("throughput", "p50_ms", "p99_ms")
        },
        **{f"{k}_ratio": v["ratio_p50"] for k, v in results.items()},
        **{f"floor_api_{m}": floor[m] for m in ("throughput", "p50_ms", "p99_ms")},
        **{
            f"write_{side}_{m}": writes[side][m]
            for side in ("api", "direct")
            for m in ("throughput", "p50_ms", "p99_ms", "errors")
        },
        "write_clients": args.write_clients,
        "write_ratio": writes["ratio_p50"],
        "write_trial_balance_zero": writes["trial_balance_zero"],
        "card_p99_target_met": results["card"]["api"]["p99_ms"] < 250,
        "card_cache_hits": cache.hits,
        "card_cache_misses": cache.misses,
        # None when no uncached card was answered within the window (a loaded machine).
        "card_speedup": round(results["card"]["api"]["throughput"]
                              / results["card_uncached"]["api"]["throughput"], 2)
        if results["card_uncached"]["api"]["throughput"] else None,
        "card_vs_floor": round(results["card"]["api"]["throughput"]
                               / max(floor["throughput"], 0.1), 3),
        "ratio": results["card"]["ratio_p50"],
    }
    speedup = summary["card_speedup"]
    against = ("no uncached card answered within the window; " if speedup is None
               else f"{speedup}x the uncached card's throughput, ")  # fmt: skip
    print(f"{'card':9s} read cache: {against}"
          f"{summary['card_vs_floor']}x the floor's; {cache.hits} hits, {cache.misses} misses",
          flush=True)  # fmt: skip
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
