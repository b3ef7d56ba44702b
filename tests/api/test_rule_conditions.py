"""Approval rules that attach conditions, through HTTP: a risk officer adds a `condition` row
to the approval rule set (the core confirms the receivables in writing), a second officer
publishes it; an application then approved carries the condition on itself, on its automatic
decision and on its financing; a referred one keeps it when a credit officer approves it with
a condition of their own (the rule's first); a declined one carries none. The shipped rule
set, with no condition row, attaches nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from neo4j import Driver

from api.security import Role
from decisions.engine import SHIPPED_APPROVAL
from tests.api.conftest import gql
from tests.finance.test_lifecycle import _setup

pytestmark = pytest.mark.neo4j

CONFIRM = "the core confirms the receivables of Tier One Parts in writing before disbursement"
DRAFT = """mutation($content: JSON!) { draftRuleSet(name: "approval", content: $content,
  note: "conditions for tier-1 receivables") { id } }"""
PUBLISH = """mutation($id: ID!) { publishRuleSet(id: $id) { id status } }"""
SUBMIT = """mutation($input: ApplicationInput!) { submitApplication(input: $input) {
  id status reasons conditions financingId
  decisions { kind verdict conditions policyVersion } } }"""
REVIEW = """mutation($id: ID!) { reviewApplication(id: $id, approve: true,
  note: "checked with the core", conditions: ["a copy of the delivery notes on file"]) {
  status conditions financingId } }"""
FINANCING = """query($id: ID!) { financing(id: $id) { id conditions } }"""


def _q(client: httpx.Client, headers: dict[str, str], query: str, **v: object) -> Any:
    body = gql(client, headers, query, **v).json()
    assert "errors" not in body, body
    return body["data"]


def _input(id: str, invoice: str, amount: int) -> dict[str, object]:
    return {"id": id, "enterpriseId": "T1", "productId": "factoring_recourse",
            "amount": amount, "currency": "CNY", "collateralIds": [invoice]}  # fmt: skip


def test_condition_rows_attach_conditions_to_the_approval_and_its_financing(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    _setup(db, database, [("INV-C1", 100_000_000), ("INV-C2", 800_000_000),
                          ("INV-C3", 100_000_000), ("INV-C4", 100_000_000)])  # fmt: skip
    rm, officer = login(Role.RELATIONSHIP_MANAGER), login(Role.CREDIT_OFFICER)
    checker = login(Role.CREDIT_OFFICER, username="rule-checker")

    plain = _q(client, rm, SUBMIT, input=_input("C0", "INV-C4", 50_000_000))["submitApplication"]
    assert (plain["status"], plain["conditions"]) == ("approved", [])
    assert plain["decisions"][0]["conditions"] == []

    doc = json.loads(SHIPPED_APPROVAL.read_text(encoding="utf-8"))
    screening = next(n for n in doc["nodes"] if n["id"] == "screening")
    screening["content"]["rules"].append({
        "_id": "confirm_in_writing", "_description": "tier-1 receivables: written confirmation",
        "when": "tier == 1", "rule": "'confirm_in_writing'", "outcome": "'condition'",
        "reason": "'the core confirms the receivables of {name} in writing before "
                  "disbursement'",
    })  # fmt: skip
    draft = _q(client, officer, DRAFT, content=doc)["draftRuleSet"]
    assert _q(client, checker, PUBLISH, id=draft["id"])["publishRuleSet"]["status"] == "published"

    # Approved: the condition on the application, its decision and its financing.
    app = _q(client, rm, SUBMIT, input=_input("C1", "INV-C1", 50_000_000))["submitApplication"]
    assert (app["status"], app["conditions"]) == ("approved", [CONFIRM]), app["reasons"]
    auto = app["decisions"][0]
    assert (auto["policyVersion"], auto["conditions"]) == ("rules:approval@1", [CONFIRM])
    assert CONFIRM not in app["reasons"]  # a condition, not a reason
    fin = _q(client, officer, FINANCING, id=app["financingId"])["financing"]
    assert fin["conditions"] == [CONFIRM]

    # Referred (above the automatic approval limit): the review keeps the rule's condition
    # and adds the officer's.
    big = _q(client, rm, SUBMIT, input=_input("C2", "INV-C2", 640_000_000))["submitApplication"]
    assert (big["status"], big["conditions"]) == ("referred", [CONFIRM]), big["reasons"]
    done = _q(client, officer, REVIEW, id="C2")["reviewApplication"]
    both = [CONFIRM, "a copy of the delivery notes on file"]
    assert (done["status"], done["conditions"]) == ("approved", both)
    assert _q(client, officer, FINANCING, id=done["financingId"])["financing"]["conditions"] == (
        both)

    # Declined: no conditions (the invoice is pledged already).
    again = _q(client, rm, SUBMIT, input=_input("C3", "INV-C1", 50_000_000))["submitApplication"]
    assert again["status"] == "declined" and again["conditions"] == [], again
