"""A small book with a known portfolio report, on the chain of `credit_world` (loaded by the
real ingest): the lender's book (FL-1 active, FL-2 overdue, FL-3 repaid) and four financings
originated through the life cycle, disbursed on past days so that the end-of-day review
classes them:

- P-NORMAL: factoring without recourse on the core's supply-chain line L-C (core C),
  disbursed 70 days ago, matures in 20 days, 100,000.00 repaid: normal, on the due list;
- P-SUB: factoring with recourse on T1's own line, matured 110 days ago: substandard;
- P-DOUBT: the same, matured 300 days ago: doubtful;
- A-REF: a 6,000,000.00 application above the automatic approval limit: referred, waiting
  for a credit officer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from neo4j import Driver

from finance import credit_lines as cl
from finance import lifecycle as lc
from finance.credit_lines import LineKind, LineSpec
from tests.api.credit_world import TODAY, as_date, load_world

CNY = "CNY"
MAKER = "rm-portfolio"


@dataclass(frozen=True)
class Book:
    financings: dict[str, str]  # our name -> financing id
    referred: str  # the referred application's id


def _apply(driver: Driver, database: str, app_id: str, product: str, invoice: str,
           amount: int) -> lc.Application:  # fmt: skip
    req = lc.ApplicationCreate(app_id, "T1", product, amount, CNY, [invoice], MAKER,
                               "relationship_manager")  # fmt: skip
    return lc.submit_application(driver, database, req)


def _disburse(driver: Driver, database: str, app: lc.Application, days_ago: int) -> str:
    assert app.status == lc.AppStatus.APPROVED and app.financing_id, app.reasons
    on = TODAY - timedelta(days=days_ago)
    lc.sign_contract(driver, database, app.financing_id, f"CT-{app.id}", on)
    lc.disburse(driver, database, app.financing_id, on)
    return app.financing_id


def load_book(driver: Driver, database: str, folder: Path) -> Book:
    load_world(driver, database, folder)
    expires = as_date(365)
    cl.grant_line(driver, database, LineSpec("L-C", "C", LineKind.SUPPLY_CHAIN,
                                             5_000_000_000, CNY, expires))  # fmt: skip
    cl.grant_line(driver, database, LineSpec("L-T1", "T1", LineKind.ENTERPRISE,
                                             2_000_000_000, CNY, expires))  # fmt: skip
    normal = _apply(driver, database, "A-NORMAL", "factoring_nonrecourse", "INV-OPEN-1",
                    50_000_000)  # fmt: skip
    sub = _apply(driver, database, "A-SUB", "factoring_recourse", "INV-OPEN-3", 30_000_000)
    doubt = _apply(driver, database, "A-DOUBT", "factoring_recourse", "INV-OPEN-4", 20_000_000)
    referred = _apply(driver, database, "A-REF", "factoring_recourse", "INV-OPEN-2",
                      600_000_000)  # fmt: skip
    assert referred.status == lc.AppStatus.REFERRED, referred.reasons
    fins = {
        "P-NORMAL": _disburse(driver, database, normal, 70),
        "P-SUB": _disburse(driver, database, sub, 90 + 110),
        "P-DOUBT": _disburse(driver, database, doubt, 90 + 300),
    }
    # A part repayment (interest first, then principal) so that the outstanding is not the
    # amount disbursed.
    lc.repay(driver, database, fins["P-NORMAL"], 10_000_000, TODAY - timedelta(days=10),
             "portfolio-repay-1")  # fmt: skip
    for fid in fins.values():
        lc.update_delinquency(driver, database, fid, TODAY)
    return Book(fins, referred.id)
