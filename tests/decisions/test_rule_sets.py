"""Rule sets: refusals with clear messages (nothing stored), and the life cycle on the real
Neo4j — draft, simulate (the flipped decision listed), maker-checker publish with an
effective time (decisions before it keep the old version, later ones follow the new one),
retire — with the version recorded in every decision and the rule hits counted."""

from __future__ import annotations

import json
import time
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from neo4j import Driver

from decisions import lifecycle as dl
from decisions import monitoring
from decisions.engine import RULESETS, SHIPPED_APPROVAL, compile_rule_set, shipped
from decisions.errors import Forbidden, InvalidState, RuleSetInvalid
from decisions.indicators import BY_NAME, CATALOGUE
from finance import lifecycle
from finance.lifecycle import ApplicationCreate, AppStatus
from finance.policy import EnterpriseFacts
from tests.finance.test_lifecycle import _setup
from tests.finance.test_policy_and_products import BASE


def _model() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SHIPPED_APPROVAL.read_text(encoding="utf-8"))
    return doc


def _rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    table = next(n for n in doc["nodes"] if n["id"] == "screening")
    rows: list[dict[str, Any]] = table["content"]["rules"]
    return rows


def stricter() -> str:
    """Today's policy, except that a firm without risk scores goes to a person."""
    doc = _model()
    row = next(r for r in _rows(doc) if r["_id"] == "neutral_scores")
    row["outcome"] = "'refer'"
    row["reason"] = "'no risk scores yet: a person decides'"
    return json.dumps(doc)


def test_the_catalogue_declares_every_fact_the_policy_reads_once() -> None:
    assert len(BY_NAME) == len(CATALOGUE)
    assert set(BASE.as_dict()) <= set(BY_NAME)
    assert {f.name for f in fields(EnterpriseFacts)} <= set(BY_NAME)
    assert all(i.source and i.description for i in CATALOGUE)


def _refused(doc: dict[str, Any] | str) -> str:
    with pytest.raises(RuleSetInvalid) as e:
        compile_rule_set(doc if isinstance(doc, str) else json.dumps(doc), "approval", "t")
    return str(e.value)


def test_bad_rule_sets_are_refused_with_clear_messages() -> None:
    assert "not valid JSON: Expecting" in _refused('{"nodes": [')
    doc = _model()
    _rows(doc)[2]["when"] = "fraud_scroe >= 0.8"
    assert "unknown indicator fraud_scroe" in _refused(doc)
    doc = _model()
    _rows(doc)[2]["when"] = "fraud_score >="
    assert "does not compile" in _refused(doc)
    doc = _model()
    _rows(doc)[1]["when"] = "status > 3"  # a string compared with a number
    assert "fails on indicators of their declared types" in _refused(doc)
    doc = _model()
    _rows(doc)[2]["when"] = "fraud_score + 1"
    assert "gives float, not true/false" in _refused(doc)
    doc = _model()
    _rows(doc)[2]["outcome"] = "'maybe'"
    assert "outcome must be one of decline, refer, note, condition" in _refused(doc)
    doc = _model()
    _rows(doc)[2]["reason"] = "'fraud {fraud_level:.2f}'"
    assert "reason names unknown indicator fraud_level" in _refused(doc)
    doc = _model()
    doc["nodes"].append({"id": "js", "type": "functionNode", "name": "js", "content": {}})
    assert "type 'functionNode' is not accepted" in _refused(doc)
    # Every problem is listed, not only the first.
    doc = _model()
    _rows(doc)[2]["when"] = "nope > 1"
    _rows(doc)[3]["outcome"] = "'maybe'"
    msg = _refused(doc)
    assert "unknown indicator nope" in msg and "'maybe'" in msg


def _apply(db: Driver, database: str, id: str, invoice: str) -> lifecycle.Application:
    req = ApplicationCreate(id, "T1", "factoring_recourse", 50_000_000, "CNY", [invoice], "rm1")
    return lifecycle.submit_application(db, database, req, evaluator=dl.evaluator(db, database))


def test_draft_simulate_publish_with_an_effective_time_and_retire(
    db: Driver, database: str
) -> None:
    _setup(db, database, [("INV-1", 100_000_000), ("INV-2", 100_000_000),
                          ("INV-3", 100_000_000)])  # fmt: skip
    first = _apply(db, database, "A1", "INV-1")
    assert first.status == AppStatus.APPROVED, first.reasons
    assert first.policy_version == "rules:approval@shipped"
    [decision] = lifecycle.decisions(db, database, "A1")
    assert json.loads(decision["inputs"])["limit_minor"] == 50_000_000

    # A refused draft stores nothing.
    with pytest.raises(RuleSetInvalid, match="not valid JSON"):
        dl.draft(db, database, "approval", "{", "co1")
    assert dl.list_versions(db, database) == []

    draft = dl.draft(db, database, "approval", stricter(), "co1", "no scores, no autopilot")
    assert (draft.id, draft.status, draft.author) == ("approval@1", "draft", "co1")
    sim = dl.simulate(db, database, draft.id)
    assert (sim.applications, sim.skipped, sim.rule_set) == (1, 0, "rules:approval@1")
    [flip] = sim.flipped
    assert (flip.application_id, flip.recorded_verdict, flip.verdict) == ("A1", "approve",
                                                                          "refer")  # fmt: skip
    assert "no risk scores yet: a person decides" in flip.reasons
    assert dl.in_force(db, database).version == "shipped"  # a draft decides nothing

    with pytest.raises(Forbidden, match="co1 drafted rule set approval@1 and cannot publish"):
        dl.publish(db, database, draft.id, "co1")
    with pytest.raises(InvalidState, match="in the past"):
        dl.publish(db, database, draft.id, "co2", datetime.now(UTC) - timedelta(hours=1))
    effective = datetime.now(UTC) + timedelta(seconds=2)
    published = dl.publish(db, database, draft.id, "co2", effective)
    assert (published.status, published.publisher) == ("published", "co2")
    with pytest.raises(InvalidState, match="not a draft"):
        dl.publish(db, database, draft.id, "co3")

    before = _apply(db, database, "A2", "INV-2")  # before the effective time
    assert (before.status, before.policy_version) == (AppStatus.APPROVED,
                                                      "rules:approval@shipped")  # fmt: skip
    time.sleep(max(0.0, (effective - datetime.now(UTC)).total_seconds()) + 0.2)
    after = _apply(db, database, "A3", "INV-3")
    assert (after.status, after.policy_version) == (AppStatus.REFERRED, "rules:approval@1")
    assert after.reasons[0] == "no risk scores yet: a person decides"
    # Replay: each decision's own time finds the version that made it.
    assert dl.in_force(db, database, at=effective - timedelta(seconds=1)).version == "shipped"
    assert dl.in_force(db, database, at=effective).version == "1"
    assert monitoring.hits()[("rules:approval@1", "neutral_scores", "refer")] >= 1

    retired = dl.retire(db, database, draft.id, "co2", "too strict")
    assert retired.status == "retired"
    assert dl.in_force(db, database).version == "shipped"
    assert dl.in_force(db, database, at=effective + timedelta(milliseconds=1)).version == "1"


def test_the_shipped_rule_set_compiles_and_names_its_rules() -> None:
    rs = shipped()
    assert rs.label == "rules:approval@shipped"
    assert rs.rules[0] == "product_rules" and "auto_approval_limit" in rs.rules


def _dpd_table(policy: str, cells: list[str]) -> str:
    """A post-loan rule set of one table over the ``dpd`` column."""
    doc: dict[str, Any] = json.loads((RULESETS / "postloan.json").read_text(encoding="utf-8"))
    table = doc["nodes"][1]["content"]
    table["hitPolicy"] = policy
    table["inputs"] = [{"id": "dpd", "name": "DPD", "field": "dpd"}]
    table["rules"] = [
        {"_id": f"r{i}", "dpd": cell, "rule": f"'r{i}'", "outcome": "'alert'",
         "reason": "'{financing_id} is {dpd} days past due'"}
        for i, cell in enumerate(cells, start=1)
    ]  # fmt: skip
    return json.dumps(doc)


def _refused_postloan(content: str) -> str:
    with pytest.raises(RuleSetInvalid) as e:
        compile_rule_set(content, "postloan", "t")
    return str(e.value)


def test_type_mismatches_in_table_cells_are_refused() -> None:
    # A number column tested against text: equal to nothing, or an engine error at run time.
    msg = _refused_postloan(_dpd_table("collect", ["'late'", ">= 'late'", "> 30"]))
    assert "rule r1: column 'DPD' (dpd) is number but \"'late'\" compares it with text" in msg
    assert "rule r2: column 'DPD' (dpd) is number but \">= 'late'\" compares it with text" in msg
    assert "rule r3" not in msg
    # A text column tested against a number, in an approval table.
    doc = _model()
    table = next(n for n in doc["nodes"] if n["id"] == "screening")["content"]
    table["inputs"].append({"id": "st", "name": "Status", "field": "status"})
    _rows(doc)[1]["st"] = "> 3"
    assert "column 'Status' (status) is text but '> 3' compares it with a number" in _refused(doc)


def test_overlapping_rows_are_refused_where_the_hit_policy_is_unique(
    db: Driver, database: str
) -> None:
    content = _dpd_table("unique", ["< 30", "[30..90]", ">= 90"])
    msg = _refused_postloan(content)
    assert "rules r2 and r3 overlap (both match when dpd=90); hit policy 'unique' allows one" in msg
    with pytest.raises(RuleSetInvalid):
        dl.draft(db, database, "postloan", content, "co1")
    assert dl.list_versions(db, database) == []  # nothing stored, nothing to publish
    # Without the overlap it is accepted and runs with one row per case; collect and first
    # tables may overlap.
    ok = compile_rule_set(_dpd_table("unique", ["< 30", "[30..90]", "> 90"]), "postloan", "t")
    assert [h.rule for h in ok.fire({"financing_id": "F", "dpd": 90})] == ["r2"]
    assert [h.reasons for h in ok.fire({"financing_id": "F", "dpd": 91})] == [
        ("F is 91 days past due",)
    ]
    first = compile_rule_set(_dpd_table("first", ["< 30", "[30..90]", ">= 90"]), "postloan", "t")
    assert [h.rule for h in first.fire({"financing_id": "F", "dpd": 90})] == ["r2"]
    compile_rule_set(_dpd_table("collect", ["< 30", "[30..90]", ">= 90"]), "postloan", "t")
