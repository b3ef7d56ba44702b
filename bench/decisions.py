"""Decisions per second: the shipped approval rule set through GoRules ZEN against today's
hard-coded policy (`finance.policy.evaluate`), in the same run, on the same applications.

The applications are in memory: facts varied from one hand-made tier-1 supplier (scores,
tier, circle, group exposure, status, lines) crossed with every product and three amounts,
so the graph reads (`finance.policy.read_facts`, shared by both paths) are not in the
figures. "indicator_share" is the part of the rule-set path spent building the indicators
(`decisions.indicators.indicators_from`: the terms and the product rules) rather than in the
engine and the reasons. The last line is JSON with "ratio" = rule-set rate / policy rate
(issue #26 targets at least 0.5).

    .venv/bin/python bench/decisions.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

# Run as a script, this file's folder comes first on the path and its name would hide the
# `decisions` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from decisions.engine import shipped  # noqa: E402
from decisions.indicators import indicators_from  # noqa: E402
from finance.policy import EnterpriseFacts, evaluate  # noqa: E402
from finance.products import load_products  # noqa: E402

BASE = EnterpriseFacts(
    enterprise_id="T1", name="Tier One Parts", status="active", is_core=False,
    fraud_score=0.1, default_score=0.1, scores_are_neutral=False, tier=1, core_id="C",
    buyer_id="C", path_trade_minor=1_000_000_000, months_trading=24, buys_from_core=False,
    seller_core_id=None, guarantee_circle=[], receivables_minor=100_000_000,
    receivables_from_core_minor=100_000_000, open_orders_minor=50_000_000,
    warehouse_receipts_value_minor=0, movable_assets_value_minor=0, monitored_assets=0,
    vouchers_held_minor=0, group_size=1, group_exposure_minor=0, core_line_id="SC",
    core_line_available_minor=10_000_000_000, own_line_id="L-T1",
    own_line_available_minor=10_000_000_000,
)  # fmt: skip


def applications(n: int, seed: int = 26) -> list[tuple[object, EnterpriseFacts, int, int]]:
    rng = random.Random(seed)
    products = list(load_products().values())
    out: list[tuple[object, EnterpriseFacts, int, int]] = []
    for _ in range(n):
        facts = replace(
            BASE,
            fraud_score=round(rng.random(), 3), default_score=round(rng.random() * 0.9, 3),
            tier=rng.choice([None, 1, 2, 3, 4, 5]),
            guarantee_circle=rng.choice([[], [], ["A", "B", "C"]]),
            group_exposure_minor=rng.choice([0, 3_000_000_000]),
            status=rng.choice(["active"] * 9 + ["revoked"]),
            own_line_available_minor=rng.choice([0, 900_000_000, 10_000_000_000]),
        )  # fmt: skip
        product = rng.choice(products)
        out.append((product, facts, rng.choice([1_000_000, 300_000_000, 6_000_000_000]),
                    rng.choice([0, 100_000_000])))  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2,000 applications instead of 20,000")
    args = ap.parse_args()
    apps = applications(2_000 if args.quick else 20_000)
    rules = shipped()
    for p, f, a, v in apps[:50]:  # warm both paths
        evaluate(p, f, a, v)  # type: ignore[arg-type]
        rules.evaluate(indicators_from(p, f, a, v))  # type: ignore[arg-type]

    t0 = time.perf_counter()
    for p, f, a, v in apps:
        evaluate(p, f, a, v)  # type: ignore[arg-type]
    policy_s = time.perf_counter() - t0

    ind_s = eng_s = 0.0
    same = 0
    for p, f, a, v in apps:
        t = time.perf_counter()
        ind = indicators_from(p, f, a, v)  # type: ignore[arg-type]
        t2 = time.perf_counter()
        got = rules.evaluate(ind).outcome
        eng_s += time.perf_counter() - t2
        ind_s += t2 - t
        want = evaluate(p, f, a, v)  # type: ignore[arg-type]
        same += (want.verdict, want.amount_minor, want.reasons) == (
            got.verdict, got.amount_minor, got.reasons)  # fmt: skip
    rules_s = ind_s + eng_s
    n = len(apps)
    result = {
        "applications": n,
        "policy_per_s": round(n / policy_s),
        "rule_set_per_s": round(n / rules_s),
        "indicator_share": round(ind_s / rules_s, 3),
        "identical": same,
        "ratio": round((n / rules_s) / (n / policy_s), 3),
    }
    print(f"policy {result['policy_per_s']}/s, rule set {result['rule_set_per_s']}/s "
          f"(indicators {result['indicator_share']:.0%} of it), identical {same}/{n}")  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main()
