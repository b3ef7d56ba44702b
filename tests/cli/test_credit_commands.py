"""`chainlens finance line …`, `finance deposit` and `finance withdraw` run as a user would,
on a chain loaded by the real ingest: refusals exit with code 2 and say why on stderr."""

from __future__ import annotations

from pathlib import Path

from neo4j import Driver

from finance.ledger import trial_balance
from tests.api.credit_world import expires, load_world
from tests.cli.conftest import run


def test_credit_lines_and_settlement_from_the_command_line(
    db: Driver, database: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    load_world(db, database, tmp_path / "world")
    env = {**cli_env, "COLUMNS": "200"}  # the line table is wide

    def ok(*args: str) -> str:
        result = run(env, "finance", *args)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def refused(*args: str, says: str) -> None:
        result = run(env, "finance", *args)
        assert result.returncode == 2, (result.stdout, result.stderr)
        assert says in " ".join(result.stderr.split()), result.stderr

    grant = ("line", "grant")
    out = ok(*grant, "L-C", "--enterprise", "C", "--kind", "supply_chain", "--limit",
             "5000000000", "--expires", expires())  # fmt: skip
    assert "L-C" in out and "5,000,000,000" in out
    ok(*grant, "L-C-T1", "--enterprise", "C", "--kind", "tier", "--tier", "1", "--parent",
       "L-C", "--limit", "2000000000", "--expires", expires())  # fmt: skip
    refused(*grant, "L-X", "--enterprise", "C", "--kind", "tier", "--tier", "9", "--parent",
            "L-C", "--limit", "1", "--expires", expires(), says="a tier is 1 to 5")  # fmt: skip
    refused(*grant, "L-X", "--enterprise", "NOPE", "--kind", "enterprise", "--limit", "10",
            "--expires", expires(), says="enterprise NOPE does not exist")  # fmt: skip
    refused(*grant, "L-X", "--enterprise", "C", "--kind", "enterprise", "--limit", "0",
            "--expires", expires(), says="must be positive")  # fmt: skip
    refused(*grant, "L-X", "--enterprise", "C", "--kind", "enterprise", "--limit", "10",
            "--expires", "31/12/2030", says="--expires takes a date as YYYY-MM-DD")  # fmt: skip
    refused(*grant, "L-X", "--enterprise", "C", "--kind", "enterprise", "--limit", "1.5",
            "--expires", expires(), says="Invalid value for '--limit'")  # fmt: skip

    out = ok("line", "limit", "L-C", "6000000000", "--request-id", "r1")
    assert "6,000,000,000" in out
    ok("line", "limit", "L-C", "6000000000", "--request-id", "r1")  # a retry
    refused("line", "limit", "L-C", "7000000000", "--request-id", "r1",
            says="request r1 already changed line L-C")  # fmt: skip
    refused("line", "limit", "L-NOPE", "5", "--request-id", "r3",
            says="credit line L-NOPE does not exist")  # fmt: skip

    assert "frozen" in ok("line", "freeze", "L-C-T1", "--reason", "audit")
    refused("line", "freeze", "L-C-T1", "--reason", "again", says="already frozen")
    assert "active" in ok("line", "unfreeze", "L-C-T1", "--reason", "cleared")

    listed = ok("line", "list", "--core", "C")
    assert "2 credit lines" in listed and "L-C-T1" in listed
    refused("line", "list", says="name --enterprise or --core")

    out = ok("deposit", "T1", "1000000", "--request-id", "d1")
    assert "balance 1,000,000" in out
    assert "balance 1,000,000" in ok("deposit", "T1", "1000000", "--request-id", "d1")
    assert "balance 600,000" in ok("withdraw", "T1", "400000", "--request-id", "w1")
    refused("withdraw", "T1", "600001", "--request-id", "w2",
            says="holds 600000, less than the 600001 asked")  # fmt: skip
    refused("deposit", "T1", "5", "--request-id", "d2", "--currency", "EURO", says="ISO 4217")
    assert trial_balance(db, database).balanced
