"""First meaningful paint of every workbench page on the demo data, in headless Chromium
(issue #23: "first meaningful paint of each page under 2 s on the demo data").

Generates N enterprises (`ingest.synthetic.generate`, 20,000 as `make demo` does; cached
under `.chainlens/bench/`, shared with bench/api.py) and loads them with
`ingest.loader.ingest_folder` into the benchmark server (slot 12: its own state folder and
ports 7825/7826). The real app (API and the built pages, `make web`) is served by uvicorn in
this process; Playwright drives Debian's Chromium (`/usr/bin/chromium`, as tests/web does),
logged in as a user with every role (as the demo's user).

Each run of a page is a fresh document (about:blank, then the page's URL) timed from the
navigation's start to the moment the page shows what it is for (the same conditions as
`tests/journeys/test_pages_paint.py`): the explorer's deep link to a core (graph drawn and
card named), the review queue (its count), the portfolio (five classes, the class chart and
the new reports' tables), the alerts inbox (its count), the prospects page (the cores to
choose from), the watch list (its count), a financing's page (terms, schedule, collateral,
alerts, postings) and the rule editor (the rule sets). Pages take turns, run by run, so a
load spike hits all of them alike; one warm-up round is discarded (the server's first
queries compile their plans).

Baseline, in the same run and browser: the app shell served by the same API (index.html, the
script bundle and the style sheet, no data), to its login form, in a context not logged in.
Prints median and max per page, and ends with one JSON line: "ratio" is the slowest page's
median over the baseline's median; "target_met" says whether every page's median is under
2 s.

    .venv/bin/python bench/pages.py [--quick] [--enterprises N] [--runs R]
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chainlens.settings import PROJECT_ROOT, Environment, Settings

SLOT = 12
PASSWORD = "Paint-timing-Passw0rd-2026!"
USER = "pages"
TARGET_MS = 2000.0

# name -> (path after the API's URL, the JS condition that says the page shows its content).
# "{core}" and "{financing}" are filled in from the loaded world.
PAGES: dict[str, tuple[str, str]] = {
    "explorer": (
        "/#e={core}",
        "() => window.__explorer?.view?.firstPaint && "
        "document.querySelector('#card-name')?.textContent.length > 0",
    ),
    "review": (
        "/#/review",
        "() => /waiting for review/.test(document.querySelector('#review-status').textContent)",
    ),
    "portfolio": (
        "/#/portfolio",
        "() => document.querySelectorAll('#pf-classes tbody tr').length === 5 && "
        "document.querySelector('#chart-classes').dataset.rendered === '5' && "
        "document.querySelectorAll('#pf-disbursements tbody tr').length > 0",
    ),
    "alerts": (
        "/#/alerts",
        "() => /open of/.test(document.querySelector('#alerts-status').textContent)",
    ),
    "prospects": ("/#/prospects", "() => document.querySelectorAll('#pr-core option').length > 0"),
    "watchlist": (
        "/#/watchlist",
        "() => /firms watched/.test(document.querySelector('#watchlist-status').textContent)",
    ),
    "financing": (
        "/#/financing/{financing}",
        "() => document.querySelectorAll('#fin-terms tr').length > 0 && "
        "document.querySelectorAll('#fin-schedule tbody tr').length > 0 && "
        "document.querySelectorAll('#fin-collateral li').length > 0 && "
        "document.querySelectorAll('#fin-postings tr').length > 0 && "
        "document.querySelectorAll('#fin-alerts li').length > 0",
    ),
    "rules": (
        "/rules.html",
        "() => document.querySelectorAll('#rules-list tr[data-name]').length > 0",
    ),
}
# The app shell with its login form on screen (nothing asked of the database).
BASELINE = ("/", "() => { const f = document.querySelector('#login'); "
                 "return f && !f.hidden && f.getBoundingClientRect().height > 0; }")  # fmt: skip


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
        graphql_cost_burst=1_000_000_000,
        log_level="WARNING",
    )


def paint_ms(page: Any, url: str, ready: str) -> float:
    """Milliseconds from a fresh document's navigation start to ``ready`` holding."""
    page.goto("about:blank")
    page.goto(url)
    page.wait_for_function(ready, timeout=30_000, polling=20)
    return float(page.evaluate("() => performance.now()"))


def summary(values: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(values), 1), "max_ms": round(max(values), 1),
            "min_ms": round(min(values), 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 enterprises, 5 runs a page")
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=None, help="runs per page (9; --quick: 5)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.quick:
        args.enterprises = 2_000
    runs = args.runs or (5 if args.quick else 9)

    import uvicorn
    from playwright.sync_api import ViewportSize, sync_playwright

    from api.app import WEB_DIST, create_app
    from api.security import Role, add_user
    from chainlens.logs import configure_logging
    from graph.driver import create_driver, wait_until_answers
    from graph.maintenance import clear_database
    from graph.model import FINANCING_OUTSTANDING
    from graph.schema import apply_schema
    from graph.server import ManagedNeo4j
    from ingest.loader import ingest_folder
    from ingest.synthetic import generate
    from tests.api.conftest import free_port
    from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS

    if not all((WEB_DIST / p).is_file() for p in ("index.html", "rules.html")):
        sys.exit("the pages are not built: run `make web` first")
    settings = bench_settings()
    configure_logging(settings.log_level)
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    server = ManagedNeo4j(settings)
    if server.start():  # stopped however the run ends; a server already up is left as it was
        atexit.register(server.stop)
    driver = create_driver(settings)
    db = settings.neo4j_database
    wait_until_answers(driver, db)
    apply_schema(driver, db)  # idempotent; a load without its indexes plans every lookup as a scan
    folder = PROJECT_ROOT / ".chainlens" / "bench" / f"chain-{args.enterprises}-{args.seed}"
    marker = settings.state_dir / "bench-pages-loaded"
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
    add_user(driver, db, USER, PASSWORD, list(Role))
    records, _, _ = driver.execute_query(
        "MATCH (e:Enterprise {is_core: true}) RETURN e.id AS id ORDER BY e.id LIMIT 1",
        database_=db)  # fmt: skip
    core = records[0]["id"]
    records, _, _ = driver.execute_query(
        "MATCH (f:Financing) WHERE f.status IN $statuses RETURN f.id AS id ORDER BY f.id LIMIT 1",
        statuses=sorted(FINANCING_OUTSTANDING), database_=db)  # fmt: skip
    financing = records[0]["id"]
    n_enterprises = driver.execute_query(
        "MATCH (e:Enterprise) RETURN count(e) AS n", database_=db).records[0]["n"]  # fmt: skip

    app = create_app(settings, driver=driver)
    port = free_port()
    uv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    threading.Thread(target=uv.run, daemon=True).start()
    while not uv.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    print(f"{n_enterprises:,} enterprises; core {core}, financing {financing}; {runs} runs a page",
          flush=True)  # fmt: skip

    times: dict[str, list[float]] = {name: [] for name in ["baseline", *PAGES]}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        size = ViewportSize(width=1400, height=860)
        shell = browser.new_context(viewport=size).new_page()  # never logged in
        context = browser.new_context(viewport=size)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "/")
        page.fill("#username", USER)
        page.fill("#password", PASSWORD)
        page.click("#login-button")
        page.wait_for_selector("#app", state="visible", timeout=30_000)
        for k in range(runs + 1):  # round 0 warms up and is discarded
            t = paint_ms(shell, url + BASELINE[0], BASELINE[1])
            if k:
                times["baseline"].append(t)
            for name, (path, ready) in PAGES.items():
                t = paint_ms(page, url + path.format(core=core, financing=financing), ready)
                if k:
                    times[name].append(t)
            print(f"round {k}{' (warm-up)' if not k else ''}: " + ", ".join(
                f"{n} {v[-1]:.0f}" for n, v in times.items() if v and k), flush=True)  # fmt: skip
        browser.close()
    uv.should_exit = True
    if errors:
        sys.exit(f"JavaScript errors in the pages: {errors}")

    stats = {name: summary(v) for name, v in times.items()}
    base = stats.pop("baseline")
    print(f"\n{'page':12s} {'median ms':>10s} {'max ms':>9s}   target {TARGET_MS:.0f} ms (median)")
    print(f"{'baseline':12s} {base['median_ms']:10.1f} {base['max_ms']:9.1f}   (the app shell, "
          "no data)")  # fmt: skip
    for name, s in stats.items():
        ok = "ok" if s["median_ms"] < TARGET_MS else "OVER"
        print(f"{name:12s} {s['median_ms']:10.1f} {s['max_ms']:9.1f}   {ok}")
    worst = max(stats, key=lambda n: stats[n]["median_ms"])
    result = {
        "bench": "pages", "enterprises": n_enterprises, "runs": runs,
        "baseline_median_ms": base["median_ms"], "baseline_max_ms": base["max_ms"],
        "pages": stats, "worst_page": worst, "worst_median_ms": stats[worst]["median_ms"],
        "target_ms": TARGET_MS,
        "target_met": all(s["median_ms"] < TARGET_MS for s in stats.values()),
        "ratio": round(stats[worst]["median_ms"] / base["median_ms"], 3),
    }  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main()
