"""What the rule editor (api/web/rules.html) asks of the API, over HTTP on the real Neo4j:
validateRuleSet checks a content as draftRuleSet would and stores nothing; ruleSetsInForce
lists every rule set name with what decides under it now (shipped, then published)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from api.security import Role
from decisions.engine import RULESETS
from tests.api.conftest import gql

pytestmark = pytest.mark.neo4j

VALIDATE = """query($name: String!, $content: JSON!) {
  validateRuleSet(name: $name, content: $content) { ok problems tables rules }
}"""
IN_FORCE = "{ ruleSetsInForce { name stage label content version { id version status } } }"
VERSIONS = "query($name: String) { ruleSets(name: $name) { id version status } }"
DRAFT = """mutation($name: String!, $content: JSON!) {
  draftRuleSet(name: $name, content: $content) { id version status }
}"""
PUBLISH = "mutation($id: ID!) { publishRuleSet(id: $id) { id status } }"


def _shipped(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((RULESETS / f"{name}.json").read_text(encoding="utf-8"))
    return doc


def _data(r: httpx.Response) -> dict[str, Any]:
    body = r.json()
    assert "errors" not in body, body
    return dict(body["data"])


def test_validate_lists_every_problem_and_stores_nothing(
    client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    analyst = login(Role.ANALYST)  # readers validate too: it stores nothing
    ok = _data(gql(client, analyst, VALIDATE, name="approval", content=_shipped("approval")))
    tables = [n for n in _shipped("approval")["nodes"] if n["type"] == "decisionTableNode"]
    assert ok["validateRuleSet"] == {
        "ok": True, "problems": [], "tables": len(tables),
        "rules": sum(len(t["content"]["rules"]) for t in tables),
    }  # fmt: skip

    bad = _shipped("approval")
    rows = next(n for n in bad["nodes"] if n["id"] == "screening")["content"]["rules"]
    rows[2]["when"] = "fraud_scor >= 0.7"
    rows[3]["outcome"] = "'maybe'"
    got = _data(gql(client, analyst, VALIDATE, name="approval", content=bad))["validateRuleSet"]
    assert got["ok"] is False and got["tables"] == 0
    assert got["problems"] == [
        "table 'screening', rule fraud_decline: unknown indicator fraud_scor in "
        "'fraud_scor >= 0.7'",
        "table 'screening', rule fraud_refer: outcome must be one of decline, refer, note, "
        "condition, got \"'maybe'\"",
    ]
    # The stage follows the name: an approval row's outcome is not a post-loan one.
    got = _data(gql(client, analyst, VALIDATE, name="postloan", content=_shipped("approval")))
    assert not got["validateRuleSet"]["ok"]
    assert any("outcome must be one of alert, note" in p
               for p in got["validateRuleSet"]["problems"])  # fmt: skip
    bad_name = _data(gql(client, analyst, VALIDATE, name="no good", content=bad))
    assert bad_name["validateRuleSet"]["problems"] == [
        "a rule set name is letters, digits and _, got 'no good'"
    ]
    assert _data(gql(client, analyst, VERSIONS, name=None))["ruleSets"] == []
    # Outside the rule readers' roles: refused.
    rm = login(Role.RELATIONSHIP_MANAGER)
    body = gql(client, rm, VALIDATE, name="approval", content=bad).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_in_force_is_the_shipped_version_until_one_is_published(
    client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    maker = login(Role.CREDIT_OFFICER, username="rule-maker")
    checker = login(Role.CREDIT_OFFICER, username="rule-checker")
    listed = _data(gql(client, maker, IN_FORCE))["ruleSetsInForce"]
    assert [(r["name"], r["stage"], r["label"], r["version"]) for r in listed] == [
        ("admission", "admission", "rules:admission@shipped", None),
        ("approval", "approval", "rules:approval@shipped", None),
        ("disbursement", "disbursement", "rules:disbursement@shipped", None),
        ("postloan", "postloan", "rules:postloan@shipped", None),
    ]
    assert json.loads(listed[1]["content"]) == _shipped("approval")

    doc = _shipped("approval")
    v = _data(gql(client, maker, DRAFT, name="approval", content=doc))["draftRuleSet"]
    extra = _data(gql(client, maker, DRAFT, name="approval_b", content=doc))["draftRuleSet"]
    listed = _data(gql(client, maker, IN_FORCE))["ruleSetsInForce"]
    by_name = {r["name"]: r for r in listed}
    assert by_name["approval"]["label"] == "rules:approval@shipped"  # a draft decides nothing
    # A name with drafts only: listed, nothing in force, read as an approval rule set.
    assert by_name["approval_b"] == {
        "name": "approval_b", "stage": "approval", "label": None, "content": None,
        "version": None,
    }  # fmt: skip
    assert extra["status"] == "draft"

    _data(gql(client, checker, PUBLISH, id=v["id"]))
    by_name = {r["name"]: r for r in _data(gql(client, maker, IN_FORCE))["ruleSetsInForce"]}
    assert by_name["approval"]["label"] == f"rules:approval@{v['version']}"
    assert by_name["approval"]["version"] == {
        "id": v["id"],
        "version": v["version"],
        "status": "published",
    }
    assert json.loads(by_name["approval"]["content"]) == doc
