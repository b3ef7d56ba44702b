"""Decisions per second through the rule engine with indicators from the graph, against
today's hard-coded policy, in the same run, on the same applications (issue #26).

Generates N enterprises (`ingest.synthetic.generate`, cached under `.chainlens/bench/`),
loads them with `ingest.loader.ingest_folder` into a fresh database on the benchmark server
(slot 6: its own state folder and ports; it shares its ports with test slot 6, so stop that
one first), grants lines as a bank would (a supply-chain line for every core, an own line
for two firms in three), then decides the same applications (firm x product x amount, drawn
at random) two ways, alternating which goes first:

- policy: `finance.policy.read_facts` (the graph) + `collateral_available` +
  `finance.policy.evaluate` (today's Python thresholds);
- rule set: `decisions.indicators.compute` (the same graph reads plus the point-in-time
  query `graph.queries.decisions.POINT_IN_TIME`: alerts, days past due, registry, documents,
  model version; then the catalogue's indicators: terms, product rules) + the shipped
  approval rule set through GoRules ZEN
  (`CompiledRuleSet.evaluate`).

Each decision reads its indicators from the graph; nothing is cached between decisions.
"indicator_share" is the part of the rule-set path spent computing the indicators (graph
reads included) rather than in the engine and the reasons. The in-memory figures beside them
decide the same applications again on facts already read (what the engine itself costs).
The last line is JSON with "ratio" = rule-set rate / policy rate, both with graph reads
(issue #26 targets at least 0.5).

    .venv/bin/python bench/decisions.py [--quick] [--enterprises N] [--decisions D]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on the path and its name would hide the
# `decisions` package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from neo4j import Driver  # noqa: E402

from bench.analytics import empty_bench_database  # noqa: E402
from chainlens.settings import PROJECT_ROOT  # noqa: E402
from decisions.engine import shipped  # noqa: E402
from decisions.indicators import compute, indicators_from  # noqa: E402
from finance import credit_lines as cl  # noqa: E402
from finance.credit_lines import LineKind, LineSpec  # noqa: E402
from finance.matching import collateral_available  # noqa: E402
from finance.policy import EnterpriseFacts, Outcome, evaluate, read_facts  # noqa: E402
from finance.products import Product, load_products  # noqa: E402
from ingest.loader import ingest_folder  # noqa: E402
from ingest.synthetic import generate  # noqa: E402

SLOT = 6
AMOUNTS = (1_000_000, 300_000_000, 6_000_000_000)
TARGET = 0.5


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def _ms(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(1000 * _pct(values, 0.5), 3),
            "p99_ms": round(1000 * _pct(values, 0.99), 3)}  # fmt: skip


def _grant_lines(driver: Driver, database: str) -> None:
    rows = driver.execute_query(
        "MATCH (e:Enterprise) RETURN e.id AS id, coalesce(e.is_core, false) AS core "
        "ORDER BY id", database_=database).records  # fmt: skip
    for n, r in enumerate(rows):
        if r["core"]:
            spec = LineSpec(f"SC-{r['id']}", r["id"], LineKind.SUPPLY_CHAIN, 8_000_000_000,
                            "CNY", date(2030, 1, 1))  # fmt: skip
        elif n % 3:
            spec = LineSpec(f"L-{r['id']}", r["id"], LineKind.ENTERPRISE,
                            (50_000_000, 900_000_000, 3_000_000_000)[n % 3], "CNY",
                            date(2030, 1, 1))  # fmt: skip
        else:
            continue
        cl.grant_line(driver, database, spec)


def _same(a: Outcome, b: Outcome) -> bool:
    return (a.verdict, a.amount_minor, a.rate_bps, a.reasons) == (
        b.verdict, b.amount_minor, b.rate_bps, b.reasons)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="300 firms, 1,000 decisions")
    ap.add_argument("--enterprises", type=int, default=None)
    ap.add_argument("--decisions", type=int, default=None)
    ap.add_argument("--seed", type=int, default=26)
    args = ap.parse_args()
    n_firms = args.enterprises or (300 if args.quick else 2_000)
    n = args.decisions or (1_000 if args.quick else 5_000)

    out = PROJECT_ROOT / ".chainlens" / "bench" / f"decisions-{n_firms}-seed{args.seed}"
    if not (out / "truth" / "summary.json").exists():
        generate(out, n_firms, args.seed)

    with empty_bench_database(SLOT) as (driver, database):
        ingest_folder(driver, database, out / "data")
        _grant_lines(driver, database)
        ids = [
            r["id"]
            for r in driver.execute_query(
                "MATCH (e:Enterprise) RETURN e.id AS id ORDER BY id", database_=database
            ).records
        ]
        result = run(driver, database, ids, n, args.seed)  # fmt: skip
    result = {"bench": "decisions", "enterprises": n_firms, **result}
    print(f"{n:,} decisions on {n_firms:,} firms, indicators read from the graph each time:")
    print(f"  policy   {result['policy_per_s']:,}/s  p50 {result['policy']['p50_ms']} ms  "
          f"p99 {result['policy']['p99_ms']} ms")  # fmt: skip
    print(f"  rule set {result['rule_set_per_s']:,}/s  p50 {result['rule_set']['p50_ms']} ms  "
          f"p99 {result['rule_set']['p99_ms']} ms  (indicators "
          f"{result['indicator_share']:.0%} of it)")  # fmt: skip
    print(
        f"  in memory (facts already read): policy {result['memory_policy_per_s']:,}/s, "
        f"rule set {result['memory_rule_set_per_s']:,}/s, ratio {result['memory_ratio']}"
    )
    print(f"  identical {result['identical']}/{n}; ratio {result['ratio']} (target >= {TARGET})")
    print(json.dumps(result))


def run(driver: Driver, database: str, ids: list[str], n: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    products = list(load_products().values())
    apps = [(rng.choice(ids), rng.choice(products), rng.choice(AMOUNTS)) for _ in range(n)]
    rules = shipped()

    def policy(eid: str, p: Product, amount: int) -> tuple[Outcome, EnterpriseFacts]:
        facts = read_facts(driver, database, eid)
        return evaluate(p, facts, amount, collateral_available(p, facts)), facts

    def rule_set(eid: str, p: Product, amount: int) -> tuple[Outcome, float]:
        t = time.perf_counter()
        ind = compute(driver, database, eid, p.id, amount)
        t2 = time.perf_counter()
        return rules.evaluate(ind).outcome, t2 - t

    for eid, p, a in apps[:50]:  # warm both paths (driver pool, page cache, the engine)
        policy(eid, p, a)
        rule_set(eid, p, a)

    pol: list[float] = []
    eng: list[float] = []
    ind_s = 0.0
    same = 0
    facts_of: list[EnterpriseFacts] = []
    for k, (eid, p, a) in enumerate(apps):
        order = (0, 1) if k % 2 == 0 else (1, 0)
        for which in order:
            t0 = time.perf_counter()
            if which == 0:
                want, facts = policy(eid, p, a)
                pol.append(time.perf_counter() - t0)
                facts_of.append(facts)
            else:
                got, read = rule_set(eid, p, a)
                eng.append(time.perf_counter() - t0)
                ind_s += read
        same += _same(want, got)

    # The same decisions on the facts already read: the engine's own cost.
    mem = [(p, f, a, collateral_available(p, f))
           for (_, p, a), f in zip(apps, facts_of, strict=True)]  # fmt: skip
    t0 = time.perf_counter()
    for p, f, a, v in mem:
        evaluate(p, f, a, v)
    mem_pol = time.perf_counter() - t0
    t0 = time.perf_counter()
    for p, f, a, v in mem:
        rules.evaluate(indicators_from(p, f, a, v))
    mem_eng = time.perf_counter() - t0

    pol_rate, eng_rate = n / sum(pol), n / sum(eng)
    return {
        "decisions": n,
        "policy_per_s": round(pol_rate),
        "rule_set_per_s": round(eng_rate),
        "policy": _ms(pol),
        "rule_set": _ms(eng),
        "indicator_share": round(ind_s / sum(eng), 3),
        "memory_policy_per_s": round(n / mem_pol),
        "memory_rule_set_per_s": round(n / mem_eng),
        "memory_ratio": round(mem_pol / mem_eng, 3),
        "identical": same,
        "ratio": round(eng_rate / pol_rate, 3),
    }


if __name__ == "__main__":
    main()
