"""`chainlens finance …` and `chainlens bods import` run as a user would."""

from __future__ import annotations

import json
from pathlib import Path

from neo4j import Driver

from finance.ledger import trial_balance
from tests.cli.conftest import run
from tests.ingest.test_bods import STATEMENTS


def test_end_of_day_and_trial_balance_on_an_empty_book(db: Driver, cli_env: dict[str, str]) -> None:
    eod = run(cli_env, "finance", "eod", "--as-of", "2026-01-31")
    assert eod.returncode == 0, eod.stderr
    assert "2026-01-31: expired 0 undrawn approvals, accrued 0 financings" in eod.stderr
    tb = run(cli_env, "finance", "trial-balance")
    assert tb.returncode == 0, tb.stderr
    assert "total" in tb.stdout
    one = run(cli_env, "finance", "trial-balance", "--funder", "bank-b")
    assert one.returncode == 0, one.stderr
    assert "of bank-b" in one.stdout
    bad = run(cli_env, "finance", "eod", "--as-of", "31/01/2026")
    assert bad.returncode != 0


def test_bods_import_is_idempotent(
    db: Driver, database: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "statements.json"
    path.write_text(json.dumps(STATEMENTS, ensure_ascii=False))
    for _ in range(2):
        result = run(cli_env, "bods", "import", str(path))
        assert result.returncode == 0, result.stderr
        assert "BODS: 2 enterprises" in result.stderr
    records, _, _ = db.execute_query(
        "MATCH (:Person)-[h:HOLDS]->(:Enterprise) RETURN count(h) AS n", database_=database
    )
    assert records[0]["n"] == 1  # the indirect 27% is skipped, the direct 60% kept once
    assert trial_balance(db, database).balanced
