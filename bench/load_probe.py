"""Load probe (issue 25): does one client sending the most expensive requests the API allows
hurt everybody else?

Same world and server as `bench/api.py` (N generated enterprises loaded by the real ingest
into the benchmark server of slot 7, reused when already loaded). Ordinary clients (threads
with their own HTTP connection and their own user) send the enterprise card query in a loop;
the probe measures their latency twice for the same time, first alone, then while one more
client (another user, an analyst) sends, one after another, the heaviest operations that the
limits still let through: `explore` at the largest reach under the cost limit, a what-if
default of five cores, the full guarantee-circle and circular-trade scans, five tiers
upstream of a core. The per-request rate limit is lifted so that only the query guards (the
cost model, each user's budget of estimated cost per minute, the transaction timeout) stand
between the heavy client and the others. The heavy client is well behaved: when the API
answers 429 it waits the Retry-After it was given.

Prints the p50/p99 of the ordinary clients in both phases, what the heavy client got through,
and "ratio" = p99 with the heavy client / p99 without (target: at most 2). The last line is
one JSON object with every figure.

    .venv/bin/python bench/load_probe.py [--quick] [--enterprises N] [--seconds S]
                                         [--clients C] [--warmup S]
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import random
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api import CARD, PASSWORD, bench_settings
from chainlens.settings import PROJECT_ROOT, Settings

HEAVY_USER = "probe-heavy"
EXPLORE = """query Heavy($ids: [ID!]!, $n: Int!, $h: Int!) {
  explore(ids: $ids, layers: [TRADE, EQUITY, GUARANTEES, FINANCING], hops: $h, maxNodes: $n,
          perNode: 1000) { truncated nodes { id } edges { source target } } }"""
WHAT_IF = """query Heavy($ids: [ID!]!) { whatIf(defaultedIds: $ids) { __typename } }"""
CIRCLES = """query Heavy { guaranteeCircles(first: 50) { __typename } }"""
RINGS = """query Heavy { circularTrade(first: 50) { __typename } }"""
TIERS = """query Heavy($id: ID!) { tiers(id: $id, direction: UPSTREAM, depth: 5, first: 200) {
  perTier firms { totalCount edges { node { id tier } } } } }"""


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def heavy_requests(cores: list[str], max_cost: int) -> list[tuple[str, dict[str, Any]]]:
    """The heaviest operations the limits let through, explore at the largest reach whose
    estimated cost stays under ``max_cost``."""
    from api.limits import ARGUMENT_WEIGHTS

    def explore_cost(n: int, h: int) -> int:
        return ARGUMENT_WEIGHTS["Query.explore"](lambda a: {"maxNodes": n, "hops": h}.get(a))

    hops, nodes = max(
        ((h, n) for h in (1, 2, 3, 4) for n in (20_000, 15_000, 10_000, 5_000, 2_000)
         if explore_cost(n, h) + 100 <= max_cost),
        key=lambda hn: (hn[0] * hn[1], hn[0]),
    )  # fmt: skip
    five = cores[:5]
    return [
        (EXPLORE, {"ids": five, "n": nodes, "h": hops}),
        (WHAT_IF, {"ids": five}),
        (CIRCLES, {}),
        (RINGS, {}),
        (TIERS, {"id": cores[0]}),
    ]


class Phase:
    """Ordinary clients sending the card query for ``seconds``; latencies in ms."""

    def __init__(self, url: str, tokens: list[str], ids: list[str], seed: int) -> None:
        self.url, self.tokens, self.ids, self.seed = url, tokens, ids, seed

    def run(self, seconds: float) -> tuple[list[float], int]:
        import httpx

        latencies: list[float] = []
        errors = 0
        lock = threading.Lock()
        stop = time.monotonic() + seconds

        def client(k: int) -> None:
            nonlocal errors
            rnd = random.Random(self.seed + k)
            headers = {"authorization": f"Bearer {self.tokens[k]}"}
            mine: list[float] = []
            bad = 0
            with httpx.Client(base_url=self.url, timeout=60, headers=headers) as http:
                while time.monotonic() < stop:
                    body = {"query": CARD, "variables": {"id": rnd.choice(self.ids)}}
                    started = time.perf_counter()
                    response = http.post("/graphql", json=body)
                    mine.append((time.perf_counter() - started) * 1000)
                    if response.status_code != 200 or "errors" in response.json():
                        bad += 1
            with lock:
                latencies.extend(mine)
                errors += bad

        threads = [threading.Thread(target=client, args=(k,)) for k in range(len(self.tokens))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return latencies, errors


class HeavyClient(threading.Thread):
    """One client sending the heavy operations one after another until stopped."""

    def __init__(self, url: str, token: str, requests: list[tuple[str, dict[str, Any]]]) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.requests = url, token, requests
        self.stopped = threading.Event()
        self.sent: dict[str, list[float]] = {}
        self.refused: dict[str, int] = {}

    def run(self) -> None:
        import httpx

        headers = {"authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.url, timeout=120, headers=headers) as http:
            k = 0
            while not self.stopped.is_set():
                query, variables = self.requests[k % len(self.requests)]
                name = query.split("{", 2)[1].split("(")[0].strip()
                started = time.perf_counter()
                response = http.post("/graphql", json={"query": query, "variables": variables})
                self.sent.setdefault(name, []).append((time.perf_counter() - started) * 1000)
                body = response.json() if response.status_code < 500 else {"errors": [{}]}
                if "errors" in body:
                    self.refused[name] = self.refused.get(name, 0) + 1
                if response.status_code == 429:  # over its cost budget: wait as told
                    self.stopped.wait(float(response.headers.get("retry-after", "1")))
                    continue  # the same request again
                k += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 enterprises, 8 s a phase")
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=None, help="a phase (30; --quick: 8)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=None, help="seconds (5; --quick: 3)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.quick:
        args.enterprises = 2_000
    if args.seconds is None:
        args.seconds = 8.0 if args.quick else 30.0
    if args.warmup is None:
        args.warmup = 3.0 if args.quick else 5.0

    import httpx
    import uvicorn

    from api.app import create_app
    from api.security import Role, add_user
    from chainlens.logs import configure_logging
    from graph.driver import create_driver, wait_until_answers
    from graph.maintenance import clear_database
    from graph.queries.audit import prune_audit_events
    from graph.schema import apply_schema
    from graph.server import ManagedNeo4j
    from ingest.loader import ingest_folder
    from ingest.synthetic import generate
    from tests.api.conftest import free_port

    # bench/api.py lifts every budget to measure throughput; the probe keeps the default cost
    # budget, one of the guards it is about.
    default = Settings.model_fields
    settings = bench_settings().model_copy(update={
        "graphql_cost_per_minute": default["graphql_cost_per_minute"].default,
        "graphql_cost_burst": default["graphql_cost_burst"].default,
    })  # fmt: skip
    configure_logging(settings.log_level)
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    server = ManagedNeo4j(settings)
    if server.start():
        atexit.register(server.stop)
    driver = create_driver(settings)
    db = settings.neo4j_database
    wait_until_answers(driver, db)
    folder = PROJECT_ROOT / ".chainlens" / "bench" / f"chain-{args.enterprises}-{args.seed}"
    marker = settings.state_dir / "bench-api-loaded"  # shared with bench/api.py
    if not (folder / "data" / "manifest.json").exists():
        print(f"generating {args.enterprises} enterprises …", flush=True)
        generate(folder, enterprises=args.enterprises, seed=args.seed)
    if not marker.exists() or marker.read_text() != folder.name:
        print("loading …", flush=True)
        clear_database(driver, db)
        apply_schema(driver, db)
        ingest_folder(driver, db, folder / "data")
        marker.write_text(folder.name)
    prune_audit_events(driver, db, datetime.now(UTC))
    records, _, _ = driver.execute_query(
        "MATCH (e:Enterprise) RETURN e.id AS id, coalesce(e.is_core, false) AS core ORDER BY e.id",
        database_=db,
    )
    all_ids = [r["id"] for r in records]
    cores = [r["id"] for r in records if r["core"]] or all_ids[:5]
    ids = random.Random(args.seed).sample(all_ids, min(200, len(all_ids)))

    app = create_app(settings, driver=driver)
    port = free_port()
    uv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    threading.Thread(target=uv.run, daemon=True).start()
    while not uv.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"

    def token(name: str, role: Role) -> str:
        add_user(driver, db, name, PASSWORD, [role])
        response = httpx.post(url + "/auth/token", json={"username": name, "password": PASSWORD})
        response.raise_for_status()
        return str(response.json()["access_token"])

    tokens = [token(f"probe-{k}", Role.ANALYST) for k in range(args.clients)]
    heavy = heavy_requests(cores, settings.graphql_max_cost)
    phase = Phase(url, tokens, ids, args.seed)
    # Warm the ordinary path and the heavy queries' plans, then measure alone, then with.
    phase.run(args.warmup)
    warm = HeavyClient(url, token(HEAVY_USER, Role.ANALYST), heavy)
    warm.start()
    time.sleep(args.warmup)
    warm.stopped.set()
    warm.join()
    alone, alone_errors = phase.run(args.seconds)
    client = HeavyClient(url, warm.token, heavy)
    client.start()
    with_heavy, heavy_errors = phase.run(args.seconds)
    client.stopped.set()
    client.join()
    uv.should_exit = True

    p99_alone, p99_heavy = percentile(alone, 0.99), percentile(with_heavy, 0.99)
    ratio = round(p99_heavy / p99_alone, 3) if p99_alone else None
    print(f"ordinary clients: {args.clients} (card query), {args.seconds:g} s a phase, "
          f"{args.enterprises} enterprises", flush=True)  # fmt: skip
    for label, lat, errs in (("alone", alone, alone_errors), ("with heavy", with_heavy,
                                                                heavy_errors)):  # fmt: skip
        print(f"  {label:11s} {len(lat) / args.seconds:8.1f}/s  p50 {percentile(lat, 0.5):7.1f} "
              f"ms  p99 {percentile(lat, 0.99):7.1f} ms  errors {errs}")  # fmt: skip
    heavy_figures = {
        name: {"sent": len(lat), "refused": client.refused.get(name, 0),
               "p50_ms": round(percentile(lat, 0.5), 1), "max_ms": round(max(lat), 1)}
        for name, lat in client.sent.items()
    }  # fmt: skip
    for name, f in heavy_figures.items():
        print(f"  heavy {name:17s} sent {f['sent']:4d}  refused {f['refused']:4d}  "
              f"p50 {f['p50_ms']:8.1f} ms  max {f['max_ms']:8.1f} ms")  # fmt: skip
    print(f"p99 with the heavy client / p99 without: {ratio} (target <= 2)")
    print(json.dumps({
        "enterprises": args.enterprises, "clients": args.clients, "seconds": args.seconds,
        "p50_alone_ms": round(percentile(alone, 0.5), 1),
        "p99_alone_ms": round(p99_alone, 1),
        "p50_with_heavy_ms": round(percentile(with_heavy, 0.5), 1),
        "p99_with_heavy_ms": round(p99_heavy, 1),
        "errors": alone_errors + heavy_errors, "heavy": heavy_figures, "ratio": ratio,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
