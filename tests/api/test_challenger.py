"""Champion/challenger and decision rates over time, through HTTP on the real Neo4j (issue 26).

A credit officer drafts a challenger of the approval rules (the automatic approval limit
lowered from 5,000,000.00 to 100,000.00); the author may not start it, a second officer
starts it on 50% of live applications. Applications of three sizes (both approve, only the
challenger refers, both refer) and, once the firm's fraud score is 0.9, declines, are
submitted by a relationship manager: the arm of each follows the SHA-256 of its id (computed
here by hand), the champion decides every one, the challenger's verdict, reasons and rules are
recorded beside it on its arm only, and `challengerComparison` lists exactly the decisions
where the two differ and counts each arm's verdicts. `decisionRates` per day and per week
gives the counts and rates computed here from what was submitted. Stopped, the challenger is
a draft again and the next application has no arm.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from neo4j import Driver

from api.security import Role
from decisions import lifecycle as dl
from decisions.engine import SHIPPED_APPROVAL
from tests.api.conftest import gql
from tests.finance.test_lifecycle import _setup

pytestmark = pytest.mark.neo4j

DRAFT = """mutation($content: JSON!) { draftRuleSet(name: "approval", content: $content,
  note: "auto approval up to 100k only") { id version status } }"""
START = """mutation($id: ID!, $share: Float!) { startChallenger(id: $id, share: $share) {
  id status challengerShare } }"""
STOP = """mutation { stopChallenger(name: "approval") { id status challengerShare } }"""
SUBMIT = """mutation($input: ApplicationInput!) { submitApplication(input: $input) {
  id status decisions { kind verdict policyVersion rules arm challengerVersion
  challengerVerdict challengerAmount challengerReasons challengerRules } } }"""
COMPARE = """query($id: ID!) { challengerComparison(id: $id) { challenger share running
  decisions counts { arm ruleSet verdict count }
  differences { applicationId champion verdict rules challenger challengerVerdict
  challengerReasons challengerRules } } }"""
RATES = """query($from: DateTime!, $to: DateTime!, $bucket: RateBucketWidth!) {
  decisionRates(name: "approval", from: $from, to: $to, bucket: $bucket) {
  start decisions approved referred declined approvalRate referralRate declineRate
  withRules ruleHits { rule hits rate } } }"""

SHIPPED = "rules:approval@shipped"
SMALL, MIDDLE, LARGE = 5_000_000, 20_000_000, 600_000_000  # 50k, 200k, 6M CNY


def _q(client: httpx.Client, headers: dict[str, str], query: str, **v: object) -> Any:
    r = gql(client, headers, query, **v)
    body = r.json()
    assert r.status_code == 200 and "errors" not in body, body
    return body["data"]


def _error(client: httpx.Client, headers: dict[str, str], query: str, **v: object) -> str:
    body = gql(client, headers, query, **v).json()
    assert body.get("errors"), body
    first = body["errors"][0]
    return f"{first.get('extensions', {}).get('code')}: {first['message']}"


def _challenger_content() -> str:
    text = SHIPPED_APPROVAL.read_text(encoding="utf-8")
    assert text.count("limit_minor > 500000000") == 1
    return text.replace("limit_minor > 500000000", "limit_minor > 10000000")


def _arm(application_id: str, share: float) -> str:
    """The assignment, by hand: the first 8 bytes of SHA-256(id) as a fraction of 2**64."""
    h = int.from_bytes(hashlib.sha256(application_id.encode()).digest()[:8], "big")
    return "challenger" if h / 2**64 < share else "champion"


def test_a_challenger_on_half_the_traffic_is_recorded_beside_the_champion_and_rated(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    ids = [f"CC-{i:02d}" for i in range(24)]
    _setup(db, database, [(f"INV-{i}", 1_000_000_000) for i in [*ids, "CC-after", "CC-last"]])
    maker = login(Role.CREDIT_OFFICER, username="cc-maker")
    checker = login(Role.CREDIT_OFFICER, username="cc-checker")
    rm = login(Role.RELATIONSHIP_MANAGER, username="cc-rm")
    analyst = login(Role.ANALYST, username="cc-analyst")

    draft = _q(client, maker, DRAFT, content=json.loads(_challenger_content()))["draftRuleSet"]
    label = f"rules:approval@{draft['version']}"
    assert "cannot start it as challenger" in _error(client, maker, START, id=draft["id"],
                                                     share=0.5)  # fmt: skip
    assert "share is a fraction in (0, 1]" in _error(client, checker, START, id=draft["id"],
                                                     share=1.5)  # fmt: skip
    assert _error(client, rm, START, id=draft["id"], share=0.5).startswith("FORBIDDEN")
    started = _q(client, checker, START, id=draft["id"], share=0.5)["startChallenger"]
    assert started == {"id": draft["id"], "status": "challenger", "challengerShare": 0.5}
    second = _q(client, maker, DRAFT, content=json.loads(_challenger_content()))["draftRuleSet"]
    assert "already the challenger of approval" in _error(client, checker, START,
                                                          id=second["id"], share=0.2)  # fmt: skip

    # 18 applications of three sizes, then the firm's fraud score rises: 6 declined by both.
    amounts = {a: (SMALL, MIDDLE, LARGE)[i % 3] for i, a in enumerate(ids)}
    arms = {a: _arm(a, 0.5) for a in ids}
    assert set(Counter(arms.values())) == {"champion", "challenger"}
    assert all(dl.arm(a, 0.5) == arms[a] for a in ids)
    decided: dict[str, dict[str, Any]] = {}
    for i, a in enumerate(ids):
        if i == 18:
            db.execute_query("MATCH (e:Enterprise {id: 'T1'}) SET e.fraud_score = 0.9, "
                             "e.default_score = 0.1", database_=database)  # fmt: skip
        app = _q(client, rm, SUBMIT, input={
            "id": a, "enterpriseId": "T1", "productId": "factoring_recourse",
            "amount": amounts[a], "currency": "CNY", "collateralIds": [f"INV-{a}"],
        })["submitApplication"]  # fmt: skip
        decided[a] = app

    champion_verdict = {a: ("decline" if i >= 18 else
                            "refer" if amounts[a] == LARGE else "approve")
                        for i, a in enumerate(ids)}  # fmt: skip
    challenger_verdict = {a: ("refer" if v == "approve" and amounts[a] == MIDDLE else v)
                          for a, v in champion_verdict.items()}  # fmt: skip
    status = {"approve": "approved", "refer": "referred", "decline": "declined"}
    for i, (a, app) in enumerate(decided.items()):
        (d,) = app["decisions"]
        # The champion decides, whatever the challenger says.
        assert app["status"] == status[champion_verdict[a]], (a, app)
        assert (d["verdict"], d["policyVersion"]) == (champion_verdict[a], SHIPPED)
        assert (d["arm"], d["challengerVersion"]) == (arms[a], label), (a, d)
        if arms[a] == "challenger":
            assert d["challengerVerdict"] == challenger_verdict[a], (a, d)
            assert d["challengerRules"] is not None and d["challengerReasons"] is not None
        else:
            assert (d["challengerVerdict"], d["challengerRules"], d["challengerReasons"],
                    d["challengerAmount"]) == (None, None, None, None)  # fmt: skip
        if amounts[a] == LARGE and i < 18:
            assert "auto_approval_limit" in d["rules"]
    middle_challenged = [
        a for i, a in enumerate(ids) if i < 18 and amounts[a] == MIDDLE and arms[a] == "challenger"
    ]
    assert middle_challenged
    for a in middle_challenged:
        (d,) = decided[a]["decisions"]
        assert "auto_approval_limit" in d["challengerRules"]
        assert "auto_approval_limit" not in d["rules"]
        assert any("automatic approval limit" in r for r in d["challengerReasons"])

    # A retry of the same application answers the recorded decision: same arm, same verdicts.
    again = _q(client, rm, SUBMIT, input={
        "id": ids[1], "enterpriseId": "T1", "productId": "factoring_recourse",
        "amount": amounts[ids[1]], "currency": "CNY", "collateralIds": [f"INV-{ids[1]}"],
    })["submitApplication"]  # fmt: skip
    assert again == decided[ids[1]]

    cmp = _q(client, analyst, COMPARE, id=draft["id"])["challengerComparison"]
    assert (cmp["challenger"], cmp["share"], cmp["running"], cmp["decisions"]) == (
        label, 0.5, True, len(ids))
    want: Counter[tuple[str, str, str]] = Counter()
    for a in ids:
        want[(arms[a], SHIPPED, champion_verdict[a])] += 1
        if arms[a] == "challenger":
            want[(arms[a], label, challenger_verdict[a])] += 1
    assert {(c["arm"], c["ruleSet"], c["verdict"]): c["count"] for c in cmp["counts"]} == want
    assert sorted(d["applicationId"] for d in cmp["differences"]) == sorted(middle_challenged)
    for d in cmp["differences"]:
        assert (d["champion"], d["verdict"], d["challenger"], d["challengerVerdict"]) == (
            SHIPPED, "approve", label, "refer")
        assert "auto_approval_limit" in d["challengerRules"]

    # Rates over time: one day, and the week it falls in, counted here from the submissions.
    now = datetime.now(UTC)
    window = {"from": (now - timedelta(days=1)).isoformat(),
              "to": (now + timedelta(minutes=5)).isoformat()}  # fmt: skip
    verdicts = Counter(champion_verdict.values())
    hits: Counter[str] = Counter()
    for app in decided.values():
        hits.update(app["decisions"][0]["rules"])
    assert hits["fraud_decline"] == 6
    assert hits["auto_approval_limit"] == 6  # the LARGE ones before the fraud score rose
    n = len(ids)
    for bucket in ("DAY", "WEEK"):
        (b,) = _q(client, analyst, RATES, bucket=bucket, **window)["decisionRates"]
        today = now.date()
        start = today if bucket == "DAY" else today - timedelta(days=today.weekday())
        assert date.fromisoformat(b["start"]) == start
        assert (b["decisions"], b["approved"], b["referred"], b["declined"], b["withRules"]) == (
            n, verdicts["approve"], verdicts["refer"], verdicts["decline"], n)
        assert b["approvalRate"] == pytest.approx(verdicts["approve"] / n)
        assert b["referralRate"] == pytest.approx(verdicts["refer"] / n)
        assert b["declineRate"] == pytest.approx(verdicts["decline"] / n)
        assert {r["rule"]: (r["hits"], pytest.approx(r["rate"])) for r in b["ruleHits"]} == {
            rule: (k, pytest.approx(k / n)) for rule, k in hits.items()}
    past = {"from": "2020-01-01T00:00:00+00:00", "to": "2020-02-01T00:00:00+00:00"}
    assert _q(client, analyst, RATES, bucket="DAY", **past)["decisionRates"] == []
    naive = _error(client, analyst, RATES, bucket="DAY", **{"from": "2020-01-01T00:00:00",
                                                            "to": "2020-02-01T00:00:00"})
    assert "has no offset" in naive, naive  # the API's DateTime wants a time zone
    backwards = _error(client, analyst, RATES, bucket="DAY", **{"from": past["to"],
                                                                "to": past["from"]})
    assert "the window ends before it starts" in backwards, backwards

    # Stopped: a draft again, the comparison stays; the next application has no arm.
    stopped = _q(client, checker, STOP)["stopChallenger"]
    assert stopped == {"id": draft["id"], "status": "draft", "challengerShare": 0.5}
    assert "no challenger of 'approval'" in _error(client, checker, STOP)
    after = _q(client, rm, SUBMIT, input={
        "id": "CC-after", "enterpriseId": "T1", "productId": "factoring_recourse",
        "amount": SMALL, "currency": "CNY", "collateralIds": ["INV-CC-after"],
    })["submitApplication"]  # fmt: skip
    (d,) = after["decisions"]
    assert (d["arm"], d["challengerVersion"], d["challengerVerdict"]) == (None, None, None)
    cmp = _q(client, analyst, COMPARE, id=draft["id"])["challengerComparison"]
    assert (cmp["running"], cmp["decisions"]) == (False, len(ids))

    # Started again and published by another officer: its challenge ends, it is in force.
    _q(client, checker, START, id=draft["id"], share=0.2)
    publish = "mutation($id: ID!) { publishRuleSet(id: $id) { status } }"
    assert "cannot publish" in _error(client, maker, publish, id=draft["id"])
    assert _q(client, checker, publish, id=draft["id"])["publishRuleSet"]["status"] == "published"
    assert "no challenger of 'approval'" in _error(client, checker, STOP)
    (d,) = _q(client, rm, SUBMIT, input={
        "id": "CC-last", "enterpriseId": "T1", "productId": "factoring_recourse",
        "amount": SMALL, "currency": "CNY", "collateralIds": ["INV-CC-last"],
    })["submitApplication"]["decisions"]  # fmt: skip
    assert (d["policyVersion"], d["arm"]) == (label, None)
