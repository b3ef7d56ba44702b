"""The rule editor (api/web/rules.html) in headless Chromium, over the real API and Neo4j:
a risk officer opens the approval rule set in GoRules' JDM editor, edits a cell of its
screening table through the editor itself, is refused a bad edit with the engine's message
(validateRuleSet, and again on Save: nothing stored), validates a good one and saves it as a
draft; GraphQL then holds a new draft version with exactly that edit. A stricter edit is
simulated on a past decision (the flip listed) and published by a second officer (never its
author), after which a new application follows it. An analyst sees the page read only.
Screenshots go to `test-artifacts/web/`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from neo4j import Driver
from playwright.sync_api import Locator, Page, expect

from api.security import Role, add_user
from decisions.engine import RULESETS
from finance.lifecycle import AppStatus
from tests.api.conftest import PASSWORD
from tests.api.test_early_warning import _financing
from tests.decisions.test_rule_sets import _apply
from tests.finance.test_lifecycle import _setup
from tests.web.conftest import shot
from tests.web.test_explorer import log_in

pytestmark = pytest.mark.neo4j

OFFICER = "web-risk-officer"
READER = "web-rule-reader"
CHECKER = "web-risk-checker"
SHIPPED = json.loads((RULESETS / "approval.json").read_text(encoding="utf-8"))
# Row 3 of the screening table: the fraud decline, made stricter (0.8 -> 0.7).
ROW = 2  # its index in the table
OLD_WHEN = "fraud_score >= 0.8"
NEW_WHEN = "fraud_score >= 0.7"
NEW_REASON = "'fraud score {fraud_score:.2f} is at or above 0.70'"


def _gql(url: str, user: str, query: str, **variables: Any) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=30) as c:
        tok = c.post("/auth/token", json={"username": user, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        body = c.post("/graphql", json={"query": query, "variables": variables},
                      headers=headers).json()  # fmt: skip
    assert "errors" not in body, body
    return dict(body["data"])


VERSIONS = """query($name: String!) {
  ruleSets(name: $name) { id version status author note content }
}"""


def _open_page(page: Page, url: str, user: str, via_explorer: bool = False) -> None:
    if via_explorer:  # logged in on the explorer, the session carries over
        log_in(page, url, (user, PASSWORD))
        page.click("#nav-rules")
        expect(page).to_have_url(url + "/rules.html")
    else:
        page.goto(url + "/rules.html")
        page.fill("#username", user)
        page.fill("#password", PASSWORD)
        page.click("#login-button")
    expect(page.locator("#rules-list")).to_be_visible()
    row = page.locator("#rules-list tr[data-name='approval']")
    expect(row).to_contain_text("rules:approval@shipped")
    page.click("#open-approval")
    expect(page.locator("#rules-open")).to_have_text("approval — rules:approval@shipped")
    # The rule set's graph in the JDM editor: its nodes, by name.
    nodes = page.locator("#rules-editor .react-flow__node")
    expect(nodes).to_have_count(len(SHIPPED["nodes"]))
    for n in SHIPPED["nodes"]:
        expect(nodes.filter(has_text=n["name"])).to_have_count(1)


def _open_table(page: Page, name: str) -> None:
    node = page.locator("#rules-editor .react-flow__node", has_text=name)
    node.get_by_text("Edit Table").click()
    expect(page.locator("#rules-editor .grl-dt").first).to_be_visible()


def _cell(page: Page, row: int, column: int) -> Locator:
    """A cell of the open decision table (column 1 is the first input)."""
    return page.locator(f"#rules-editor tr.table-row[data-virtual-index='{row}'] "
                        f"td:nth-child({column + 1})")  # fmt: skip


def _type_into(page: Page, cell: Locator, text: str) -> None:
    """Replace a cell's expression the way a person does: click it, select all, type."""
    cell.click()
    editor = cell.locator(".cm-content[contenteditable='true']")
    expect(editor).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(text)
    page.keyboard.press("Escape")  # close the completion list, if any
    page.locator("#rules-open").click()  # leave the cell
    expect(cell).to_have_text(text)


def test_officer_edits_validates_and_saves_a_decision_table_as_draft(
    page: Page, web_url: str, db: Driver, database: str
) -> None:
    add_user(db, database, OFFICER, PASSWORD, [Role.CREDIT_OFFICER])
    _open_page(page, web_url, OFFICER)
    expect(page.locator("#rules-versions")).to_contain_text("No stored versions of approval")
    expect(page.locator("#rules-save")).to_be_visible()
    _open_table(page, "screening")
    when = _cell(page, ROW, 1)
    expect(when).to_have_text(OLD_WHEN)
    shot(page, "30-rules-table")

    # A bad edit: an indicator that does not exist. Validate says so, in the engine's words.
    _type_into(page, when, "fraud_scor >= 0.7")
    page.click("#rules-validate")
    check = page.locator("#rules-check")
    expect(check).to_contain_text("Refused: 1 problem.")
    expect(page.locator("#rules-problems li")).to_have_text(
        ["table 'screening', rule fraud_decline: unknown indicator fraud_scor "
         "in 'fraud_scor >= 0.7'"]
    )  # fmt: skip
    shot(page, "31-rules-refused")
    # Save validates first: refused again, and nothing is stored.
    page.click("#rules-save")
    expect(check).to_contain_text("unknown indicator fraud_scor")
    expect(page.locator("#rules-result")).to_have_text("")
    assert _gql(web_url, OFFICER, VERSIONS, name="approval")["ruleSets"] == []

    # The good edit: the threshold and its reason.
    _type_into(page, when, NEW_WHEN)
    _type_into(page, _cell(page, ROW, 4), NEW_REASON)
    page.click("#rules-validate")
    tables = [n for n in SHIPPED["nodes"] if n["type"] == "decisionTableNode"]
    rows = sum(len(t["content"]["rules"]) for t in tables)
    expect(check).to_have_text(f"Valid: {len(tables)} decision tables, {rows} rules.")
    page.fill("#rules-note", "fraud decline from 0.70")
    page.click("#rules-save")
    expect(page.locator("#rules-result")).to_contain_text("Saved as draft: approval version 1")
    expect(page.locator("#rules-versions tr[data-version='1']")).to_contain_text("draft")
    shot(page, "32-rules-saved")

    # GraphQL: one new draft, by the officer, holding the shipped rules with this edit only.
    versions = _gql(web_url, OFFICER, VERSIONS, name="approval")["ruleSets"]
    assert [(v["version"], v["status"], v["author"], v["note"]) for v in versions] == [
        (1, "draft", OFFICER, "fraud decline from 0.70")
    ]
    saved = json.loads(versions[0]["content"])
    expected = json.loads(json.dumps(SHIPPED))
    screening = next(n for n in expected["nodes"] if n["id"] == "screening")
    row = screening["content"]["rules"][ROW]
    assert row["_id"] == "fraud_decline" and row["when"] == OLD_WHEN
    row["when"], row["reason"] = NEW_WHEN, NEW_REASON
    assert saved["contentType"] == expected["contentType"]
    by_id = {n["id"]: n for n in saved["nodes"]}
    assert set(by_id) == {n["id"] for n in expected["nodes"]}
    for n in expected["nodes"]:
        assert (by_id[n["id"]]["type"], by_id[n["id"]]["name"]) == (n["type"], n["name"])
        assert by_id[n["id"]].get("content") == n.get("content"), n["id"]
    edges = {(e["sourceId"], e["targetId"]) for e in saved["edges"]}
    assert edges == {(e["sourceId"], e["targetId"]) for e in expected["edges"]}
    # Still drafted only: the shipped rules decide until a second officer publishes it.
    in_force = _gql(web_url, OFFICER, "{ ruleSetsInForce { name label } }")["ruleSetsInForce"]
    assert {"name": "approval", "label": "rules:approval@shipped"} in in_force

    # The stored draft opens in the editor with the edit.
    page.locator("#rules-versions tr[data-version='1'] button.open-version").click()
    expect(page.locator("#rules-open")).to_have_text("approval — rules:approval@1 (draft)")
    _open_table(page, "screening")
    expect(_cell(page, ROW, 1)).to_have_text(NEW_WHEN)


def test_an_analyst_sees_the_rules_read_only(
    page: Page, web_url: str, db: Driver, database: str
) -> None:
    add_user(db, database, READER, PASSWORD, [Role.ANALYST])
    _open_page(page, web_url, READER, via_explorer=True)
    expect(page.locator("#who")).to_contain_text("read only")
    expect(page.locator("#rules-readonly")).to_be_visible()
    expect(page.locator("#rules-save")).to_have_count(0)
    _open_table(page, "screening")
    when = _cell(page, ROW, 1)
    when.click()
    page.keyboard.type("x")
    expect(when).to_have_text(OLD_WHEN)
    # Validation still answers for readers (it stores nothing).
    page.click("#rules-validate")
    expect(page.locator("#rules-check")).to_contain_text("Valid: 2 decision tables")
    shot(page, "33-rules-read-only")


def test_a_stricter_rule_is_simulated_then_published_by_a_second_officer(
    page: Page, web_url: str, db: Driver, database: str
) -> None:
    _setup(db, database, [("INV-1", 100_000_000), ("INV-2", 100_000_000)])
    before = _apply(db, database, "A1", "INV-1")  # decided by the shipped rules
    assert (before.status, before.policy_version) == (AppStatus.APPROVED,
                                                      "rules:approval@shipped")  # fmt: skip
    add_user(db, database, OFFICER, PASSWORD, [Role.CREDIT_OFFICER])
    add_user(db, database, CHECKER, PASSWORD, [Role.CREDIT_OFFICER])
    _open_page(page, web_url, OFFICER)
    _open_table(page, "screening")
    rows = next(n for n in SHIPPED["nodes"] if n["id"] == "screening")["content"]["rules"]
    neutral = next(i for i, r in enumerate(rows) if r["_id"] == "neutral_scores")
    # A firm without risk scores goes to a person instead of a note.
    outcome = _cell(page, neutral, 3)
    expect(outcome).to_have_text("'note'")
    _type_into(page, outcome, "'refer'")
    _type_into(page, _cell(page, neutral, 4), "'no risk scores yet: a person decides'")
    page.click("#rules-simulate")
    expect(page.locator("#rules-simulation-summary")).to_have_text(
        "On the latest 1 automatic decision (0 skipped): 1 would change verdict, 0 only "
        "amount; verdicts 1 refer."
    )  # fmt: skip
    flip = page.locator("#rules-flipped tr[data-id='A1'] td")
    expect(flip).to_have_text(  # the reasons: the refer first, then the terms' notes
        ["A1", "approve", "refer", "neutral_scores",
         re.compile(r"^no risk scores yet: a person decides; limit 500,000\.00 ")]
    )  # fmt: skip
    shot(page, "34-rules-simulated")
    page.fill("#rules-note", "no scores, no autopilot")
    page.click("#rules-save")
    expect(page.locator("#rules-result")).to_contain_text("Saved as draft: approval version 1")
    mine = page.locator("#rules-versions tr[data-version='1']")
    expect(mine.locator(".awaiting")).to_have_text("awaiting another officer")
    expect(mine.locator(".publish-version")).to_have_count(0)  # maker-checker

    page.click("#logout")
    page.fill("#username", CHECKER)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.click("#open-approval")
    draft = page.locator("#rules-versions tr[data-version='1']")
    expect(draft).to_contain_text(OFFICER)
    draft.locator(".publish-version").click()
    expect(page.locator("#rules-published")).to_contain_text("Published approval version 1")
    expect(page.locator("#rules-list tr[data-name='approval']")).to_contain_text("rules:approval@1")
    expect(draft).to_contain_text("published")
    shot(page, "35-rules-published")

    query = "{ ruleSetsInForce { name label version { status author publisher note } } }"
    in_force = {r["name"]: r for r in _gql(web_url, CHECKER, query)["ruleSetsInForce"]}
    assert in_force["approval"]["label"] == "rules:approval@1"
    assert in_force["approval"]["version"] == {
        "status": "published", "author": OFFICER, "publisher": CHECKER,
        "note": "no scores, no autopilot",
    }  # fmt: skip
    after = _apply(db, database, "A2", "INV-2")  # the published edit decides now
    assert (after.status, after.policy_version) == (AppStatus.REFERRED, "rules:approval@1")
    assert after.reasons[0] == "no risk scores yet: a person decides"


POSTLOAN = json.loads((RULESETS / "postloan.json").read_text(encoding="utf-8"))


def test_a_post_loan_edit_is_compared_simulated_and_published_later_then_retired(
    page: Page, web_url: str, db: Driver, database: str
) -> None:
    """The post-loan rule set: a stricter default-score row is compared with the version in
    force (the one changed cell listed), simulated over the portfolio (the disbursed
    financing it would warn about), kept from being lost by opening another rule set, saved;
    a second officer publishes it from a later time (the shipped version stays in force
    until then) and retires it."""
    fid = _financing(db, database)
    add_user(db, database, OFFICER, PASSWORD, [Role.CREDIT_OFFICER])
    add_user(db, database, CHECKER, PASSWORD, [Role.CREDIT_OFFICER])
    _open_page(page, web_url, OFFICER)
    page.click("#open-postloan")
    expect(page.locator("#rules-open")).to_have_text("postloan — rules:postloan@shipped")
    _open_table(page, "early warning")
    rows = POSTLOAN["nodes"][1]["content"]["rules"]
    row = next(i for i, r in enumerate(rows) if r["_id"] == "default_score_high")
    _type_into(page, _cell(page, row, 1), "default_score >= 0.05")

    page.click("#rules-compare")
    expect(page.locator("#rules-diff-summary")).to_have_text(
        "1 change against the version in force:")
    expect(page.locator("#rules-diff li")).to_have_text([
        'early warning: row default_score_high when "default_score >= 0.7" → '
        '"default_score >= 0.05"'])  # fmt: skip
    page.click("#rules-simulate")
    expect(page.locator("#rules-warnings-summary")).to_contain_text(
        "On 1 financing with money out as of ")
    expect(page.locator("#rules-warnings-summary")).to_contain_text(
        "1 early warning would be raised; rows fired: default_score_high 1.")
    expect(page.locator(f"#rules-warnings tr[data-id='{fid}'] td")).to_have_text(
        [fid, "default_score_high", re.compile(r"default score of Tier One Parts is 0\.10")])
    shot(page, "36-rules-postloan-simulated")

    # Unsaved: opening another rule set asks first; declining keeps the edit.
    assert page.evaluate("window.__rules.dirty") is True
    page.once("dialog", lambda d: d.dismiss())
    page.click("#open-approval")
    expect(page.locator("#rules-open")).to_have_text("postloan — rules:postloan@shipped")
    page.fill("#rules-note", "warn early on rising default scores")
    page.click("#rules-save")
    expect(page.locator("#rules-result")).to_contain_text("Saved as draft: postloan version 1")
    assert page.evaluate("window.__rules.dirty") is False

    page.click("#logout")
    page.fill("#username", CHECKER)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.click("#open-postloan")
    draft = page.locator("#rules-versions tr[data-version='1']")
    draft.locator(".effective-at").fill("2099-01-01T09:30")
    draft.locator(".publish-version").click()
    expect(page.locator("#rules-published")).to_contain_text("Published postloan version 1")
    expect(draft.locator(".status")).to_have_text("published")
    expect(draft.locator(".effective")).to_contain_text("2099-01-01")
    # Not in force before its time: the shipped version still decides.
    expect(page.locator("#rules-list tr[data-name='postloan']")).to_contain_text(
        "rules:postloan@shipped")
    shot(page, "37-rules-published-later")
    draft.locator(".retire-version").click()
    expect(page.locator("#rules-published")).to_have_text("Retired postloan version 1.")
    expect(draft.locator(".status")).to_have_text("retired")
    (stored,) = _gql(web_url, CHECKER, VERSIONS, name="postloan")["ruleSets"]
    assert (stored["status"], stored["author"]) == ("retired", OFFICER)
    assert json.loads(stored["content"])["nodes"][1]["content"]["rules"][row]["when"] == (
        "default_score >= 0.05")
