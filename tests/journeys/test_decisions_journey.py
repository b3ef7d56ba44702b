"""Journey: a stricter approval rule through HTTP only, on the generated world.

A relationship manager's applications are decided by the shipped rule set (today's policy);
a credit officer drafts a stricter version (a firm without risk scores goes to a person),
simulates it on the past applications (the report lists the approvals it would refer), a
second officer publishes it with an effective time a few seconds ahead (the author may not):
an application before that time is still decided by the shipped version, one after it by
the new one, which every decision records; the rule's hits appear in /metrics. A rule set
naming an unknown indicator is refused and nothing is stored. The version is retired at the end so
the other journeys see today's policy.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from decisions.engine import SHIPPED_APPROVAL
from tests.journeys.conftest import Api, World

GRANT = """mutation($input: GrantCreditLineInput!) { grantCreditLine(input: $input) { id } }"""
SUBMIT = """mutation($input: ApplicationInput!) { submitApplication(input: $input) {
  id status reasons decisions { policyVersion } } }"""
DRAFT = """mutation($content: JSON!) { draftRuleSet(name: "approval", content: $content,
  note: "no scores, no autopilot") { id status author } }"""
SIMULATE = """query($id: ID!) { simulateRuleSet(id: $id) { ruleSet applications skipped
  flipped { applicationId recordedVerdict verdict reasons rules } } }"""
PUBLISH = """mutation($id: ID!, $at: DateTime) { publishRuleSet(id: $id, effectiveAt: $at) {
  id status publisher effectiveAt } }"""
RETIRE = """mutation($id: ID!) { retireRuleSet(id: $id, note: "journey over") { status } }"""
RULE_SETS = """query { ruleSets(name: "approval") { id status } }"""
INDICATORS = """query($e: ID!, $p: ID!) { indicators(enterpriseId: $e, productId: $p,
  amount: 10000000) { name type value } }"""


def stricter() -> dict[str, object]:
    doc = json.loads(SHIPPED_APPROVAL.read_text(encoding="utf-8"))
    screening = next(n for n in doc["nodes"] if n["id"] == "screening")
    row = next(r for r in screening["content"]["rules"] if r["_id"] == "neutral_scores")
    row["outcome"], row["reason"] = "'refer'", "'no risk scores yet: a person decides'"
    model: dict[str, object] = doc
    return model


def _applications(api: Api, world: World, want: int) -> list[tuple[str, str]]:
    """(seller, open invoice) pairs on which today's policy approves factoring (sellers with
    three open invoices at least), after
    granting each seller an own line, as a bank would for a client it knows."""
    cores = {e["id"] for e in world.rows("enterprises") if e.get("is_core") in ("true", "1")}
    pledged = {p["collateral_id"] for p in world.rows("pledges")}
    open_ = [i for i in world.rows("invoices")
             if i["status"] == "issued" and i["id"] not in pledged]  # fmt: skip
    count = Counter(i["seller_id"] for i in open_)
    found: list[tuple[str, str]] = []
    tried: set[str] = set()
    for inv in open_:
        seller = inv["seller_id"]
        if seller in cores or seller in tried or count[seller] < 3:
            continue
        tried.add(seller)
        api.gql("ada", GRANT, input={"id": f"L-DJ-{seller}", "enterpriseId": seller,
                                     "kind": "enterprise", "limit": 1_000_000_000,
                                     "currency": "CNY", "expiresOn": "2030-12-31"})  # fmt: skip
        probe = api.gql("rita", SUBMIT, input={
            "id": f"DJ-{seller}-0", "enterpriseId": seller, "productId": "factoring_recourse",
            "amount": 1_000_000, "currency": "CNY", "collateralIds": [inv["id"]],
        })["submitApplication"]  # fmt: skip
        if probe["status"] == "approved":
            found.append((seller, inv["id"]))
        if len(found) == want or len(tried) >= 60:
            break
    return found


def _submit(api: Api, id: str, seller: str, invoice: str) -> dict[str, object]:
    app: dict[str, object] = api.gql("rita", SUBMIT, input={
        "id": id, "enterpriseId": seller, "productId": "factoring_recourse",
        "amount": 1_000_000, "currency": "CNY", "collateralIds": [invoice],
    })["submitApplication"]  # fmt: skip
    return app


def test_a_stricter_rule_drafted_simulated_published_by_another_and_followed(
    api: Api, world: World
) -> None:
    (seller, _),  = _applications(api, world, 1)  # fmt: skip
    values = {v["name"]: v for v in api.gql("anna", INDICATORS, e=seller,
                                            p="factoring_recourse")["indicators"]}  # fmt: skip
    assert json.loads(values["scores_are_neutral"]["value"]) is True
    assert values["limit_minor"]["type"] == "integer"

    before = len(api.gql("otto", RULE_SETS)["ruleSets"])
    typo = stricter()
    typo_text = json.dumps(typo).replace("fraud_score >= 0.8", "fraud_scroe >= 0.8")
    bad = api.error("otto", DRAFT, content=json.loads(typo_text))
    assert bad.code == "UNPROCESSABLE" and "unknown indicator fraud_scroe" in bad.message
    assert len(api.gql("otto", RULE_SETS)["ruleSets"]) == before

    draft = api.gql("otto", DRAFT, content=stricter())["draftRuleSet"]
    assert (draft["status"], draft["author"]) == ("draft", "otto")
    sim = api.gql("anna", SIMULATE, id=draft["id"])["simulateRuleSet"]
    flipped = {f["applicationId"]: f for f in sim["flipped"]}
    assert f"DJ-{seller}-0" in flipped, sim
    f = flipped[f"DJ-{seller}-0"]
    assert (f["recordedVerdict"], f["verdict"]) == ("approve", "refer")
    assert "neutral_scores" in f["rules"]

    own = api.error("otto", PUBLISH, id=draft["id"])
    assert own.code == "FORBIDDEN" and "cannot publish" in own.message
    at = datetime.now(UTC) + timedelta(seconds=4)
    pub = api.gql("olga", PUBLISH, id=draft["id"], at=at.isoformat())["publishRuleSet"]
    assert (pub["status"], pub["publisher"]) == ("published", "olga")
    version = f"rules:approval@{draft['id'].split('@')[1]}"
    pledged = {p["collateral_id"] for p in world.rows("pledges")}
    invoices = [i["id"] for i in world.rows("invoices") if i["seller_id"] == seller
                and i["status"] == "issued" and i["id"] not in pledged]  # fmt: skip
    try:
        early = _submit(api, f"DJ-{seller}-1", seller, invoices[1])
        assert early["decisions"] == [{"policyVersion": "rules:approval@shipped"}]
        time.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()) + 0.3)
        late = _submit(api, f"DJ-{seller}-2", seller, invoices[2])
        assert late["status"] == "referred", late
        assert late["decisions"] == [{"policyVersion": version}]
        assert "no risk scores yet: a person decides" in late["reasons"]  # type: ignore[operator]
        metrics = api.client.get("/metrics").text
        assert (f'chainlens_rule_hits_total{{outcome="refer",rule="neutral_scores",'
                f'rule_set="{version}"}}') in metrics  # fmt: skip
    finally:
        api.gql("olga", RETIRE, id=draft["id"])
