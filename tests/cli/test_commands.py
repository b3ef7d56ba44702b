"""The `chainlens` console script, run as a user would, against the suite's Neo4j."""

from __future__ import annotations

import csv
from pathlib import Path

from neo4j import Driver

from api.security import authenticate
from tests.cli.conftest import run


def test_users_add_then_login(db: Driver, database: str, cli_env: dict[str, str]) -> None:
    password = "a-long-enough-password"
    result = run(
        cli_env,
        "users",
        "add",
        "carol",
        "--role",
        "analyst",
        "--role",
        "service",
        stdin=f"{password}\n{password}\n",
    )
    assert result.returncode == 0, result.stderr
    assert password not in result.stdout + result.stderr
    user = authenticate(db, database, "carol", password)
    assert sorted(user.roles) == ["analyst", "service"]


def test_users_add_rejects_bad_input(db: Driver, cli_env: dict[str, str]) -> None:
    unknown = run(cli_env, "users", "add", "dave", "--role", "superuser", "--password", "x" * 12)
    assert unknown.returncode == 1 and "unknown role" in unknown.stderr
    short = run(cli_env, "users", "add", "dave", "--role", "analyst", "--password", "short")
    assert short.returncode == 1 and "at least 12 characters" in short.stderr


def test_db_init_is_idempotent_and_schema_prints_sdl(cli_env: dict[str, str], db: Driver) -> None:
    for _ in range(2):
        result = run(cli_env, "db", "init")
        assert result.returncode == 0, result.stderr
        assert "schema applied" in result.stderr
    sdl = run(cli_env, "schema")
    assert sdl.returncode == 0
    assert "searchEnterprises(" in sdl.stdout and "type Query" in sdl.stdout
    # stdout is pure SDL: no log lines mixed in
    assert "info" not in sdl.stdout.splitlines()[0]


def test_external_uri_starts_nothing(cli_env: dict[str, str]) -> None:
    result = run(cli_env, "neo4j", "start")
    assert result.returncode == 1
    assert "NEO4J_URI is set" in result.stderr


def test_db_prune_audit_keeps_the_retention_period(
    cli_env: dict[str, str], db: Driver, database: str
) -> None:
    from datetime import UTC, datetime, timedelta

    from graph.queries.audit import AuditEvent, read_audit_events, write_audit_events

    now = datetime.now(UTC)
    write_audit_events(db, database, [
        AuditEvent(id=f"ev-{days}", at=now - timedelta(days=days), username="carol",
                   roles=("analyst",), kind="graphql", operation=None, fields=(),
                   decision="allowed", detail=None, correlation_id=None, duration_ms=None,
                   variables=None)
        for days in (1, 20, 400)
    ])  # fmt: skip
    result = run(cli_env, "db", "prune-audit", "--keep-days", "30")
    assert result.returncode == 0, result.stderr
    assert "deleted: 1" in result.stderr
    assert sorted(e.id for e in read_audit_events(db, database)) == ["ev-1", "ev-20"]
    refused = run(cli_env, "db", "prune-audit", "--keep-days", "0")
    assert refused.returncode == 2 and "--keep-days" in refused.stderr


def test_generate_writes_data_and_truth_with_trade_noise(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "chain"
    args = ("generate", "--out", str(out), "--enterprises", "300", "--seed", "4", "--trade-noise")
    result = run(cli_env, *args)
    assert result.returncode == 0, result.stderr
    assert "truth/logistics_gaps" in result.stderr
    with (out / "truth" / "logistics_gaps.csv").open(encoding="utf-8") as f:
        assert next(f).strip() == "invoice_id,seller_id,buyer_id"
    assert (out / "data" / "shipments.csv").stat().st_size > 0


def test_generate_plants_typologies_and_labels_them_as_cases(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "aml"
    args = ("generate", "--out", str(out), "--enterprises", "600", "--seed", "4", "--typologies",
            "--cases")  # fmt: skip
    result = run(cli_env, *args)
    assert result.returncode == 0, result.stderr
    assert "truth/typology_members" in result.stderr
    with (out / "truth" / "typology_members.csv").open(encoding="utf-8") as f:
        members = {r["enterprise_id"]: r["typology"] for r in csv.DictReader(f)}
    with (out / "cases" / "cases.csv").open(encoding="utf-8") as f:
        cases = list(csv.DictReader(f))
    labelled = [c for c in cases if c["enterprise_id"] in members and c["outcome"] != "default"]
    assert labelled and all(c["outcome"] == members[c["enterprise_id"]] for c in labelled)
