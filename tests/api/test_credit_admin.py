"""Credit administration over HTTP, on a chain loaded by the real ingest: an admin grants a
core's supply-chain line with tier sub-limits and a firm's own line, changes a limit; a
credit officer freezes and unfreezes, moves settlement money; bad input on every mutation
answers a domain error with a clear message and writes nothing; a repeated request id
returns the first result."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver

from api.security import Role
from tests.api.conftest import gql
from tests.api.credit_world import doc_examples, expires, load_world

pytestmark = pytest.mark.neo4j

LINE_FIELDS = """id kind tier status statusReason currency enterpriseId parentId productId
  expiresOn limit used held available usage { limit available }"""
GRANT = f"""mutation($input: GrantCreditLineInput!) {{
  grantCreditLine(input: $input) {{ {LINE_FIELDS} }} }}"""
LIMIT = f"""mutation($id: ID!, $limit: BigInt!, $req: ID!) {{
  changeCreditLimit(id: $id, newLimit: $limit, requestId: $req) {{ {LINE_FIELDS} }} }}"""
FREEZE = """mutation($id: ID!, $reason: String!) {
  freezeCreditLine(id: $id, reason: $reason) { id status statusReason } }"""
UNFREEZE = """mutation($id: ID!, $reason: String!) {
  unfreezeCreditLine(id: $id, reason: $reason) { id status statusReason } }"""
EXPIRE = """mutation($on: Date) { expireCreditLines(asOf: $on) }"""
DEPOSIT = """mutation($e: ID!, $amount: BigInt!, $req: ID!, $ccy: String! = "CNY") {
  depositToSettlement(enterpriseId: $e, amount: $amount, requestId: $req, currency: $ccy) {
    transferId accountId amount currency balance } }"""
WITHDRAW = """mutation($e: ID!, $amount: BigInt!, $req: ID!) {
  withdrawFromSettlement(enterpriseId: $e, amount: $amount, requestId: $req) {
    transferId accountId amount balance } }"""
LINES = """query($core: ID, $e: ID) { creditLinesList(coreId: $core, enterpriseId: $e) {
  totalCount edges { node { id kind tier limit available } } } }"""
TRIAL = "{ trialBalance { balanced } }"
PROPOSE = """mutation($id: ID!, $input: GrantCreditLineInput!) {
  proposeCreditLine(id: $id, input: $input) { id action status lineId limit maker } }"""
PROPOSE_LIMIT = """mutation($id: ID!, $line: ID!, $limit: BigInt!) {
  proposeCreditLimit(id: $id, lineId: $line, newLimit: $limit) { id action status limit } }"""
DECIDE = """mutation($id: ID!, $approve: Boolean!, $note: String!) {
  decideCreditLineProposal(id: $id, approve: $approve, note: $note) {
    id status checker note line { id status limit available } } }"""
PROPOSALS = """query($status: String) { creditLineProposals(status: $status) {
  totalCount edges { node { id status maker checker } } } }"""


def _line(eid: str, kind: str, limit: Any, **extra: Any) -> dict[str, Any]:
    return {"id": extra.pop("id", f"L-{eid}-{kind}"), "enterpriseId": eid, "kind": kind,
            "limit": limit, "currency": "CNY", "expiresOn": expires(), **extra}  # fmt: skip


def _ok(response: httpx.Response, field: str) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"][field]


def _refused(response: httpx.Response, code: str | None, *words: str) -> str:
    """The answer is an error with ``code`` (None: refused while validating variables) whose
    message says ``words``."""
    body = response.json()
    assert body.get("errors"), body
    assert not any((body.get("data") or {}).values()), body
    error = body["errors"][0]
    if code is not None:
        assert error["extensions"]["code"] == code, error
    for w in words:
        assert w in error["message"], error
    return str(error["message"])


@pytest.fixture
def world(db: Driver, database: str, tmp_path: Path) -> Driver:
    load_world(db, database, tmp_path / "world")
    return db


def _lines_in_graph(db: Driver, database: str) -> int:
    records, _, _ = db.execute_query("MATCH (l:CreditLine) RETURN count(l) AS n",
                                     database_=database)  # fmt: skip
    return int(records[0]["n"])


def test_grant_a_chain_with_tier_sub_limits_change_freeze_expire(
    world: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    admin = login(Role.ADMIN, username="admin1")
    officer = login(Role.CREDIT_OFFICER, username="officer1")
    rm = login(Role.RELATIONSHIP_MANAGER, username="rm1")

    sc = _ok(gql(client, admin, GRANT, input=_line("C", "supply_chain", 5_000_000_000)),
             "grantCreditLine")  # fmt: skip
    assert sc["kind"] == "supply_chain" and sc["enterpriseId"] == "C"
    assert sc["limit"] == sc["available"] == 5_000_000_000 and sc["used"] == sc["held"] == 0
    for tier, limit in ((1, 3_000_000_000), (2, 1_000_000_000)):
        t = _ok(gql(client, admin, GRANT, input=_line(
            "C", "tier", limit, id=f"L-C-T{tier}", parentId="L-C-supply_chain", tier=tier)),
            "grantCreditLine")  # fmt: skip
        assert (t["tier"], t["parentId"], t["limit"]) == (tier, "L-C-supply_chain", limit)
    own = _ok(gql(client, admin, GRANT, input=_line("T1", "enterprise", 900_000_000)),
              "grantCreditLine")  # fmt: skip
    assert own["parentId"] is None

    # Granting the same line again returns it unchanged.
    again = _ok(gql(client, admin, GRANT, input=_line("T1", "enterprise", 900_000_000)),
                "grantCreditLine")  # fmt: skip
    assert again == own

    chain = _ok(gql(client, officer, LINES, core="C"), "creditLinesList")
    assert chain["totalCount"] == 3
    assert {n["node"]["id"] for n in chain["edges"]} == {"L-C-supply_chain", "L-C-T1", "L-C-T2"}

    # Only admins grant and change limits; credit officers freeze.
    assert gql(client, officer, GRANT, input=_line("T2", "enterprise", 1)).status_code == 403
    assert gql(client, rm, FREEZE, id="L-T1-enterprise", reason="x").status_code == 403

    raised = _ok(gql(client, admin, LIMIT, id="L-C-T1", limit=3_500_000_000, req="r1"),
                 "changeCreditLimit")  # fmt: skip
    assert raised["limit"] == raised["available"] == 3_500_000_000
    # The same request id again: the first result, nothing moved twice.
    assert _ok(gql(client, admin, LIMIT, id="L-C-T1", limit=3_500_000_000, req="r1"),
               "changeCreditLimit") == raised  # fmt: skip
    # ... with another limit: refused.
    for other in (2_000_000_000, 4_000_000_000):  # the same difference as r1 included
        _refused(gql(client, admin, LIMIT, id="L-C-T1", limit=other, req="r1"),
                 "CONFLICT", "request id r1 was already used for changeCreditLimit")  # fmt: skip
    chain = _ok(gql(client, officer, LINES, core="C"), "creditLinesList")
    assert {e["node"]["id"]: e["node"]["limit"] for e in chain["edges"]}["L-C-T1"] == 3_500_000_000

    frozen = _ok(gql(client, officer, FREEZE, id="L-C-supply_chain", reason="audit finding"),
                 "freezeCreditLine")  # fmt: skip
    assert frozen == {"id": "L-C-supply_chain", "status": "frozen",
                      "statusReason": "audit finding"}  # fmt: skip
    _refused(gql(client, officer, FREEZE, id="L-C-supply_chain", reason="again"),
             "CONFLICT", "already frozen")  # fmt: skip
    thawed = _ok(gql(client, officer, UNFREEZE, id="L-C-supply_chain", reason="cleared"),
                 "unfreezeCreditLine")  # fmt: skip
    assert thawed["status"] == "active"
    _refused(gql(client, officer, UNFREEZE, id="L-C-supply_chain", reason="again"),
             "CONFLICT", "is not frozen")  # fmt: skip

    assert _ok(gql(client, admin, EXPIRE, on=expires(10)), "expireCreditLines") == []
    expired = _ok(gql(client, admin, EXPIRE, on=expires(400)), "expireCreditLines")
    assert sorted(expired) == ["L-C-T1", "L-C-T2", "L-C-supply_chain", "L-T1-enterprise"]
    _refused(gql(client, officer, FREEZE, id="L-C-T1", reason="late"), "CONFLICT", "expired")
    _refused(gql(client, admin, LIMIT, id="L-C-T1", limit=1, req="r2"), "CONFLICT", "expired")
    assert _ok(gql(client, officer, TRIAL), "trialBalance")["balanced"] is True


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"limit": -5}, "BAD_REQUEST", ("must be positive",)),
        ({"limit": 0}, "BAD_REQUEST", ("must be positive",)),
        ({"limit": 10**16}, "BAD_REQUEST", ("at most 1000000000000000",)),
        ({"limit": 1.5}, None, ("not 1.5", "minor units")),
        ({"limit": 2**64}, None, ("64-bit range",)),
        ({"enterpriseId": "NOPE"}, "NOT_FOUND", ("enterprise NOPE does not exist",)),
        ({"kind": "mortgage"}, "BAD_REQUEST", ("kind must be one of",)),
        ({"currency": "XYZ"}, None, ("ISO 4217",)),
        ({"expiresOn": "2020-01-01"}, "BAD_REQUEST", ("expires after today",)),
        ({"id": "bad id:1"}, "BAD_REQUEST", ("a line id is",)),
        ({"kind": "tier", "tier": 2}, "BAD_REQUEST", ("supply-chain parent",)),
        ({"kind": "tier", "tier": 7, "parentId": "L-C-supply_chain"}, "BAD_REQUEST",
         ("a tier is 1 to 5",)),
        ({"kind": "tier", "tier": 1, "parentId": "L-T1-enterprise", "enterpriseId": "T1"},
         "BAD_REQUEST", ("part of a supply-chain line",)),
        ({"kind": "tier", "tier": 1, "parentId": "L-C-supply_chain", "enterpriseId": "T1"},
         "BAD_REQUEST", ("granted to the core",)),
        ({"parentId": "L-NOPE"}, "NOT_FOUND", ("parent line L-NOPE does not exist",)),
        ({"kind": "product"}, "BAD_REQUEST", ("names its product",)),
        ({"kind": "product", "productId": "no_such"}, "NOT_FOUND", ("no product",)),
        ({"id": "L-T1-enterprise", "enterpriseId": "T2"}, "CONFLICT",
         ("already exists with other terms",)),
        ({"id": "L-T1-enterprise", "enterpriseId": "T1", "limit": 5}, "CONFLICT",
         ("grant:L-T1-enterprise already exists with different fields",)),
    ],
)  # fmt: skip
def test_bad_grants_are_refused_and_write_nothing(
    world: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]],
    change: dict[str, Any], code: str | None, words: tuple[str, ...],
) -> None:  # fmt: skip
    admin = login(Role.ADMIN, username="admin1")
    _ok(gql(client, admin, GRANT, input=_line("C", "supply_chain", 5_000_000_000)),
        "grantCreditLine")  # fmt: skip
    _ok(gql(client, admin, GRANT, input=_line("T1", "enterprise", 900_000_000)),
        "grantCreditLine")  # fmt: skip
    before = _lines_in_graph(world, database)
    spec = {**_line("T2", "enterprise", 100_000_000, id="L-NEW"), **change}
    _refused(gql(client, admin, GRANT, input=spec), code, *words)
    assert _lines_in_graph(world, database) == before
    records, _, _ = world.execute_query(
        "MATCH (a:Account) WHERE a.id ENDS WITH ':L-NEW' RETURN count(a) AS n",
        database_=database)  # fmt: skip
    assert records[0]["n"] == 0


def test_a_cut_below_use_and_other_bad_limit_changes(
    world: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    admin = login(Role.ADMIN, username="admin1")
    service = login(Role.SERVICE, username="svc1")
    _ok(gql(client, admin, GRANT, input=_line("T1", "enterprise", 900_000_000)),
        "grantCreditLine")  # fmt: skip
    draw = """mutation { drawdown(lineId: "L-T1-enterprise", amount: 600000000,
      requestId: "d1") { transferId } }"""
    _ok(gql(client, service, draw), "drawdown")
    _refused(gql(client, admin, LIMIT, id="L-T1-enterprise", limit=500_000_000, req="cut"),
             "CONFLICT", "more is used or reserved")  # fmt: skip
    for limit, code, word in (
        (-1, "BAD_REQUEST", "positive"),
        (0, "BAD_REQUEST", "positive"),
        (10**18, "BAD_REQUEST", "at most"),
        (1.25, None, "minor units"),
    ):
        _refused(gql(client, admin, LIMIT, id="L-T1-enterprise", limit=limit, req="x"),
                 code, word)  # fmt: skip
    _refused(gql(client, admin, LIMIT, id="L-NOPE", limit=5, req="x"), "NOT_FOUND",
             "credit line L-NOPE does not exist")  # fmt: skip
    line = _ok(gql(client, admin, LINES, e="T1"), "creditLinesList")["edges"][0]["node"]
    assert (line["limit"], line["available"]) == (900_000_000, 300_000_000)
    _refused(gql(client, admin, FREEZE, id="L-T1-enterprise", reason="   "), "BAD_REQUEST",
             "a reason is")  # fmt: skip
    _refused(gql(client, admin, FREEZE, id="L-NOPE", reason="why"), "NOT_FOUND")


def test_deposits_and_withdrawals_are_ledger_transfers(
    world: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    officer = login(Role.CREDIT_OFFICER, username="officer1")
    analyst = login(Role.ANALYST, username="analyst1")
    dep = _ok(gql(client, officer, DEPOSIT, e="T1", amount=1_000_000, req="dep-1"),
              "depositToSettlement")  # fmt: skip
    assert dep == {"transferId": "dep:dep-1", "accountId": "2011:CNY:T1", "amount": 1_000_000,
                   "currency": "CNY", "balance": 1_000_000}  # fmt: skip
    # A retry returns the first transfer and moves nothing again.
    assert _ok(gql(client, officer, DEPOSIT, e="T1", amount=1_000_000, req="dep-1"),
               "depositToSettlement") == dep  # fmt: skip
    _refused(gql(client, officer, DEPOSIT, e="T1", amount=2_000_000, req="dep-1"),
             "CONFLICT", "request id dep-1 was already used")  # fmt: skip
    wd = _ok(gql(client, officer, WITHDRAW, e="T1", amount=400_000, req="wd-1"),
             "withdrawFromSettlement")  # fmt: skip
    assert (wd["transferId"], wd["balance"]) == ("wd:wd-1", 600_000)
    _refused(gql(client, officer, WITHDRAW, e="T1", amount=600_001, req="wd-2"),
             "CONFLICT", "holds 600000, less than the 600001 asked")  # fmt: skip
    for amount, code, word in (
        (0, "BAD_REQUEST", "positive"),
        (-3, "BAD_REQUEST", "positive"),
        (10**17, "BAD_REQUEST", "at most"),
        ("1e3", None, "1e3"),
    ):
        _refused(gql(client, officer, DEPOSIT, e="T1", amount=amount, req="bad"), code, word)
    _refused(gql(client, officer, DEPOSIT, e="NOPE", amount=5, req="n1"), "NOT_FOUND",
             "enterprise NOPE does not exist")  # fmt: skip
    _refused(gql(client, officer, DEPOSIT, e="T1", amount=5, req="c1", ccy="EURO"), None,
             "ISO 4217")  # fmt: skip
    assert gql(client, analyst, DEPOSIT, e="T1", amount=5, req="a1").status_code == 403
    records, _, _ = world.execute_query(
        "MATCH (t:Transfer) WHERE t.code IN ['deposit', 'withdrawal'] RETURN count(t) AS n",
        database_=database)  # fmt: skip
    assert records[0]["n"] == 2
    assert _ok(gql(client, officer, TRIAL), "trialBalance")["balanced"] is True


def test_the_documented_mutations_run(
    world: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    admin = login(Role.ADMIN, username="admin1")
    checker = login(Role.ADMIN, username="admin2")  # decides what admin1 proposed
    examples = doc_examples("api.md", "Credit administration (`credit.py`)")
    assert len(examples) == 7
    for query in examples:
        who = checker if "decideCreditLineProposal" in query else admin
        body = gql(client, who, query).json()
        assert "errors" not in body, (query, body)
    assert _ok(gql(client, admin, TRIAL), "trialBalance")["balanced"] is True


def test_four_eyes_on_large_lines_and_raises(
    world: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    """Above the threshold (10,000,000,000 minor units by default) one person is refused; a
    proposal waits for another admin, who approves (the line is granted) or rejects it."""
    admin = login(Role.ADMIN, username="admin1")
    second = login(Role.ADMIN, username="admin2")
    officer = login(Role.CREDIT_OFFICER, username="officer1")
    big = _line("C", "supply_chain", 20_000_000_000)
    _refused(gql(client, admin, GRANT, input=big), "FORBIDDEN", "second approver")
    assert _lines_in_graph(world, database) == 0

    made = _ok(gql(client, officer, PROPOSE, id="P1", input=big), "proposeCreditLine")
    assert (made["status"], made["maker"], made["action"]) == ("pending", "officer1", "grant")
    assert _lines_in_graph(world, database) == 0  # nothing granted yet
    # The same proposal again is the first; other terms under its id are refused.
    assert _ok(gql(client, officer, PROPOSE, id="P1", input=big), "proposeCreditLine") == made
    _refused(gql(client, officer, PROPOSE, id="P1", input={**big, "limit": 30_000_000_000}),
             "CONFLICT", "already made with other limit_minor")  # fmt: skip
    pending = _ok(gql(client, admin, PROPOSALS, status="pending"), "creditLineProposals")
    assert [e["node"]["id"] for e in pending["edges"]] == ["P1"]

    # A credit officer may not decide; the admin approves, and the line exists.
    assert gql(client, officer, DECIDE, id="P1", approve=True, note="x").status_code == 403
    got = _ok(gql(client, admin, DECIDE, id="P1", approve=True, note="rating reviewed"),
              "decideCreditLineProposal")  # fmt: skip
    assert (got["status"], got["checker"], got["note"]) == ("approved", "admin1",
                                                             "rating reviewed")  # fmt: skip
    assert got["line"] == {"id": "L-C-supply_chain", "status": "active",
                           "limit": 20_000_000_000, "available": 20_000_000_000}  # fmt: skip
    # Approving again is a retry; rejecting now is refused.
    assert _ok(gql(client, admin, DECIDE, id="P1", approve=True, note="rating reviewed"),
               "decideCreditLineProposal") == got  # fmt: skip
    _refused(gql(client, admin, DECIDE, id="P1", approve=False, note="no"), "CONFLICT",
             "already approved")  # fmt: skip

    # A raise above the threshold: proposed by an admin, who may not decide it herself.
    _refused(gql(client, admin, LIMIT, id="L-C-supply_chain", limit=25_000_000_000, req="r9"),
             "FORBIDDEN", "second approver")  # fmt: skip
    raise_ = _ok(gql(client, admin, PROPOSE_LIMIT, id="P2", line="L-C-supply_chain",
                     limit=25_000_000_000), "proposeCreditLimit")  # fmt: skip
    assert (raise_["action"], raise_["limit"]) == ("limit", 25_000_000_000)
    _refused(gql(client, admin, DECIDE, id="P2", approve=True, note="mine"), "FORBIDDEN",
             "may not decide")  # fmt: skip
    raised = _ok(gql(client, second, DECIDE, id="P2", approve=True, note="ok"),
                 "decideCreditLineProposal")  # fmt: skip
    assert raised["line"]["limit"] == 25_000_000_000
    # A cut needs no second person.
    cut = _ok(gql(client, admin, LIMIT, id="L-C-supply_chain", limit=15_000_000_000, req="c1"),
              "changeCreditLimit")  # fmt: skip
    assert cut["limit"] == 15_000_000_000

    # Rejected: nothing granted, kept with its note.
    _ok(gql(client, officer, PROPOSE, id="P3", input=_line("T1", "enterprise", 12_000_000_000)),
        "proposeCreditLine")  # fmt: skip
    no = _ok(gql(client, second, DECIDE, id="P3", approve=False, note="thin file"),
             "decideCreditLineProposal")  # fmt: skip
    assert (no["status"], no["line"]) == ("rejected", None)
    assert _lines_in_graph(world, database) == 1

    # Bad input: a clear refusal, nothing written.
    for variables, code, word in (
        ({"id": "P 4", "input": _line("T1", "enterprise", 12_000_000_000)}, "BAD_REQUEST",
         "a proposal id"),
        ({"id": "P4", "input": _line("NOPE", "enterprise", 12_000_000_000)}, "NOT_FOUND", "NOPE"),
        ({"id": "P4", "input": _line("T1", "enterprise", -1)}, "BAD_REQUEST", "positive"),
    ):  # fmt: skip
        _refused(gql(client, officer, PROPOSE, **variables), code, word)
    _refused(gql(client, second, DECIDE, id="P-NOPE", approve=True, note="x"), "NOT_FOUND",
             "P-NOPE")  # fmt: skip
    _refused(gql(client, officer, PROPOSALS, status="maybe"), "BAD_REQUEST", "status")
    assert _ok(gql(client, admin, PROPOSALS), "creditLineProposals")["totalCount"] == 3
    assert _ok(gql(client, admin, TRIAL), "trialBalance")["balanced"] is True
