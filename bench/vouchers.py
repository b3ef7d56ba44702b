"""E-credit voucher splits and transfers per second with every check, at 20 concurrent
clients, against the same writes as plain Cypher in the same run (issue #19).

The world is made with the real functions: one core enterprise and, per client, two
suppliers A and B that sell to each other (so a voucher can pass A -> B -> A ...) with A
selling to the core; written as an ingest folder and loaded by `ingest.loader.ingest_folder`
(which derives SUPPLIES). The core confirms A's invoices (`finance.receivables.confirm`),
holds a supply-chain line (`finance.credit_lines.grant_line`) and issues each client's root
vouchers to A (`finance.vouchers.issue`).

Measured through the finance functions with all their checks (not over HTTP: bench/api.py
measures what the API adds):

- split: `finance.vouchers.split(id, [half, rest], on)` — the voucher locked, live and not
  due, the amounts summing to its face, the pieces written with their lineage (SPLIT_FROM,
  ISSUED_BY, HELD_BY, HELD), retried on a deadlock, the pieces read back;
- transfer: `finance.vouchers.transfer(id, to, on)` — the voucher locked, live, not already
  held by the target, the target a supplier of the holder, the holder edge moved and the
  holding kept, retried on a deadlock, the voucher read back.

Plain: the same write statements (`graph.queries.finance.split_voucher` / `move_voucher`) on
other vouchers of the same shape, one per transaction, with nothing read, locked, checked or
retried. Each client works on its own vouchers, so clients meet only where the writes do
(every piece of a split is linked to the core: the core node's lock); 100 clients racing for
one voucher is tests/journeys/test_voucher_concurrency.py. Phases run one after the other,
each with all clients started together; ops/s = a phase's operations / its wall time;
latency is per operation. Checked and plain alternate in rounds (2 with --quick, else 4;
checked first, then plain first, ...) so that the load of a shared machine falls on both
alike. The last line is JSON with "ratio" = checked / plain operations
per second over the split and transfer phases together.

    .venv/bin/python bench/vouchers.py [--quick] [--clients 20] [--ops N] [--slot 17]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from neo4j import Driver

from bench.analytics import empty_bench_database
from finance import credit_lines as cl
from finance import ledger, vouchers
from finance import receivables as fr
from finance.credit_lines import LineKind, LineSpec
from graph.model import ConfirmationOutcome
from graph.queries import finance as q
from ingest.loader import ingest_folder

SLOT = 17  # its own state folder and ports (7870/7871; test slot 17 uses the same)
CCY = "CNY"
CORE = "VB-CORE"
LINE = "VB-SC"
FACE = 100_000_000  # 1,000,000.00 yuan per root voucher
PER_ROOT = 15  # splits per root voucher: trees of at most 31 pieces
D0 = date(2026, 6, 1)
DUE = D0 + timedelta(days=180)
ON = D0 + timedelta(days=1)


def _pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p * (len(s) - 1)))]


@dataclass
class Piece:
    """What a client knows of one of its vouchers (enough to write the plain statements)."""

    id: str
    root_id: str
    face: int
    depth: int
    holder: str
    holdings: int = 1


@dataclass
class Client:
    k: int
    a: str
    b: str
    roots: dict[str, list[str]] = field(default_factory=dict)  # "checked"/"plain" -> roots
    pieces: dict[str, dict[str, Piece]] = field(default_factory=dict)  # mode -> id -> piece

    def other(self, holder: str) -> str:
        return self.b if holder == self.a else self.a


def _world(folder: Path, clients: int, roots_per_client: int) -> None:
    """The ingest folder: the core, two suppliers per client, their invoices."""
    folder.mkdir(parents=True, exist_ok=True)
    issued = (D0 - timedelta(days=30)).isoformat()
    with (folder / "enterprises.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "is_core", "status"])
        w.writerow([CORE, "基准核心制造股份有限公司", "true", "active"])
        for k in range(clients):
            w.writerow([f"VB-A{k}", f"基准甲{k}零部件有限公司", "false", "active"])
            w.writerow([f"VB-B{k}", f"基准乙{k}材料有限公司", "false", "active"])
    with (folder / "invoices.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "seller_id", "buyer_id", "amount", "currency", "issued_on", "due_on",
                    "status"])  # fmt: skip
        due = DUE.isoformat()
        for k in range(clients):
            a, b = f"VB-A{k}", f"VB-B{k}"
            w.writerow([f"VB-AB{k}", a, b, 1_000_000, CCY, issued, due, "issued"])
            w.writerow([f"VB-BA{k}", b, a, 1_000_000, CCY, issued, due, "issued"])
            for r in range(roots_per_client):
                w.writerow([f"VB-P{k}-{r}", a, CORE, FACE, CCY, issued, due, "issued"])
        w.writerow(["VB-W", "VB-A0", CORE, FACE, CCY, issued, due, "issued"])


def _setup(driver: Driver, db: str, clients: int, ops: int, tmp: Path) -> list[Client]:
    roots_per_mode = max(1, math.ceil(ops / PER_ROOT))
    _world(tmp / "world", clients, 2 * roots_per_mode)
    summary = ingest_folder(driver, db, tmp / "world")
    assert summary.loaded >= clients * 2 + 1, summary
    total = (clients * 2 * roots_per_mode + 1) * FACE
    cl.grant_line(driver, db, LineSpec(LINE, CORE, LineKind.SUPPLY_CHAIN, total, CCY,
                                       date(2030, 1, 1)))  # fmt: skip
    now = datetime.now(UTC)
    out = []
    for k in range(clients):
        c = Client(k, f"VB-A{k}", f"VB-B{k}")
        for m, mode in enumerate(("checked", "plain")):
            c.roots[mode], c.pieces[mode] = [], {}
            for r in range(roots_per_mode):
                inv = f"VB-P{k}-{m * roots_per_mode + r}"
                fr.confirm(driver, db, fr.ConfirmationRequest(
                    invoice_id=inv, core_id=CORE, outcome=ConfirmationOutcome.CONFIRMED,
                    amount_minor=None, due_on=DUE, note="", by="bench", at=now))  # fmt: skip
                root = f"VB{k}-{mode[0]}{r}"
                vouchers.issue(driver, db, root, CORE, c.a, FACE, CCY, [inv], D0, DUE)
                c.roots[mode].append(root)
                c.pieces[mode][root] = Piece(root, root, FACE, 0, c.a)
        out.append(c)
    # One more root, to warm both paths up (query plans, caches) before anything is timed.
    fr.confirm(driver, db, fr.ConfirmationRequest(
        invoice_id="VB-W", core_id=CORE, outcome=ConfirmationOutcome.CONFIRMED,
        amount_minor=None, due_on=DUE, note="", by="bench", at=now))  # fmt: skip
    vouchers.issue(driver, db, "VBW", CORE, "VB-A0", FACE, CCY, ["VB-W"], D0, DUE)
    warm = Client(-1, "VB-A0", "VB-B0", {"checked": ["VBW"], "plain": ["VBW"]},
                  {"checked": {"VBW": Piece("VBW", "VBW", FACE, 0, "VB-A0")}})  # fmt: skip
    warm.pieces["plain"] = warm.pieces["checked"]
    _run_split(driver, db, warm, "checked", warm.pieces["checked"]["VBW"])
    _run_split(driver, db, warm, "plain", warm.pieces["plain"]["VBW.1"])
    _run_transfer(driver, db, warm, "checked", warm.pieces["checked"]["VBW.2"])
    _run_transfer(driver, db, warm, "plain", warm.pieces["plain"]["VBW.1.1"])
    return out


def _children(p: Piece) -> list[dict[str, Any]]:
    """The pieces' properties as `vouchers.split` writes them."""
    half = p.face // 2
    return [
        {"root_id": p.root_id, "core_id": CORE, "line_id": LINE, "currency": CCY,
         "issued_on": D0, "due_on": DUE, "id": f"{p.id}.{i}", "face_minor": a,
         "status": "live", "depth": p.depth + 1}
        for i, a in enumerate((half, p.face - half), start=1)
    ]  # fmt: skip


def _split_plan(c: Client, mode: str, n: int) -> list[Piece]:
    """The pieces to split, breadth first within each root, PER_ROOT per root."""
    plan: list[Piece] = []
    for root in c.roots[mode]:
        queue = [c.pieces[mode][root]]
        for _ in range(PER_ROOT):
            if len(plan) == n:
                return plan
            p = queue.pop(0)
            plan.append(p)
            for ch in _children(p):
                queue.append(Piece(ch["id"], p.root_id, ch["face_minor"], p.depth + 1,
                                   p.holder))  # fmt: skip
    return plan


def _run_split(driver: Driver, db: str, c: Client, mode: str, p: Piece) -> None:
    halves = [p.face // 2, p.face - p.face // 2]
    if mode == "checked":
        vouchers.split(driver, db, p.id, halves, ON)
    else:
        with driver.session(database=db) as s:
            s.execute_write(lambda tx: q.split_voucher(tx, p.id, _children(p), ON))
    for i, face in enumerate(halves, start=1):
        cid = f"{p.id}.{i}"
        c.pieces[mode][cid] = Piece(cid, p.root_id, face, p.depth + 1, p.holder)
    c.pieces[mode].pop(p.id)


def _run_transfer(driver: Driver, db: str, c: Client, mode: str, p: Piece) -> None:
    to = c.other(p.holder)
    if mode == "checked":
        vouchers.transfer(driver, db, p.id, to, ON)
    else:
        with driver.session(database=db) as s:
            s.execute_write(lambda tx: q.move_voucher(tx, p.id, to, p.holdings + 1, ON))
    p.holder, p.holdings = to, p.holdings + 1


@dataclass
class Phase:
    name: str
    ops: int
    wall_s: float
    latencies: list[float]
    errors: list[str]

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.wall_s

    def figures(self) -> dict[str, Any]:
        return {"ops": self.ops, "ops_per_s": round(self.ops_per_s, 1),
                "p50_ms": round(1000 * _pct(self.latencies, 0.5), 2),
                "p99_ms": round(1000 * _pct(self.latencies, 0.99), 2),
                "errors": len(self.errors)}  # fmt: skip


def _phase(
    name: str, clients: list[Client], plans: dict[int, list[Piece]],
    op: Callable[[Client, Piece], None],
) -> Phase:  # fmt: skip
    """Every client runs its plan in its own thread, all started together."""
    start = threading.Barrier(len(clients) + 1)
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []

    def work(c: Client) -> None:
        mine: list[float] = []
        start.wait()
        for p in plans[c.k]:
            t = time.perf_counter()
            try:
                op(c, p)
            except Exception as e:  # counted and reported; the checks must not refuse
                with lock:
                    errors.append(f"{p.id}: {type(e).__name__}: {e}")
                continue
            mine.append(time.perf_counter() - t)
        with lock:
            latencies.extend(mine)

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        futures = [pool.submit(work, c) for c in clients]
        start.wait()
        t0 = time.perf_counter()
        for f in futures:
            f.result()
        wall = time.perf_counter() - t0
    return Phase(name, sum(len(v) for v in plans.values()), wall, latencies, errors)


def _verify(driver: Driver, db: str, clients: list[Client]) -> dict[str, Any]:
    """Every tree (checked and plain) as the clients think it is: the live pieces sum to
    the face, each held by the holder the client moved it to; the line still occupied by
    every root; the trial balance zero."""
    bad = 0
    for c in clients:
        for mode in ("checked", "plain"):
            for root in c.roots[mode]:
                tree = vouchers.tree(driver, db, root)
                live = {v.id: v for v in tree if v.status == "live"}
                mine = {k: p for k, p in c.pieces[mode].items() if p.root_id == root}
                ok = (set(live) == set(mine)
                      and sum(v.face_minor for v in live.values()) == FACE
                      and all(live[k].holder_id == p.holder
                              and live[k].holders[-1] == p.holder
                              for k, p in mine.items()))  # fmt: skip
                bad += not ok
    used = cl.usage(driver, db, LINE).used_minor
    roots = sum(len(c.roots[m]) for c in clients for m in ("checked", "plain")) + 1  # + warm
    return {"trees_wrong": bad, "line_used_ok": used == roots * FACE,
            "trial_balance_zero": ledger.trial_balance(driver, db, CCY).balanced}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--ops", type=int, default=0, help="splits (and transfers) per client")
    ap.add_argument("--slot", type=int, default=SLOT)
    args = ap.parse_args()
    ops = args.ops or (10 if args.quick else 100)
    n_rounds = 2 if args.quick else 4
    with empty_bench_database(args.slot) as (driver, db), \
            tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        t = time.perf_counter()
        clients = _setup(driver, db, args.clients, ops, Path(tmp))
        setup_s = time.perf_counter() - t

        def rounds(kind: str, plan: Callable[[Client, str], list[Piece]],
                   run: Callable[[Driver, str, Client, str, Piece], None]) -> list[Phase]:
            """Checked and plain in alternating rounds (checked first, then plain first,
            ...), so that the machine's load drifts over both alike; one Phase per mode."""
            plans = {m: {c.k: plan(c, m) for c in clients} for m in ("checked", "plain")}
            done: dict[str, list[Phase]] = {"checked": [], "plain": []}
            for r in range(n_rounds):
                for mode in (("checked", "plain") if r % 2 == 0 else ("plain", "checked")):
                    # contiguous: a piece is split after its parent
                    chunk = {k: v[r * len(v) // n_rounds:(r + 1) * len(v) // n_rounds]
                             for k, v in plans[mode].items()}  # fmt: skip
                    done[mode].append(_phase(
                        f"{kind} {mode}", clients, chunk,
                        lambda c, p, m=mode: run(driver, db, c, m, p)))  # fmt: skip
            return [Phase(f"{kind} {m}", sum(x.ops for x in done[m]),
                          sum(x.wall_s for x in done[m]),
                          [t for x in done[m] for t in x.latencies],
                          [e for x in done[m] for e in x.errors]) for m in done]  # fmt: skip

        def transfer_plan(c: Client, mode: str) -> list[Piece]:
            leaves = sorted(c.pieces[mode].values(), key=lambda p: p.id)
            return [leaves[i % len(leaves)] for i in range(ops)]

        phases = [*rounds("split", lambda c, m: _split_plan(c, m, ops), _run_split),
                  *rounds("transfer", transfer_plan, _run_transfer)]  # fmt: skip
        checks = _verify(driver, db, clients)
    by = {p.name: p for p in phases}

    def rate(mode: str) -> float:
        mine = [by[f"split {mode}"], by[f"transfer {mode}"]]
        return sum(p.ops for p in mine) / sum(p.wall_s for p in mine)

    ratio = rate("checked") / rate("plain")
    print(f"vouchers: {args.clients} concurrent clients, {ops} splits and {ops} transfers "
          f"each (setup {setup_s:.1f} s)")  # fmt: skip
    for p in phases:
        f = p.figures()
        print(f"  {p.name:17s} {f['ops_per_s']:8.1f} ops/s  p50 {f['p50_ms']:7.2f} ms  "
              f"p99 {f['p99_ms']:7.2f} ms  errors {f['errors']}")  # fmt: skip
        for e in p.errors[:3]:
            print(f"    {e}")
    split_r = by["split checked"].ops_per_s / by["split plain"].ops_per_s
    transfer_r = by["transfer checked"].ops_per_s / by["transfer plain"].ops_per_s
    print(f"  checked/plain: split {split_r:.3f}, transfer {transfer_r:.3f}, both {ratio:.3f}")
    print(f"  trees as the clients left them: {checks['trees_wrong']} wrong; line occupied by "
          f"every root: {checks['line_used_ok']}; trial balance zero: "
          f"{checks['trial_balance_zero']}")  # fmt: skip
    result = {
        "bench": "vouchers", "quick": args.quick, "clients": args.clients,
        "ops_per_client": ops, "path": "finance functions (finance.vouchers.split/transfer)",
        **{p.name.replace(" ", "_"): p.figures() for p in phases},
        **checks, "split_ratio": round(split_r, 3), "transfer_ratio": round(transfer_r, 3),
        "ratio": round(ratio, 3),
    }  # fmt: skip
    print(json.dumps(result))
    errors = sum(len(p.errors) for p in phases)
    return 0 if errors == 0 and checks["trees_wrong"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
