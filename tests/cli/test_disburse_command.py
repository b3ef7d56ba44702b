"""`chainlens finance disburse` pays out as the API's `disburse` does, after the
disbursement rules: a borrower whose fraud score rose past the threshold since approval is
refused with the rule's reason (exit code 2) and nothing is paid; once the score is back the
money goes out; a second disbursement, an unknown financing or a bad date are refused."""

from __future__ import annotations

from neo4j import Driver

from finance import lifecycle
from finance.ledger import trial_balance
from tests.cli.conftest import run
from tests.finance.test_lifecycle import D0, _app, _setup


def test_disbursement_from_the_command_line_re_evaluates_the_rules(
    db: Driver, database: str, cli_env: dict[str, str]
) -> None:
    _setup(db, database, [("INV-D", 100_000_000)])
    app = lifecycle.submit_application(db, database, _app("D1", "INV-D", 50_000_000), D0)
    fid = app.financing_id
    assert fid is not None, app.reasons
    lifecycle.sign_contract(db, database, fid, "CT-D", D0)

    def disburse(*args: str) -> tuple[int, str, str]:
        done = run({**cli_env, "COLUMNS": "200"}, "finance", "disburse", *args)
        return done.returncode, done.stdout, " ".join(done.stderr.split())

    db.execute_query("MATCH (e:Enterprise {id: 'T1'}) SET e.fraud_score = 0.91",
                     database_=database)  # fmt: skip
    code, _, err = disburse(fid, "--on", D0.isoformat())
    assert code == 2, err
    assert "rules:disbursement@shipped refuses to disburse" in err
    assert "fraud score 0.91 is at or above 0.80 at disbursement" in err
    assert lifecycle.get_financing(db, database, fid).status == "contracted"  # nothing paid

    db.execute_query("MATCH (e:Enterprise {id: 'T1'}) SET e.fraud_score = 0.1",
                     database_=database)  # fmt: skip
    code, out, err = disburse(fid, "--on", D0.isoformat())
    assert code == 0, err
    assert f"{fid} disbursed on {D0}: active, 50,000,000 CNY outstanding" in out
    fin = lifecycle.get_financing(db, database, fid)
    assert (fin.status, fin.outstanding_minor) == ("active", 50_000_000)
    assert trial_balance(db, database).balanced

    code, _, err = disburse(fid, "--on", D0.isoformat())
    assert code == 2 and "active" in err, err
    code, _, err = disburse("F-NOPE")
    assert code == 2 and "F-NOPE" in err, err
    code, _, err = disburse(fid, "--on", "05/01/2026")
    assert code == 2 and "--on takes a date as YYYY-MM-DD" in err, err
