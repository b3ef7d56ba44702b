"""A small chain for the credit-administration and list tests, loaded by the real ingest.

Core C (Ningbo, motor vehicles) buys from tier-1 T1, which buys from tier-2 T2; X is a
liquidating firm elsewhere. Invoices make the SUPPLIES edges (ingest recomputes them); a
lender's book holds three loaded financings. Scores go in through the scoring writer.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from neo4j import Driver

from graph.queries.risk import write_scores
from ingest.loader import ingest_folder

TODAY = datetime.now(UTC).date()

ENTERPRISES = [
    {"id": "C", "name": "宁波核心汽车有限公司", "region_code": "330200", "industry_code": "C36",
     "status": "active", "is_core": "true"},
    {"id": "T1", "name": "宁波一级零部件有限公司", "region_code": "330200", "industry_code": "C36",
     "status": "active", "is_core": "false"},
    {"id": "T2", "name": "深圳二级铸造有限公司", "region_code": "440300", "industry_code": "C33",
     "status": "active", "is_core": "false"},
    {"id": "X", "name": "北京清算贸易有限公司", "region_code": "110000", "industry_code": "F51",
     "status": "liquidating", "is_core": "false"},
]  # fmt: skip


def _day(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


# T1 sells to C every month of the last year; T2 to T1. Open invoices back factoring.
INVOICES = [
    *({"id": f"INV-T1-{m}", "seller_id": "T1", "buyer_id": "C", "amount": "800000000",
       "issued_on": _day(-30 * m - 5), "due_on": _day(90 - 30 * m), "status": "paid"}
      for m in range(1, 12)),
    *({"id": f"INV-T2-{m}", "seller_id": "T2", "buyer_id": "T1", "amount": "300000000",
       "issued_on": _day(-30 * m - 5), "due_on": _day(90 - 30 * m), "status": "paid"}
      for m in range(1, 12)),
    {"id": "INV-OPEN-1", "seller_id": "T1", "buyer_id": "C", "amount": "100000000",
     "issued_on": _day(-3), "due_on": _day(87), "status": "issued"},
    {"id": "INV-OPEN-2", "seller_id": "T1", "buyer_id": "C", "amount": "1000000000",
     "issued_on": _day(-2), "due_on": _day(88), "status": "issued"},
    {"id": "INV-OPEN-3", "seller_id": "T1", "buyer_id": "C", "amount": "100000000",
     "issued_on": _day(-1), "due_on": _day(89), "status": "issued"},
    {"id": "INV-OPEN-4", "seller_id": "T1", "buyer_id": "C", "amount": "1000000000",
     "issued_on": _day(-1), "due_on": _day(89), "status": "issued"},
]  # fmt: skip

# Warehouse receipts: AS-2 (T2's) backs the overdue loaded financing FL-2; AS-1 (T1's) is free.
ASSETS = [
    {"id": "AS-1", "kind": "warehouse_receipt", "owner_id": "T1", "quantity": "100",
     "unit_value": "100000", "status": "active"},
    {"id": "AS-2", "kind": "warehouse_receipt", "owner_id": "T2", "quantity": "300",
     "unit_value": "100000", "status": "active"},
]  # fmt: skip

# The lender's book: live, overdue and repaid (mapped to active, overdue and closed).
FINANCINGS = [
    {"id": "FL-1", "product_kind": "factoring", "borrower_id": "T1", "lender": "Bank A",
     "amount": "50000000", "outstanding": "40000000", "start_on": _day(-60),
     "maturity_on": _day(20), "status": "live"},
    {"id": "FL-2", "product_kind": "receivables_pledge", "borrower_id": "T2",
     "lender": "Bank B", "amount": "30000000", "outstanding": "30000000",
     "start_on": _day(-200), "maturity_on": _day(-10), "status": "overdue"},
    {"id": "FL-3", "product_kind": "factoring", "borrower_id": "C", "lender": "Bank A",
     "amount": "90000000", "outstanding": "0", "start_on": _day(-400),
     "maturity_on": _day(-100), "status": "repaid"},
]  # fmt: skip

PLEDGES = [
    {"id": "P-1", "financing_id": "FL-2", "collateral_kind": "asset", "collateral_id": "AS-2",
     "pledged_on": _day(-200)},
]  # fmt: skip

SCORES = [
    {"id": "C", "fraud_score": 0.05, "default_score": 0.10, "explanation": "{}"},
    {"id": "T1", "fraud_score": 0.10, "default_score": 0.15, "explanation": "{}"},
    {"id": "T2", "fraud_score": 0.60, "default_score": 0.30, "explanation": "{}"},
    {"id": "X", "fraud_score": 0.90, "default_score": 0.80, "explanation": "{}"},
]


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fields)
        w.writeheader()
        w.writerows(rows)


def load_world(driver: Driver, database: str, folder: Path) -> None:
    """Write the folder in the ingest format, load it, and score the four firms."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "enterprises.csv", ENTERPRISES)
    _write(folder / "invoices.csv", INVOICES)
    _write(folder / "assets.csv", ASSETS)
    _write(folder / "financings.csv", FINANCINGS)
    _write(folder / "pledges.csv", PLEDGES)
    summary = ingest_folder(driver, database, folder)
    assert summary.rejected == 0, summary
    write_scores(driver, database, SCORES, model_version="test", scored_at=datetime.now(UTC))


def expires(days: int = 365) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


def as_date(days: int) -> date:
    return TODAY + timedelta(days=days)


def doc_examples(doc: str, section: str) -> list[str]:
    """The ```graphql blocks of one `## section` of a document under docs/, in order."""
    text = (Path(__file__).resolve().parents[2] / "docs" / doc).read_text(encoding="utf-8")
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    part = text[start : end if end >= 0 else len(text)]
    blocks = part.split("```graphql\n")[1:]
    return [b.split("```", 1)[0] for b in blocks]
