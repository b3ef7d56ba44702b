"""The indicator catalogue's point-in-time indicators (issue 26), through HTTP after the
set-up: a supplier with a model version on its scores, alerts raised and acknowledged at
known times, an overdue financing, documents checked against the graph, and an invoice
another secured party has registered a pledge on. `indicators` shows each value, as of now
and as of earlier times (an alert raised later, or a registration made later, did not
exist then); `submitApplication` records them with the decision, a rule reading one flips
that decision in a simulation; and the shipped post-loan rules raise an early warning as
soon as a registry conflict appears on a financing's collateral and as soon as a sensor
opens a critical alert, with nothing left for the end of the day."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from neo4j import Driver

from api.security import Role
from decisions.engine import SHIPPED_APPROVAL
from decisions.postloan import on_collateral_event
from finance import lifecycle
from graph.queries.risk import write_scores
from sensors.model import AlertEvent, AlertKind, AssetInfo, Severity
from sensors.registry import register_collateral
from sensors.sink import GraphSink, bind_alert_hook
from tests.api.conftest import gql
from tests.finance.test_lifecycle import D0, _app, _setup

pytestmark = pytest.mark.neo4j

CATALOGUE = """query($stage: String!) { indicatorCatalogue(stage: $stage) {
  name type unit source freshness nullable } }"""
INDICATORS = """query($ids: [ID!], $at: DateTime, $value: BigInt) {
  indicators(enterpriseId: "T1", productId: "factoring_recourse", amount: 40000000,
             collateralValue: $value, collateralIds: $ids, at: $at) { name type value } }"""
SUBMIT = """mutation($input: ApplicationInput!) { submitApplication(input: $input) {
  id status decisions { kind verdict policyVersion inputs } } }"""
SIMULATE = """query($content: JSON!) { simulateRuleSet(content: $content) { applications
  flipped { applicationId recordedVerdict verdict reasons rules } } }"""
REGISTER = """mutation($input: RegistrationInput!, $rid: ID!) {
  registerSecurityInterest(input: $input, requestId: $rid) { id status securedParty } }"""
DISCHARGE = """mutation($id: ID!, $on: Date!) { dischargeSecurityInterest(id: $id, on: $on) {
  id status } }"""
EOD = """mutation($asOf: Date!) { runEndOfDay(asOf: $asOf) { earlyWarnings } }"""
ALERTS = """query($financingId: String) { alerts(financingId: $financingId, first: 20) {
  edges { node { kind message evidence } } } }"""

NEW = {
    "loan_to_value", "score_model_version", "open_alerts", "open_critical_alerts", "max_dpd",
    "overdue_financings", "registry_conflicts", "registry_conflict_ids", "documents",
    "documents_verified", "documents_failed", "four_flow_score", "four_flow_invoices",
}  # fmt: skip

ALERT = """
MATCH (e:Enterprise {id: 'T1'})
UNWIND $rows AS r
CREATE (al:Alert {id: r.id, kind: 'test', severity: r.severity, status: r.status,
                  raised_at: r.raised_at, acknowledged_at: r.acknowledged_at,
                  message: r.id})-[:ABOUT]->(e)
"""
DOCUMENTS = """
UNWIND $rows AS r
MATCH (x {id: r.proves})
CREATE (d:Document {id: r.id, kind: 'invoice', outcome: r.outcome, uploaded_at: r.at})
CREATE (d)-[:PROVES]->(x)
"""


def _q(client: httpx.Client, headers: dict[str, str], query: str, **v: object) -> Any:
    r = gql(client, headers, query, **v)
    body = r.json()
    assert r.status_code == 200 and "errors" not in body, body
    return body["data"]


def _values(client: httpx.Client, headers: dict[str, str], **v: object) -> dict[str, Any]:
    rows = _q(client, headers, INDICATORS, **v)["indicators"]
    return {i["name"]: json.loads(i["value"]) for i in rows}


def test_point_in_time_indicators_are_shown_recorded_and_read_by_rules(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    _setup(db, database, [("INV-X", 100_000_000), ("INV-Y", 50_000_000), ("INV-Z", 1_000)])
    now = datetime.now(UTC)
    db.execute_query(
        "MATCH (e:Enterprise {id: 'T1'}) SET e.fraud_score = 0.1, e.default_score = 0.1, "
        "e.score_model_version = 'fraud-gnn@7'", database_=database)  # fmt: skip
    hour = timedelta(hours=1)
    db.execute_query(ALERT, rows=[
        {"id": "AL-crit", "severity": "critical", "status": "open", "raised_at": now - 2 * hour,
         "acknowledged_at": None},
        {"id": "AL-acked", "severity": "high", "status": "acknowledged",
         "raised_at": now - 3 * hour, "acknowledged_at": now - hour},
        {"id": "AL-later", "severity": "critical", "status": "open",
         "raised_at": now + 24 * hour, "acknowledged_at": None},
    ], database_=database)  # fmt: skip
    db.execute_query(
        "MATCH (e:Enterprise {id: 'T1'}) CREATE (:Financing {id: 'F-OLD', status: 'overdue', "
        "origin: 'loaded', dpd: 45, outstanding_minor: 1000})-[:BORROWER]->(e)",
        database_=database)  # fmt: skip
    iso = (now - hour).isoformat(timespec="milliseconds")
    db.execute_query(DOCUMENTS, rows=[
        {"id": "DOC-lic", "proves": "T1", "outcome": "verified", "at": iso},
        {"id": "DOC-x", "proves": "INV-X", "outcome": "forged", "at": iso},
        {"id": "DOC-z", "proves": "INV-Z", "outcome": "mismatch", "at": iso},  # not offered
    ], database_=database)  # fmt: skip
    officer = login(Role.CREDIT_OFFICER)
    rm = login(Role.RELATIONSHIP_MANAGER)
    analyst = login(Role.ANALYST)

    # Declared once, with type, unit, source query and freshness; post-loan has its own.
    got = {i["name"]: i for i in _q(client, analyst, CATALOGUE, stage="approval")
           ["indicatorCatalogue"]}  # fmt: skip
    assert set(got) >= NEW
    assert got["open_critical_alerts"]["type"] == "integer"
    assert got["open_critical_alerts"]["source"] == "graph.queries.decisions.POINT_IN_TIME"
    assert got["open_critical_alerts"]["freshness"].startswith("point in time")
    assert (got["loan_to_value"]["unit"], got["loan_to_value"]["nullable"]) == ("ratio", True)
    assert "FOUR_FLOW_INVOICE" in got["four_flow_score"]["source"]
    post = {i["name"] for i in _q(client, analyst, CATALOGUE, stage="postloan")
            ["indicatorCatalogue"]}  # fmt: skip
    assert {"registry_conflicts", "open_critical_alerts", "dpd"} <= post

    # Another secured party registers a pledge of INV-Y today.
    reg = _q(client, officer, REGISTER, rid="r-y", input={
        "kind": "pledge", "collateralId": "INV-Y", "securedParty": "Other Bank",
        "registeredOn": now.date().isoformat(),
        "expiresOn": (now.date() + timedelta(days=90)).isoformat(),
    })["registerSecurityInterest"]  # fmt: skip

    v = _values(client, rm, ids=["INV-X", "INV-Y"], value=80_000_000)
    assert v["loan_to_value"] == 0.5
    assert v["score_model_version"] == "fraud-gnn@7"
    assert (v["open_alerts"], v["open_critical_alerts"]) == (1, 1)  # AL-later not yet raised
    assert (v["max_dpd"], v["overdue_financings"]) == (45, 1)
    assert (v["registry_conflicts"], v["registry_conflict_ids"]) == (1, [reg["id"]])
    assert (v["documents"], v["documents_verified"], v["documents_failed"]) == (2, 1, 1)
    # Invoices with a seller and a buyer, no contract, shipment or payment: 1 flow of 4.
    assert (v["four_flow_score"], v["four_flow_invoices"]) == (0.25, 2)

    # As of 90 minutes ago: the acknowledged alert was still open. As of yesterday: no
    # registration yet, no document uploaded, no alert raised.
    earlier = _values(client, rm, ids=["INV-X", "INV-Y"], at=(now - 1.5 * hour).isoformat())
    assert (earlier["open_alerts"], earlier["open_critical_alerts"]) == (2, 1)
    yesterday = _values(client, rm, ids=["INV-X", "INV-Y"], at=(now - 24 * hour).isoformat())
    assert (yesterday["open_alerts"], yesterday["registry_conflicts"]) == (0, 0)
    assert yesterday["documents"] == 0
    # Nothing offered: no conflict, no four-flow score, the firm's own documents only.
    bare = _values(client, rm)
    assert (bare["registry_conflicts"], bare["four_flow_score"], bare["documents"]) == (0, None, 1)

    # Applying: the shipped rules approve; the decision records what they read.
    app = _q(client, rm, SUBMIT, input={
        "id": "IND-1", "enterpriseId": "T1", "productId": "factoring_recourse",
        "amount": 40_000_000, "currency": "CNY", "collateralIds": ["INV-X"],
    })["submitApplication"]  # fmt: skip
    (d,) = app["decisions"]
    assert (app["status"], d["policyVersion"]) == ("approved", "rules:approval@shipped")
    inputs = d["inputs"] if isinstance(d["inputs"], dict) else json.loads(d["inputs"])
    assert (inputs["open_critical_alerts"], inputs["max_dpd"]) == (1, 45)
    assert (inputs["four_flow_score"], inputs["documents_failed"]) == (0.25, 1)
    assert inputs["registry_conflicts"] == 0  # INV-X is not registered
    assert (inputs["collateral_value_minor"], inputs["loan_to_value"]) == (100_000_000, 0.4)

    # A rule reading a new indicator: refer while a critical alert is open. Simulated on the
    # recorded decision, it flips the approval.
    doc = json.loads(SHIPPED_APPROVAL.read_text(encoding="utf-8"))
    screening = next(n for n in doc["nodes"] if n["id"] == "screening")
    screening["content"]["rules"].append({
        "_id": "critical_alert", "when": "open_critical_alerts > 0",
        "rule": "'critical_alert'", "outcome": "'refer'",
        "reason": "'{open_critical_alerts} critical alerts open about {name}'",
    })  # fmt: skip
    sim = _q(client, officer, SIMULATE, content=doc)["simulateRuleSet"]
    flipped = {f["applicationId"]: f for f in sim["flipped"]}
    assert (flipped["IND-1"]["recordedVerdict"], flipped["IND-1"]["verdict"]) == (
        "approve", "refer")
    assert "critical_alert" in flipped["IND-1"]["rules"]
    assert "1 critical alerts open about Tier One Parts" in flipped["IND-1"]["reasons"]


def test_a_registry_conflict_and_a_critical_alert_raise_early_warnings(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    _setup(db, database, [("INV-PL", 100_000_000)])
    app = lifecycle.submit_application(db, database, _app("PL1", "INV-PL", 50_000_000), D0)
    fid = app.financing_id
    assert fid is not None, app.reasons
    lifecycle.sign_contract(db, database, fid, "CT-PL", D0)
    lifecycle.disburse(db, database, fid, D0)
    officer = login(Role.CREDIT_OFFICER)
    assert _q(client, officer, EOD, asOf=D0.isoformat())["runEndOfDay"]["earlyWarnings"] == 0

    # The financing's own registration is discharged and another party registers INV-PL.
    own = f"RSI-{fid}-INV-PL"
    assert _q(client, officer, DISCHARGE, id=own, on=D0.isoformat())[
        "dischargeSecurityInterest"]["status"] == "discharged"  # fmt: skip
    other = _q(client, officer, REGISTER, rid="r-pl", input={
        "kind": "transfer", "collateralId": "INV-PL", "securedParty": "Other Factor",
        "registeredOn": D0.isoformat(), "expiresOn": (D0 + timedelta(days=90)).isoformat(),
    })["registerSecurityInterest"]  # fmt: skip
    # The registration is an event: the warning is raised at once, not at the end of the day.
    edges = _q(client, officer, ALERTS, financingId=fid)["alerts"]["edges"]
    (w,) = [e["node"] for e in edges if e["node"]["kind"] == "early_warning"]
    assert f"1 live registrations of another secured party ({other['id']})" in w["message"]
    assert "rule registry_conflict of rules:postloan@shipped" in w["message"]
    evidence = w["evidence"] if isinstance(w["evidence"], dict) else json.loads(w["evidence"])
    evidence = evidence if "rule" in evidence else json.loads(evidence)
    assert evidence["indicators"]["registry_conflict_ids"] == [other["id"]]
    assert _q(client, officer, EOD, asOf=D0.isoformat())["runEndOfDay"]["earlyWarnings"] == 0

    # A sensor on the borrower's herd raises a critical alert: the intake's sink runs the
    # post-loan rules at once (the hook the API and `chainlens sensors intake` bind).
    register_collateral(db, database, [
        AssetInfo("HERD-PL", "livestock", Decimal(50), "head", owner_id="T1"),
    ])  # fmt: skip
    at = datetime.now(UTC)
    sink = GraphSink(db, database, [bind_alert_hook(on_collateral_event, db, database)])
    sink.write_alerts([AlertEvent(
        "AL-herd", "herd_count_drop:HERD-PL", AlertKind.HERD_COUNT_DROP, Severity.CRITICAL,
        "HERD-PL", None, at, at, "12 head missing from HERD-PL", {"missing": 12},
    )])  # fmt: skip
    edges = _q(client, officer, ALERTS, financingId=fid)["alerts"]["edges"]
    messages = [e["node"]["message"] for e in edges if e["node"]["kind"] == "early_warning"]
    assert any("1 critical alerts are open about" in m and "critical_alerts_open" in m
               for m in messages), messages  # fmt: skip
    assert _q(client, officer, EOD, asOf=D0.isoformat())["runEndOfDay"]["earlyWarnings"] == 0


ADMISSION_AT = """query($at: DateTime) { admission(enterpriseId: "T1", at: $at) {
  verdict rules indicators { name value } } }"""


def test_scores_are_read_as_they_stood_at_the_decisions_time(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    """Two scoring runs a day apart (through `graph.queries.risk.write_scores`, as
    `chainlens score` writes them): `indicators` and `admission` as of a time read the run in
    force then — neutral before the first, the first run's between them, the second's now."""
    _setup(db, database, [("INV-S", 100_000_000)])
    now = datetime.now(UTC)
    first, second = now - timedelta(days=2), now - timedelta(days=1)
    row = {"id": "T1", "explanation": "{}"}
    write_scores(db, database, [{**row, "fraud_score": 0.1, "default_score": 0.15}],
                 model_version="fraud-gnn@1", scored_at=first)  # fmt: skip
    write_scores(db, database, [{**row, "fraud_score": 0.92, "default_score": 0.3}],
                 model_version="fraud-gnn@2", scored_at=second)  # fmt: skip
    write_scores(db, database, [{**row, "fraud_score": 0.92, "default_score": 0.3}],
                 model_version="fraud-gnn@2", scored_at=second)  # a re-run: idempotent
    records, _, _ = db.execute_query(
        "MATCH (:Enterprise {id: 'T1'})-[:SCORED]->(s:Score) RETURN count(s) AS n",
        database_=database)  # fmt: skip
    assert records[0]["n"] == 2
    analyst = login(Role.ANALYST)

    def seen(at: datetime | None) -> tuple[Any, ...]:
        v = _values(client, analyst, at=None if at is None else at.isoformat())
        return (v["fraud_score"], v["default_score"], v["scores_are_neutral"],
                v["score_model_version"])  # fmt: skip

    assert seen(first - timedelta(hours=1)) == (0.2, 0.2, True, None)
    assert seen(first + timedelta(hours=1)) == (0.1, 0.15, False, "fraud-gnn@1")
    assert seen(None) == (0.92, 0.3, False, "fraud-gnn@2")
    # Admission reads the same history: declined now (0.92 >= 0.80), admitted back then.
    then = _q(client, analyst, ADMISSION_AT, at=(first + timedelta(hours=1)).isoformat())
    assert "fraud_decline" not in then["admission"]["rules"]
    today = _q(client, analyst, ADMISSION_AT, at=None)["admission"]
    assert (today["verdict"], "fraud_decline" in today["rules"]) == ("decline", True)


def test_days_past_due_are_read_as_they_stood_at_the_decisions_time(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    """The end of day keeps a financing's days past due as they change; `indicators` as of a
    past day reads them then: none before it was paid out, 0 before maturity, 10 days in,
    and the latest now."""
    _setup(db, database, [("INV-D", 100_000_000)])
    app = lifecycle.submit_application(db, database, _app("PD1", "INV-D", 50_000_000), D0)
    fid = app.financing_id
    assert fid is not None, app.reasons
    lifecycle.sign_contract(db, database, fid, "CT-PD", D0)
    maturity = lifecycle.disburse(db, database, fid, D0).maturity_on
    assert maturity is not None
    for day in (maturity - timedelta(days=1), maturity + timedelta(days=10),
                maturity + timedelta(days=10), maturity + timedelta(days=40)):  # twice: once
        lifecycle.update_delinquency(db, database, fid, day)
    records, _, _ = db.execute_query(
        "MATCH (f:Financing {id: $id}) RETURN f.dpd_on AS days, f.dpd_values AS dpd",
        id=fid, database_=database)  # fmt: skip
    assert records[0]["dpd"] == [0, 10, 40]
    analyst = login(Role.ANALYST)

    def dpd_at(day: date) -> tuple[int, int]:
        at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC).isoformat()
        v = _values(client, analyst, at=at)
        return v["max_dpd"], v["overdue_financings"]

    assert dpd_at(D0 - timedelta(days=1)) == (0, 0)  # not paid out yet
    assert dpd_at(maturity + timedelta(days=5)) == (0, 0)
    assert dpd_at(maturity + timedelta(days=20)) == (10, 1)
    v = _values(client, analyst)
    assert (v["max_dpd"], v["overdue_financings"]) == (40, 1)
