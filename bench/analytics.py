"""Latency of the chain analytics on a generated graph, against the naive tier query.

Generates N enterprises (`ingest.synthetic.generate`, cached under `.chainlens/bench/`),
loads them into a fresh database on the benchmark server (slot 8: its own state folder and
ports), derives SUPPLIES with the loader's `recompute_supplies`, then measures p50/p99 of:
5-tier upstream of the core enterprises (`graph.analytics.tiers`), the UBOs of the deepest
holdings, related parties of sampled firms, the full guarantee-circle scan and the full
circular-trade scan; and, in the same run, the tier query written as one variable-length
Cypher path (`graph.queries.analytics.NAIVE_UPSTREAM`: `[:SUPPLIES*1..5]` returning each
firm's minimum tier and its links, with a timeout), on the generated cores and on a dense
layered chain (200 firms a tier, each supplying 10 of the next: about 2 million paths) where
path enumeration explodes. The headline "ratio" is naive p50 / ours p50 on the dense chain (a
lower bound when the naive query times out); "ratio_generated" is the same on the generated
cores. For reference, the bare `min(length(p))` query (tiers only, no volumes) is measured
too: Neo4j plans it as a pruning breadth-first expansion, so it does not explode.

By default the graph is loaded in large idempotent batches (`graph/queries/bulk.py`); with
`--loader ingest` the full loader runs instead (validation, rejects, lineage: far slower at
100k). `--quick` is 2,000 enterprises.

    .venv/bin/python bench/analytics.py [--quick] [--enterprises N] [--loader bulk|ingest]
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import logging
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from neo4j import Driver, Query, RoutingControl
from neo4j.exceptions import ClientError

from chainlens.settings import PROJECT_ROOT, Environment, Settings
from graph.analytics import guarantees, ownership, related, tiers, trade
from graph.driver import create_driver, wait_until_answers
from graph.maintenance import clear_database, count_by_label
from graph.queries import bulk
from graph.queries.analytics import MIN_TIER_ONLY, NAIVE_UPSTREAM
from graph.schema import apply_schema
from graph.server import ManagedNeo4j
from ingest.loader import ingest_folder, recompute_supplies
from ingest.synthetic import generate

SLOT = 8
BATCH = 10_000


def bench_settings(slot: int = SLOT) -> Settings:
    """The benchmark server of ``slot``: its own state folder and ports."""
    return Settings(
        environment=Environment.TEST,
        state_dir=PROJECT_ROOT / ".chainlens" / f"bench-slot-{slot}",
        neo4j_bolt_port=7700 + 10 * slot,
        neo4j_http_port=7701 + 10 * slot,
        neo4j_heap="2g",
        neo4j_pagecache="2g",
    )


@contextmanager
def empty_bench_database(slot: int = SLOT) -> Iterator[tuple[Driver, str]]:
    """The benchmark server of ``slot`` (started when it is not running, stopped afterwards
    only then), cleared and with the schema applied: (driver, database)."""
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    settings = bench_settings(slot)
    server = ManagedNeo4j(settings)
    started = server.start()
    driver = create_driver(settings)
    database = settings.neo4j_database
    try:
        wait_until_answers(driver, database)
        clear_database(driver, database)
        apply_schema(driver, database)
        yield driver, database
    finally:
        driver.close()
        if started:
            server.stop()


def _csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f)


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _write(driver: Driver, database: str, query: str, rows: Iterator[dict[str, Any]]) -> int:
    n = 0
    for batch in _batches(rows):
        with driver.session(database=database) as session:
            session.execute_write(lambda tx, b=batch: tx.run(query, rows=b).consume())
        n += len(batch)
    return n


def bulk_load(driver: Driver, database: str, data: Path) -> None:
    """The nodes and relationships the measured analytics read, in large batches."""
    steps: list[tuple[str, Callable[[], int]]] = [
        ("enterprises", lambda: _write(driver, database, bulk.ENTERPRISES, (
            {"id": r["id"], "name": r["name"], "is_core": r["is_core"] == "true",
             "status": r["status"] or None, "address_id": r["address_id"],
             "phone_id": r["phone_id"]} for r in _csv(data / "enterprises.csv")))),
        ("persons", lambda: _write(driver, database, bulk.PERSONS, (
            {"id": r["id"], "name": r["name"]} for r in _csv(data / "persons.csv")))),
        ("roles", lambda: _write(driver, database, bulk.ROLES, _csv(data / "roles.csv"))),
        ("invoices", lambda: _write(driver, database, bulk.INVOICES, (
            {"id": r["id"], "seller_id": r["seller_id"], "buyer_id": r["buyer_id"],
             "amount": int(r["amount"]), "tax": int(r["tax"] or 0),
             "issued_on": date.fromisoformat(r["issued_on"]), "status": r["status"] or None}
            for r in _csv(data / "invoices.csv")))),
    ]  # fmt: skip
    for kind in ("person", "enterprise"):
        steps.append((f"holdings ({kind})", lambda k=kind: _write(driver, database, bulk.HOLDS[k], (
            {"holder_id": r["holder_id"], "enterprise_id": r["enterprise_id"],
             "pct": float(r["pct"])}
            for r in _csv(data / "holdings.csv") if r["holder_kind"] == k))))  # fmt: skip
        steps.append((f"guarantees ({kind})", lambda k=kind: _write(
            driver, database, bulk.GUARANTEES[k], (
                {"id": r["id"], "guarantor_id": r["guarantor_id"],
                 "beneficiary_id": r["beneficiary_id"], "amount": int(r["amount"])}
                for r in _csv(data / "guarantees.csv") if r["guarantor_kind"] == k))))  # fmt: skip
    for name, step in steps:
        t0 = time.perf_counter()
        n = step()
        print(f"  loaded {n:>9,} {name} in {time.perf_counter() - t0:6.1f} s", flush=True)
    t0 = time.perf_counter()
    summary = recompute_supplies(driver, database)
    print(f"  derived {summary.edges:>8,} SUPPLIES in {time.perf_counter() - t0:6.1f} s")


def build_dense_chain(
    driver: Driver, database: str, width: int = 200, fan: int = 10, depth: int = 5
) -> str:
    """A layered chain where naive path enumeration explodes; returns the focal firm's id."""
    rng = random.Random(5)
    focal = "DENSE-0-0"
    ids = [focal] + [f"DENSE-{t}-{i}" for t in range(1, depth + 1) for i in range(width)]
    rows = [{"seller": f"DENSE-1-{i}", "buyer": focal, "amount": 1_000_000} for i in range(width)]
    for t in range(2, depth + 1):
        for i in range(width):
            for j in rng.sample(range(width), fan):
                rows.append({"seller": f"DENSE-{t}-{i}", "buyer": f"DENSE-{t - 1}-{j}",
                             "amount": rng.randint(10_000, 1_000_000)})  # fmt: skip
    driver.execute_query(bulk.DENSE_CLEAR, database_=database)
    driver.execute_query(bulk.DENSE_FIRMS, ids=ids, database_=database)
    for i in range(0, len(rows), BATCH):
        driver.execute_query(bulk.DENSE_SUPPLIES, rows=rows[i : i + BATCH], database_=database)
    return focal


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _measure(name: str, calls: list[Callable[[], Any]], runs: int) -> dict[str, float]:
    for call in calls[: min(3, len(calls))]:  # warm caches and query plans
        call()
    times = []
    for i in range(runs):
        t0 = time.perf_counter()
        calls[i % len(calls)]()
        times.append((time.perf_counter() - t0) * 1000)
    p50, p99 = statistics.median(times), _pct(times, 0.99)
    print(f"{name:<28} p50 {p50:10.1f} ms   p99 {p99:10.1f} ms   ({runs} runs)", flush=True)
    return {"p50_ms": round(p50, 2), "p99_ms": round(p99, 2)}


def _deepest_holdings(truth: Path, k: int) -> list[str]:
    parent = {r["enterprise_id"]: r["parent_id"] for r in _csv(truth / "enterprises.csv")}

    def depth(e: str) -> int:
        d, seen = 0, {e}
        while parent.get(e) and parent[e] not in seen:
            e = parent[e]
            seen.add(e)
            d += 1
        return d

    return sorted(parent, key=lambda e: (-depth(e), e))[:k]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 enterprises, fewer runs")
    parser.add_argument("--enterprises", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--loader", choices=("bulk", "ingest"), default="bulk")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--naive-timeout", type=float, default=None, help="seconds per query")
    parser.add_argument("--keep-server", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="keep a loaded graph of this size")
    args = parser.parse_args()
    n = args.enterprises or (2_000 if args.quick else 100_000)
    runs = args.runs or (30 if args.quick else 100)
    scan_runs = 3 if args.quick else 5
    naive_timeout = args.naive_timeout or (10.0 if args.quick else 30.0)

    out = PROJECT_ROOT / ".chainlens" / "bench" / f"analytics-{n}-seed{args.seed}"
    if not (out / "truth" / "summary.json").exists():
        t0 = time.perf_counter()
        generate(out, n, args.seed)
        print(f"generated {n:,} enterprises in {time.perf_counter() - t0:.1f} s")

    # The driver logs each server notification (e.g. a property absent from the generated
    # data) on every call; they would bury the figures.
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    settings = bench_settings()
    server = ManagedNeo4j(settings)
    started = server.start()
    driver = create_driver(settings)
    database = settings.neo4j_database
    try:
        wait_until_answers(driver, database)
        records, _, _ = driver.execute_query(bulk.COUNT_ENTERPRISES, database_=database)
        if not (args.reuse and records[0]["n"] == n):
            t0 = time.perf_counter()
            clear_database(driver, database)
            apply_schema(driver, database)
            if args.loader == "ingest":
                ingest_folder(driver, database, out / "data")
            else:
                bulk_load(driver, database, out / "data")
            print(f"loaded in {time.perf_counter() - t0:.1f} s: {count_by_label(driver, database)}")
        # As the API does at start-up (`api/app.py`): what is alive now is never collected,
        # so the full collections that large results trigger do not rescan it.
        gc.freeze()
        figures = run(driver, database, out / "truth", runs, scan_runs, naive_timeout)
    finally:
        gc.unfreeze()
        driver.close()
        if started and not args.keep_server:
            server.stop()
    figures = {"bench": "analytics", "enterprises": n, "loader": args.loader, **figures}
    print(json.dumps(figures))


def _naive(
    driver: Driver, database: str, focals: list[str], runs: int, timeout: float, name: str,
    query: str = NAIVE_UPSTREAM,
) -> dict[str, Any]:
    """The tier query as one variable-length path, with a per-query timeout."""
    times, timeouts = [], 0
    for i in range(runs):
        t0 = time.perf_counter()
        try:
            driver.execute_query(Query(query, timeout=timeout), id=focals[i % len(focals)],
                                 database_=database, routing_=RoutingControl.READ)  # fmt: skip
            times.append((time.perf_counter() - t0) * 1000)
        except ClientError as e:  # the transaction timed out
            if "timeout" not in f"{e.code} {e}".lower() and "terminated" not in str(e).lower():
                raise
            timeouts += 1
            times.append(timeout * 1000)
    p50, p99 = statistics.median(times), _pct(times, 0.99)
    print(f"{name:<28} p50 {p50:10.1f} ms   p99 {p99:10.1f} ms   ({runs} runs, {timeouts} "
          f"timeouts at {timeout:.0f} s)", flush=True)  # fmt: skip
    return {"p50_ms": round(p50, 2), "p99_ms": round(p99, 2), "timeouts": timeouts}


def run(
    driver: Driver, database: str, truth: Path, runs: int, scan_runs: int, naive_timeout: float
) -> dict[str, Any]:
    rng = random.Random(1)
    records, _, _ = driver.execute_query(bulk.CORES, database_=database)
    cores = [r["id"] for r in records]
    sizes = {c: len(tiers.tiers(driver, database, c, "upstream", 5).firms) for c in cores}
    print(f"{len(cores)} cores; 5-tier upstream sizes: median {statistics.median(sizes.values())}"
          f", max {max(sizes.values())}")  # fmt: skip
    deep = _deepest_holdings(truth, 10)
    firms = [r["enterprise_id"] for r in _csv(truth / "enterprises.csv")]
    sample = rng.sample(firms, min(50, len(firms)))

    result: dict[str, Any] = {"cores": len(cores), "tier_firms_max": max(sizes.values())}
    tier_calls: list[Callable[[], Any]] = [
        partial(tiers.tiers, driver, database, c, "upstream", 5) for c in cores
    ]
    ubo_calls: list[Callable[[], Any]] = [
        partial(ownership.ultimate_owners, driver, database, e) for e in deep
    ]
    related_calls: list[Callable[[], Any]] = [
        partial(related.related_parties, driver, database, e) for e in sample
    ]
    ours = _measure("tiers upstream 5 (ours)", tier_calls, runs)
    result["tiers"] = ours
    result["ubo_deep"] = _measure("UBO of a deep holding", ubo_calls, runs)
    result["related_parties"] = _measure("related parties", related_calls, runs)
    result["guarantee_scan"] = _measure(
        "guarantee-circle scan", [lambda: guarantees.guarantee_circles(driver, database)], scan_runs
    )
    result["ring_scan"] = _measure(
        "circular-trade scan", [lambda: trade.circular_trade(driver, database)], scan_runs
    )

    naive = _naive(driver, database, cores, max(3, min(len(cores) * 2, 20)), naive_timeout,
                   "tiers upstream 5 (naive)")  # fmt: skip
    result["naive_tiers"] = naive
    result["ratio_generated"] = round(naive["p50_ms"] / ours["p50_ms"], 2)
    result["min_tier_only"] = _naive(driver, database, cores, max(3, min(len(cores) * 2, 20)),
                                     naive_timeout, "min(length(p)) only", MIN_TIER_ONLY)
    print(f"generated chain, naive / ours (p50): {result['ratio_generated']}x")

    focal = build_dense_chain(driver, database)
    dense_calls = [lambda: tiers.tiers(driver, database, focal, "upstream", 5)]
    dense = _measure("dense chain: ours", dense_calls, max(5, runs // 5))
    dense_naive = _naive(driver, database, [focal], 3, naive_timeout, "dense chain: naive")
    result["dense_tiers"] = dense
    result["dense_naive_tiers"] = dense_naive
    result["ratio"] = round(dense_naive["p50_ms"] / dense["p50_ms"], 1)
    result["ratio_is_lower_bound"] = dense_naive["timeouts"] > 0
    print(f"dense chain, naive / ours (p50): {result['ratio']}x"
          f"{' (lower bound: naive timed out)' if dense_naive['timeouts'] else ''}")  # fmt: skip
    return result


if __name__ == "__main__":
    main()
