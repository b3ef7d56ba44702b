"""A bank's cases file for a generated world: what its analysts would have decided.

Read from the world's truth (``OUT/truth``) and data (``OUT/data``), written in the ingest
format's ``cases`` file (docs/ingest-format.md) to ``OUT/cases/cases.csv``:

- a ``share`` of the planted fraud firms, outcome their pattern (``ring``, ``shell``,
  ``fake_trade``; a ring member that is also a shell is a ring), decided 14 to 300 days after
  the pattern's first invoice and never after the as-of date;
- ``cleared`` cases (false alerts, the hard negatives): innocent firms that share an address
  or phone with another firm (legitimate groups look like shell clusters), topped up with
  other innocent firms, about ``cleared_ratio`` times the fraud cases;
- ``default`` cases: firms that defaulted by the as-of date, decided 30 days after.

In a world generated with typologies (``truth/typologies.jsonl``), a ``share`` of their members
are cases too, outcome the typology (``fan_in``, ``cycle``, ...), decided 3 to 120 days after
the instance's last payment; a trade-fraud pattern of the same firm wins over a typology.
Members of benign look-alikes (``truth/typology_look_alikes.jsonl``) are ``cleared`` first
(``look_alike_cleared`` of them): the false alerts that a fan-in or fan-out rule raises.

Deterministic for a world and a seed. Every case has an alert id (``AL-…``) but the world has
no such Alert nodes: they are the bank's own references.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import date, timedelta
from pathlib import Path

CASES_HEADER = ("id", "enterprise_id", "outcome", "decided_on", "source", "alert_id", "note")


def _jsonl(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _members(row: dict[str, object]) -> list[str]:
    members = row.get("members")
    return [str(m) for m in members] if isinstance(members, list) else []


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_cases(
    world: Path, *, seed: int = 0, share: float = 0.7, cleared_ratio: float = 1.0,
    look_alike_cleared: float = 0.6,
) -> Path:
    """Write ``world/cases/cases.csv`` (see the module docstring); returns its path."""
    world = Path(world)
    truth, data = world / "truth", world / "data"
    as_of = date.fromisoformat(json.loads((truth / "summary.json").read_text())["as_of"])
    rng = random.Random(seed)
    issued = {r["id"]: date.fromisoformat(r["issued_on"]) for r in _csv(data / "invoices.csv")}
    evidence: dict[str, tuple[str, date]] = {}  # firm -> (pattern, first evidence)

    def add(firm: str, pattern: str, on: date) -> None:
        if firm not in evidence or pattern == "ring":
            evidence[firm] = (pattern, on)

    for row in _csv(truth / "unmatched_invoices.csv"):
        on = date.fromisoformat(row["issued_on"])
        firm = row["seller_id"]
        if firm not in evidence or evidence[firm][1] > on:
            add(firm, "fake_trade", on)
    groups = (("shell", "shell_clusters.jsonl"), ("ring", "circular_trade_rings.jsonl"))
    for pattern, name in groups:
        for group in _jsonl(truth / name):
            invoices = group.get("invoice_ids")
            days = [issued[i] for i in (invoices if isinstance(invoices, list) else [])
                    if isinstance(i, str) and i in issued]  # fmt: skip
            first = min(days) if days else as_of - timedelta(days=365)
            members = group.get("members")
            for m in members if isinstance(members, list) else []:
                add(str(m), pattern, first)
    for inst in _jsonl(truth / "typologies.jsonl"):
        last = date.fromisoformat(str(inst["last_day"]))
        for m in _members(inst):
            if str(m) not in evidence:
                evidence[str(m)] = (str(inst["typology"]), last)
    defaults = {
        r["enterprise_id"]: date.fromisoformat(r["default_on"])
        for r in _csv(truth / "defaults.csv")
        if r["default_on"] and date.fromisoformat(r["default_on"]) <= as_of
    }
    rows: list[tuple[str, str, date, str]] = []  # firm, outcome, decided_on, source
    for firm in sorted(evidence):
        if rng.random() >= share:
            continue
        pattern, first = evidence[firm]
        lag = (14, 300) if pattern in ("ring", "shell", "fake_trade") else (3, 120)
        start = min(first + timedelta(days=lag[0]), as_of)
        end = min(first + timedelta(days=lag[1]), as_of)
        day = start + timedelta(days=rng.randint(0, max(0, (end - start).days)))
        rows.append((firm, pattern, day, "bank_investigation"))
    for firm in sorted(defaults):
        if firm not in evidence:
            rows.append((firm, "default", min(defaults[firm] + timedelta(days=30), as_of),
                         "credit_book"))  # fmt: skip
    firms = _csv(data / "enterprises.csv")
    innocent = [f["id"] for f in firms if f["id"] not in evidence and f["id"] not in defaults]
    shared: dict[str, int] = {}
    for firm_row in firms:
        for key in ("address_id", "phone_id"):
            if firm_row.get(key):
                token = f"{key}:{firm_row[key]}"
                shared[token] = shared.get(token, 0) + 1
    innocent_set = set(innocent)
    look_alike = [r["id"] for r in firms if r["id"] in innocent_set and any(
        shared.get(f"{k}:{r[k]}", 0) > 1 for k in ("address_id", "phone_id") if r.get(k))]
    fraud_cases = sum(1 for r in rows if r[1] != "default")
    wanted = round(cleared_ratio * fraud_cases)
    alerts = sorted({str(m) for inst in _jsonl(truth / "typology_look_alikes.jsonl")
                     for m in _members(inst) if str(m) in innocent_set})  # fmt: skip
    chosen = rng.sample(alerts, min(round(look_alike_cleared * len(alerts)), wanted))
    look_alike = [f for f in look_alike if f not in set(chosen)]
    chosen += rng.sample(look_alike, min(max(0, wanted - len(chosen)), len(look_alike)))
    rest = [f for f in innocent if f not in set(chosen)]
    chosen += rng.sample(rest, min(max(0, wanted - len(chosen)), len(rest)))
    for firm in sorted(chosen):
        day = as_of - timedelta(days=rng.randint(0, 300))
        rows.append((firm, "cleared", day, "alert_review"))
    out = world / "cases" / "cases.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    rows.sort(key=lambda r: (r[2], r[0]))
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CASES_HEADER)
        for k, (firm, outcome, day, source) in enumerate(rows, start=1):
            w.writerow([f"CASE-{k:05d}", firm, outcome, day.isoformat(), source,
                        f"AL-{k:05d}", ""])  # fmt: skip
    return out
