"""Admission (准入) through HTTP on a generated, ingested world: the admission rule set in
force runs on an enterprise's own indicators before a credit line is granted to it. A firm in
liquidation is declined — `admission` says why, and neither a grant nor a proposal of a line
goes through; a borrower with an overdue financing in the loaded book is referred — the admin
alone is refused, a credit officer's proposal passes and a second admin approves it; a core
in good standing is admitted. Bad input is refused with nothing written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.journeys.conftest import Api, World

TODAY = datetime.now(UTC).date()

ADMISSION = """query($id: ID!, $at: DateTime) { admission(enterpriseId: $id, at: $at) {
  enterpriseId ruleSet verdict reasons rules indicators { name value } } }"""
GRANT = """mutation($input: GrantCreditLineInput!) { grantCreditLine(input: $input) {
  id status limit } }"""
PROPOSE = """mutation($id: ID!, $input: GrantCreditLineInput!) {
  proposeCreditLine(id: $id, input: $input) { id status maker } }"""
DECIDE = """mutation($id: ID!) { decideCreditLineProposal(id: $id, approve: true,
  note: "arrears explained: a disputed delivery, settled") { status line { id status } } }"""
LINE = """query($id: ID!) { creditLine(id: $id) { id status } }"""


def _terms(line_id: str, enterprise: str) -> dict[str, object]:
    return {"id": line_id, "enterpriseId": enterprise, "kind": "enterprise",
            "limit": 100_000_000, "currency": "CNY",
            "expiresOn": (TODAY + timedelta(days=365)).isoformat()}  # fmt: skip


def test_admission_declines_refers_and_admits_before_a_line_is_granted(
    api: Api, world: World
) -> None:
    firms = world.rows("enterprises")
    # Declined: a firm in liquidation.
    gone = next(e for e in firms if e["status"] == "liquidating")
    a = api.gql("anna", ADMISSION, id=gone["id"])["admission"]
    assert (a["enterpriseId"], a["ruleSet"], a["verdict"]) == (
        gone["id"], "rules:admission@shipped", "decline")
    assert "not_active" in a["rules"]
    assert f"{gone['name']} is liquidating, not active" in a["reasons"]
    values = {i["name"]: json.loads(i["value"]) for i in a["indicators"]}
    assert values["status"] == "liquidating" and values["enterprise_id"] == gone["id"]
    refused = api.error("ada", GRANT, input=_terms(f"EL-{gone['id']}", gone["id"]))
    assert refused.code == "CONFLICT", refused.message
    assert "rules:admission@shipped declines" in refused.message
    assert f"{gone['name']} is liquidating, not active" in refused.message
    refused = api.error("otto", PROPOSE, id=f"P-EL-{gone['id']}",
                        input=_terms(f"EL-{gone['id']}", gone["id"]))  # fmt: skip
    assert "rules:admission@shipped declines" in refused.message
    assert api.error("otto", LINE, id=f"EL-{gone['id']}").code == "NOT_FOUND"  # nothing granted

    # Referred: a borrower in arrears on the loaded book.
    in_arrears = sorted({f["borrower_id"] for f in world.rows("financings")
                         if f["status"] == "overdue"})  # fmt: skip
    assessed = {b: api.gql("anna", ADMISSION, id=b)["admission"] for b in in_arrears}
    assert in_arrears and all("overdue" in x["rules"] for x in assessed.values()), assessed
    referred = next(b for b, x in assessed.items() if x["verdict"] == "refer")
    line_id = f"EL-{referred}"
    alone = api.error("ada", GRANT, input=_terms(line_id, referred))
    assert alone.code == "CONFLICT" and "refers (propose the line" in alone.message
    proposed = api.gql("otto", PROPOSE, id=f"P-{line_id}",
                       input=_terms(line_id, referred))["proposeCreditLine"]  # fmt: skip
    assert (proposed["status"], proposed["maker"]) == ("pending", "otto")
    got = api.gql("ada", DECIDE, id=f"P-{line_id}")["decideCreditLineProposal"]
    assert (got["status"], got["line"]["id"], got["line"]["status"]) == (
        "approved", line_id, "active")
    # Granting the line again (a retry) is not assessed again: no change.
    again = api.gql("ada", GRANT, input=_terms(line_id, referred))["grantCreditLine"]
    assert again["id"] == line_id

    # Admitted: the cores in good standing.
    cores = [e["id"] for e in firms if e["is_core"] == "true" and e["status"] == "active"]
    verdicts = {c: api.gql("rita", ADMISSION, id=c)["admission"]["verdict"] for c in cores}
    assert "admit" in verdicts.values(), verdicts
    core = next(c for c, v in verdicts.items() if v == "admit")

    # Bad input: an unknown enterprise, a time without a timezone; analysts grant nothing.
    assert api.error("anna", ADMISSION, id="E-NOPE").code == "NOT_FOUND"
    naive = api.error("anna", ADMISSION, id=core, at="2026-12-01T10:00:00")
    assert "has no offset" in naive.message, naive.message
    assert api.error("anna", GRANT, input=_terms("EL-X", core)).code == "FORBIDDEN"
