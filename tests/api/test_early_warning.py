"""Post-loan rules at work, through HTTP: the end-of-day job (`runEndOfDay`) evaluates the
post-loan rule set in force (the shipped one) on every financing with money out; when the
borrower's core stops being active (a registry event) or defaults on its own financings, an
early-warning alert is raised on the affected financing with the rule and the indicator
values, listed by `alerts`; running the job again raises nothing twice. A post-loan rule set
goes through the same checks as approval: its own catalogue and outcomes. `disburse`
re-evaluates the disbursement rules: a fraud score risen since approval stops the payment."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from neo4j import Driver

from api.security import Role
from decisions import lifecycle as dl
from decisions import monitoring
from decisions import postloan as dp
from decisions.engine import RULESETS, compile_rule_set, shipped
from decisions.errors import InvalidState, RuleSetInvalid
from finance import lifecycle
from tests.api.conftest import gql
from tests.finance.test_lifecycle import D0, _app, _setup

pytestmark = pytest.mark.neo4j

EOD = """
mutation($asOf: Date!) {
  runEndOfDay(asOf: $asOf) { reviewed maturityWarnings overdueAlerts earlyWarnings }
}
"""
ALERTS = """
query($financingId: String) {
  alerts(financingId: $financingId, first: 20) {
    edges { node { id kind severity status message financingIds enterpriseIds evidence } }
  }
}
"""


def _q(client: httpx.Client, headers: dict[str, str], query: str, **v: object) -> Any:
    r = gql(client, headers, query, **v)
    body = r.json()
    assert r.status_code == 200 and "errors" not in body, body
    return body["data"]


def _financing(db: Driver, database: str) -> str:
    _setup(db, database, [("INV-PL", 100_000_000)])
    app = lifecycle.submit_application(db, database, _app("PL1", "INV-PL", 50_000_000), D0)
    assert app.financing_id is not None, app.reasons
    lifecycle.sign_contract(db, database, app.financing_id, "CT-PL", D0)
    lifecycle.disburse(db, database, app.financing_id, D0)
    return app.financing_id


def test_a_core_leaving_the_registry_raises_an_early_warning_on_its_suppliers_financing(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    fid = _financing(db, database)
    officer = login(Role.CREDIT_OFFICER)
    catalogue = _q(client, officer, "{ indicatorCatalogue(stage: \"postloan\") { name type } }")
    names = {i["name"] for i in catalogue["indicatorCatalogue"]}
    assert {"core_status", "core_overdue_financings", "dpd", "financing_id"} <= names
    assert "limit_minor" not in names
    admission = _q(client, officer, "{ indicatorCatalogue(stage: \"admission\") { name } }")
    names = {i["name"] for i in admission["indicatorCatalogue"]}
    assert {"status", "overdue_financings", "documents_failed"} <= names
    assert not names & {"limit_minor", "requested_minor", "dpd"}
    wrong = gql(client, officer, "{ indicatorCatalogue(stage: \"closing\") { name } }").json()
    assert ("stage must be one of admission, approval, disbursement, postloan"
            in wrong["errors"][0]["message"])  # fmt: skip
    quiet = _q(client, officer, EOD, asOf=D0.isoformat())["runEndOfDay"]
    assert quiet["earlyWarnings"] == 0

    # The registry reports the core (C, which T1 supplies) in liquidation.
    db.execute_query("MATCH (c:Enterprise {id: 'C'}) SET c.status = 'liquidating'",
                     database_=database)  # fmt: skip
    before = monitoring.hits().get(("rules:postloan@shipped", "core_not_active", "alert"), 0)
    run = _q(client, officer, EOD, asOf=D0.isoformat())["runEndOfDay"]
    assert run["earlyWarnings"] == 1
    after = monitoring.hits().get(("rules:postloan@shipped", "core_not_active", "alert"), 0)
    assert after == before + 1  # the served app runs in this process: its counter

    edges = _q(client, officer, ALERTS, financingId=fid)["alerts"]["edges"]
    warnings = [e["node"] for e in edges if e["node"]["kind"] == "early_warning"]
    assert len(warnings) == 1
    w = warnings[0]
    assert w["severity"] == "high" and w["status"] == "open"
    assert w["financingIds"] == [fid] and "T1" in w["enterpriseIds"]
    assert "core C of Tier One Parts is liquidating, not active" in w["message"]
    assert "rule core_not_active of rules:postloan@shipped" in w["message"]
    evidence = w["evidence"] if isinstance(w["evidence"], dict) else json.loads(w["evidence"])
    evidence = evidence if "rule" in evidence else json.loads(evidence)
    assert evidence["rule"] == "core_not_active"
    assert evidence["rule_set"] == "rules:postloan@shipped"
    assert evidence["indicators"]["core_id"] == "C"
    assert evidence["indicators"]["core_status"] == "liquidating"
    assert evidence["indicators"]["financing_id"] == fid
    assert evidence["indicators"]["outstanding_minor"] == 50_000_000

    # Again the same day: nothing raised twice.
    assert _q(client, officer, EOD, asOf=D0.isoformat())["runEndOfDay"]["earlyWarnings"] == 0

    # The core defaults on a financing of its own: a second rule fires on T1's financing.
    db.execute_query(
        "MATCH (c:Enterprise {id: 'C'}) CREATE (:Financing {id: 'F-CORE', status: 'overdue', "
        "origin: 'loaded'})-[:BORROWER]->(c)", database_=database)  # fmt: skip
    assert _q(client, officer, EOD, asOf=D0.isoformat())["runEndOfDay"]["earlyWarnings"] == 1
    edges = _q(client, officer, ALERTS, financingId=fid)["alerts"]["edges"]
    messages = sorted(e["node"]["message"] for e in edges if e["node"]["kind"] == "early_warning")
    assert any("core C of Tier One Parts has 1 overdue financings" in m for m in messages)


def test_post_loan_rule_sets_read_their_own_catalogue_and_outcomes() -> None:
    rs = shipped("postloan")
    assert rs.label == "rules:postloan@shipped"
    doc = json.loads((RULESETS / "postloan.json").read_text(encoding="utf-8"))
    rows = doc["nodes"][1]["content"]["rules"]
    rows[0]["when"] = "limit_minor > 0"  # an approval indicator, not a post-loan one
    rows[1]["outcome"] = "'decline'"  # post-loan rows alert or note
    with pytest.raises(RuleSetInvalid) as e:
        compile_rule_set(json.dumps(doc), "postloan", "t")
    text = str(e.value)
    assert "unknown indicator limit_minor" in text
    assert "outcome must be one of alert, note, got \"'decline'\"" in text


DISBURSE = """
mutation($id: ID!, $on: Date!) { disburse(financingId: $id, on: $on) { id status } }
"""


def test_disbursement_re_evaluates_the_disbursement_rules(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    _setup(db, database, [("INV-D", 100_000_000)])
    app = lifecycle.submit_application(db, database, _app("D1", "INV-D", 50_000_000), D0)
    fid = app.financing_id
    assert fid is not None, app.reasons
    lifecycle.sign_contract(db, database, fid, "CT-D", D0)
    officer = login(Role.CREDIT_OFFICER)

    # Between approval and disbursement the borrower's fraud score rises past 0.80.
    db.execute_query("MATCH (e:Enterprise {id: 'T1'}) SET e.fraud_score = 0.91",
                     database_=database)  # fmt: skip
    r = gql(client, officer, DISBURSE, id=fid, on=D0.isoformat()).json()
    assert r.get("data") is None or r["data"].get("disburse") is None
    message = r["errors"][0]["message"]
    assert "rules:disbursement@shipped refuses to disburse" in message
    assert "fraud score 0.91 is at or above 0.80 at disbursement" in message
    assert lifecycle.get_financing(db, database, fid).status == "contracted"  # nothing paid

    db.execute_query("MATCH (e:Enterprise {id: 'T1'}) SET e.fraud_score = 0.1",
                     database_=database)  # fmt: skip
    done = _q(client, officer, DISBURSE, id=fid, on=D0.isoformat())["disburse"]
    assert done["status"] == "active"


SIMULATE_POSTLOAN = """query($id: ID, $content: JSON, $asOf: Date) {
  simulatePostloanRules(id: $id, content: $content, asOf: $asOf) {
    ruleSet asOf financings ruleHits { key count } warnings { financingId rule reason } } }"""
DRAFT = """mutation($content: JSON!) { draftRuleSet(name: "postloan", content: $content,
  note: "stricter default score") { id status } }"""


def test_a_post_loan_draft_is_simulated_over_the_portfolio_and_not_over_approvals(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    fid = _financing(db, database)
    doc = json.loads((RULESETS / "postloan.json").read_text(encoding="utf-8"))
    rows = doc["nodes"][1]["content"]["rules"]
    rows[3]["when"] = "default_score >= 0.05"  # stricter: T1's 0.1 now alerts
    analyst, officer = login(Role.ANALYST), login(Role.CREDIT_OFFICER)
    sim = _q(client, analyst, SIMULATE_POSTLOAN, content=doc, asOf=D0.isoformat())[
        "simulatePostloanRules"]  # fmt: skip
    assert (sim["ruleSet"], sim["asOf"], sim["financings"]) == (
        "rules:postloan@unsaved", D0.isoformat(), 1)
    assert [(w["financingId"], w["rule"]) for w in sim["warnings"]] == [
        (fid, "default_score_high")]
    assert "default score of Tier One Parts is 0.10" in sim["warnings"][0]["reason"]
    assert {"key": "default_score_high", "count": 1} in sim["ruleHits"]
    assert not db.execute_query("MATCH (a:Alert) RETURN a", database_=database).records
    # The shipped rules raise nothing on it.
    shipped_sim = dp.simulate(db, database, (RULESETS / "postloan.json").read_text(), D0)
    assert shipped_sim.alerts == []
    # The same life cycle: drafted as a version of `postloan`, simulated by its id over the
    # portfolio; replaying approvals with it is refused, as is an approval version here.
    draft = _q(client, officer, DRAFT, content=doc)["draftRuleSet"]
    assert (draft["id"], draft["status"]) == ("postloan@1", "draft")
    by_id = _q(client, analyst, SIMULATE_POSTLOAN, id=draft["id"], asOf=D0.isoformat())[
        "simulatePostloanRules"]  # fmt: skip
    assert by_id["ruleSet"] == "rules:postloan@1" and by_id["warnings"] == sim["warnings"]
    with pytest.raises(InvalidState) as e:
        dl.simulate(db, database, id=draft["id"])
    assert "simulation replays approval decisions" in str(e.value)
    approval = dl.draft(db, database, "approval", (RULESETS / "approval.json").read_text(),
                        "co1", "unchanged")  # fmt: skip
    for v, says in (({"id": "approval@9"}, "no rule set 'approval@9'"),
                    ({"id": approval.id}, "approval@1 is not a post-loan rule set"),
                    ({}, "a rule set version or content, not both"),
                    ({"id": draft["id"], "content": doc}, "not both")):  # fmt: skip
        r = gql(client, analyst, SIMULATE_POSTLOAN, **v).json()
        assert says in r["errors"][0]["message"], r
    bad = gql(client, analyst, SIMULATE_POSTLOAN, content={"nodes": []}).json()
    assert bad["errors"], bad
    rm = login(Role.RELATIONSHIP_MANAGER)
    assert gql(client, rm, SIMULATE_POSTLOAN, content=doc).json()["errors"]
