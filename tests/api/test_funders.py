"""Several funders on one platform, over HTTP: each funder's users see only their own
applications, financings, credit lines and decisions, by id and in every list; the chain
graph stays visible to both; the default funder's unbound staff keep the loaded book and
never see a new funder's records; an unbound admin sees every funder's."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver

from api.security import Role, add_user
from graph.funders import save_funder
from graph.model import FunderKind
from graph.queries.postloan import merge_financing_alerts
from graph.queries.sensors import upsert_alerts
from tests.api.conftest import PASSWORD, gql
from tests.api.credit_world import as_date, expires, load_world
from tests.api.test_sensors import _ws
from tests.contract_signing import contract_signed

pytestmark = pytest.mark.neo4j

GRANT = """mutation($input: GrantCreditLineInput!) { grantCreditLine(input: $input) { id } }"""
SUBMIT = """mutation($input: ApplicationInput!) { submitApplication(input: $input) {
  id status financingId funderId } }"""
APP = """query($id: ID!) { application(id: $id) { id funderId decisions { verdict } } }"""
FIN = """query($id: ID!) { financing(id: $id) { id funderId lender lineId } }"""
LINE = """query($id: ID!) { creditLine(id: $id) { id } }"""
LISTS = """{ applications { totalCount edges { node { id } } }
  financings(first: 200) { totalCount edges { node { id funderId } } }
  creditLinesList { totalCount edges { node { id } } } }"""
ENTERPRISE_BOOK = """{ enterprise(id: "T1") { id name
  applications { edges { node { id } } } financings { edges { node { id } } }
  creditLines { edges { node { id } } } } }"""
REVIEW = """mutation($id: ID!) { reviewApplication(id: $id, approve: true) { id status } }"""
DISBURSE = """mutation($id: ID!) { disburse(financingId: $id, on: "2026-01-05") { id } }"""
TRIAL = """{ trialBalance { balanced } }"""
TRIAL_OF = """query($funder: ID) { trialBalance(funderId: $funder) {
  funderId balanced totalDebits } }"""
ACCOUNT = """query($id: ID!) { accountBalance(accountId: $id) { creditsPosted } }"""
DEFAULT_ONLY = """{ ruleSets { __typename } }"""
ALERT_LIST = """{ alertList(first: 100) { edges { node { id } } } }"""
ALERTS_PAGE = """{ alerts(first: 100) { edges { node { id } } } }"""
ACK = """mutation($id: ID!) { acknowledgeAlert(id: $id) { id status acknowledgedBy } }"""
WATCH = """mutation { watchEnterprise(enterpriseId: "T1") { id openAlerts
  latestAlerts { id } } }"""
PROPOSALS = """{ creditLineProposals { edges { node { id funderId status } } } }"""
PROPOSE = """mutation($id: ID!, $input: GrantCreditLineInput!) {
  proposeCreditLine(id: $id, input: $input) { id status funderId maker } }"""
PROPOSE_LIMIT = """mutation($id: ID!, $line: ID!, $limit: BigInt!) {
  proposeCreditLimit(id: $id, lineId: $line, newLimit: $limit) { id funderId } }"""
DECIDE_PROPOSAL = """mutation($id: ID!) {
  decideCreditLineProposal(id: $id, approve: true, note: "ok") {
    id status checker line { id limit } } }"""
LINE_FULL = """query($id: ID!) { creditLine(id: $id) { id limit } }"""
DISBURSE_ON = """mutation($id: ID!, $on: Date!) { disburse(financingId: $id, on: $on) {
  id status } }"""
REPORT = """query($funder: ID) { portfolioReport(funderId: $funder) {
  funderId count financings { id } } }"""
EOD = """mutation($on: Date!) { runEndOfDay(asOf: $on) { accrued reviewed } }"""
EXPOSURE = """query($funder: ID) { groupExposure(id: "T1", funderId: $funder) {
  financings financed } chainExposure(id: "T1", up: 1, down: 1, funderId: $funder) {
  financings } }"""
TRIAL_LINES = """{ trialBalance { funderId balanced lines { code balance } } }"""


def _data(response: httpx.Response, field: str | None = None) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"] if field is None else body["data"][field]


def _ids(conn: dict[str, Any]) -> set[str]:
    return {e["node"]["id"] for e in conn["edges"]}


@pytest.fixture
def funders(
    db: Driver, database: str, tmp_path: Path, client: httpx.Client,
    login: Callable[..., dict[str, str]],
) -> dict[str, Any]:  # fmt: skip
    """Funders bank-a and fact-b, each with an admin, a relationship manager and a credit
    officer, its own line for T1 and one application approved on it."""
    load_world(db, database, tmp_path / "world")
    now = datetime.now(UTC)
    save_funder(db, database, "bank-a", "Bank A", FunderKind.BANK, "test", now)
    save_funder(db, database, "fact-b", "Factor B", FunderKind.FACTORING, "test", now)

    def user(name: str, role: Role, funder: str) -> dict[str, str]:
        add_user(db, database, name, PASSWORD, [role], funder_id=funder)
        r = client.post("/auth/token", json={"username": name, "password": PASSWORD})
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    out: dict[str, Any] = {}
    for funder, invoice in (("bank-a", "INV-OPEN-1"), ("fact-b", "INV-OPEN-3")):
        admin = user(f"admin-{funder}", Role.ADMIN, funder)
        rm = user(f"rm-{funder}", Role.RELATIONSHIP_MANAGER, funder)
        officer = user(f"officer-{funder}", Role.CREDIT_OFFICER, funder)
        line = f"L-{funder}-T1"
        _data(gql(client, admin, GRANT, input={
            "id": line, "enterpriseId": "T1", "kind": "enterprise", "limit": 2_000_000_000,
            "expiresOn": expires()}))  # fmt: skip
        app = _data(gql(client, rm, SUBMIT, input={
            "id": f"A-{funder}", "enterpriseId": "T1", "productId": "factoring_recourse",
            "amount": 50_000_000, "collateralIds": [invoice]}), "submitApplication")  # fmt: skip
        assert app["status"] == "approved" and app["funderId"] == funder, app
        out[funder] = {"admin": admin, "rm": rm, "officer": officer, "line": line,
                       "app": app["id"], "fin": app["financingId"]}  # fmt: skip
    out["default_officer"] = login(Role.CREDIT_OFFICER, username="officer-default")
    out["platform_admin"] = login(Role.ADMIN, username="admin-platform")
    return out


def test_each_funder_reads_only_its_own_book(
    funders: dict[str, Any], client: httpx.Client
) -> None:
    for me, other in (("bank-a", "fact-b"), ("fact-b", "bank-a")):
        mine, theirs = funders[me], funders[other]
        for who in (mine["officer"], mine["admin"]):
            # By id: its own records, with their funder; the other's are NOT_FOUND.
            app = _data(gql(client, who, APP, id=mine["app"]), "application")
            assert app["funderId"] == me and app["decisions"]
            fin = _data(gql(client, who, FIN, id=mine["fin"]), "financing")
            assert fin["funderId"] == me and fin["lender"] == me and fin["lineId"] == mine["line"]
            _data(gql(client, who, LINE, id=mine["line"]), "creditLine")
            for query, key in ((APP, theirs["app"]), (FIN, theirs["fin"]),
                               (LINE, theirs["line"])):  # fmt: skip
                r = gql(client, who, query, id=key)
                assert r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND", r.text
            # Lists: only its own.
            lists = _data(gql(client, who, LISTS))
            assert _ids(lists["applications"]) == {mine["app"]}
            assert _ids(lists["financings"]) == {mine["fin"]}
            assert {e["node"]["funderId"] for e in lists["financings"]["edges"]} == {me}
            assert _ids(lists["creditLinesList"]) == {mine["line"]}
            # The shared chain graph: the enterprise is there; its book is narrowed.
            firm = _data(gql(client, who, ENTERPRISE_BOOK), "enterprise")
            assert firm["name"]
            assert _ids(firm["applications"]) == {mine["app"]}
            assert _ids(firm["financings"]) == {mine["fin"]}
            assert _ids(firm["creditLines"]) == {mine["line"]}
        # Writes on the other's records: NOT_FOUND, nothing written.
        r = gql(client, mine["officer"], DISBURSE, id=theirs["fin"])
        assert r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND", r.text
        r = gql(client, mine["officer"], REVIEW, id=theirs["app"])
        assert r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND", r.text
        # The ledger: its own trial balance (its lines' memo accounts are in its book), not
        # the other's; the other's ledger accounts are NOT_FOUND.
        tb = _data(gql(client, mine["officer"], TRIAL_OF), "trialBalance")
        assert tb["funderId"] == me and tb["balanced"] and tb["totalDebits"] > 0, tb
        r = gql(client, mine["officer"], TRIAL_OF, funder=other)
        assert r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", r.text
        r = gql(client, mine["officer"], ACCOUNT, id=f"9101:CNY:{theirs['line']}")
        assert r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND", r.text
        mine_acc = _data(gql(client, mine["officer"], ACCOUNT, id=f"9101:CNY:{mine['line']}"))
        assert mine_acc["accountBalance"]["creditsPosted"] == 2_000_000_000
        # What is not split by funder yet is refused to a funder's users.
        r = gql(client, mine["officer"], DEFAULT_ONLY)
        assert r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", r.text


def _write_alerts(db: Driver, database: str, funders: dict[str, Any]) -> set[str]:
    """An alert about each funder's financing (the finance writer's) and one about an asset
    that secures nothing (the sensors' writer): the shared chain's."""
    now = datetime.now(UTC)
    merge_financing_alerts(db, database, [
        {"id": f"AL-{f}", "financing_id": funders[f]["fin"],
         "props": {"kind": "early_warning", "severity": "warning", "status": "open",
                   "message": f"warning on {f}'s financing", "raised_at": now,
                   "created_at": now}}
        for f in ("bank-a", "fact-b")])  # fmt: skip
    upsert_alerts(db, database, [{
        "id": "AL-CHAIN", "kind": "geofence_breach", "scope": "asset:NONE", "severity":
        "critical", "message": "an unpledged asset left its site", "evidence": "{}",
        "first_evidence_at": now, "raised_at": now, "asset_id": "NONE", "sensor_id": "NONE",
    }])  # fmt: skip
    return {"AL-bank-a", "AL-fact-b", "AL-CHAIN"}


def test_alerts_are_pushed_by_funder(
    db: Driver, database: str, funders: dict[str, Any], api_url: str
) -> None:
    """`alertRaised` pushes bank-a's officer its own alert and the shared chain's, never
    fact-b's."""
    with _ws(api_url) as ws:
        ws.send(json.dumps({"type": "connection_init",
                            "payload": funders["bank-a"]["officer"]}))  # fmt: skip
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": {
            "query": "subscription { alertRaised { id } }"}}))  # fmt: skip
        time.sleep(1.0)  # the subscription's poller starts from "now"
        _write_alerts(db, database, funders)
        pushed = set()
        while len(pushed) < 2:
            message = json.loads(ws.recv(timeout=15))
            assert message["type"] == "next", message
            pushed.add(message["payload"]["data"]["alertRaised"]["id"])
        with pytest.raises(TimeoutError):
            ws.recv(timeout=3)
        assert pushed == {"AL-bank-a", "AL-CHAIN"}


def test_alerts_are_split_by_funder(
    db: Driver, database: str, funders: dict[str, Any], client: httpx.Client
) -> None:
    """An alert about a funder's financing is in its book only; one about the shared chain
    (an asset that secures nothing) is read by every funder and acknowledged by the
    platform's staff."""
    ours = _write_alerts(db, database, funders)
    # Watching the borrower T1: each funder's officer counts its own open alert only, the
    # default funder's staff neither.
    for who, mine in ((funders["bank-a"]["officer"], ["AL-bank-a"]),
                      (funders["fact-b"]["officer"], ["AL-fact-b"]),
                      (funders["default_officer"], [])):  # fmt: skip
        (firm,) = _data(gql(client, who, WATCH), "watchEnterprise")
        assert (firm["id"], firm["openAlerts"]) == ("T1", len(mine)), firm
        assert [a["id"] for a in firm["latestAlerts"]] == mine
    for me, other in (("bank-a", "fact-b"), ("fact-b", "bank-a")):
        officer = funders[me]["officer"]
        for query, field in ((ALERT_LIST, "alertList"), (ALERTS_PAGE, "alerts")):
            seen = _ids(_data(gql(client, officer, query), field)) & ours
            assert seen == {f"AL-{me}", "AL-CHAIN"}, (me, field, seen)
        r = gql(client, officer, ACK, id=f"AL-{other}")
        assert r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND", r.text
        r = gql(client, officer, ACK, id="AL-CHAIN")
        assert r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", r.text
        took = _data(gql(client, officer, ACK, id=f"AL-{me}"), "acknowledgeAlert")
        assert (took["status"], took["acknowledgedBy"]) == ("acknowledged", f"officer-{me}")
    # The default funder's staff: none of the two funders' alerts; the chain's, which they
    # acknowledge. The platform admin reads every one.
    staff = funders["default_officer"]
    assert _ids(_data(gql(client, staff, ALERT_LIST), "alertList")) & ours == {"AL-CHAIN"}
    took = _data(gql(client, staff, ACK, id="AL-CHAIN"), "acknowledgeAlert")
    assert took["status"] == "acknowledged"
    every = _ids(_data(gql(client, funders["platform_admin"], ALERT_LIST), "alertList"))
    assert ours <= every


REGISTER = """mutation($input: RegistrationInput!, $req: ID!) {
  registerSecurityInterest(input: $input, requestId: $req) { id securedParty } }"""
DISCHARGE = """mutation($id: ID!, $on: Date!) {
  dischargeSecurityInterest(id: $id, on: $on) { status } }"""
DECIDED = """mutation($input: ApplicationInput!) { submitApplication(input: $input) {
  id status reasons financingId } }"""
COVERING = """query($c: ID!) { securityInterests(collateralId: $c, status: "live") {
  edges { node { id securedParty financingId } } } }"""


def test_a_registration_at_one_funder_refuses_a_financing_at_another(
    funders: dict[str, Any], client: httpx.Client
) -> None:
    """fact-b registers a pledge of T1's receivable INV-OPEN-2; bank-a's financing on it is
    refused, naming that registration (the application is kept, declined); once fact-b
    discharges it, bank-a's next application is approved and registered for bank-a."""
    today = datetime.now(UTC).date()
    b = _data(gql(client, funders["fact-b"]["officer"], REGISTER, input={
        "kind": "pledge", "collateralId": "INV-OPEN-2", "registeredOn": today.isoformat(),
        "expiresOn": (today + timedelta(days=90)).isoformat()}, req="R-B-1"),
        "registerSecurityInterest")  # fmt: skip
    assert b["securedParty"] == "fact-b"
    ask = {"enterpriseId": "T1", "productId": "factoring_recourse", "amount": 50_000_000,
           "collateralIds": ["INV-OPEN-2"]}  # fmt: skip
    refused = _data(gql(client, funders["bank-a"]["rm"], DECIDED, input={**ask, "id": "A-2"}),
                    "submitApplication")  # fmt: skip
    assert refused["status"] == "declined" and refused["financingId"] is None, refused
    assert b["id"] in refused["reasons"][0] and "fact-b" in refused["reasons"][0], refused
    _data(gql(client, funders["fact-b"]["officer"], DISCHARGE, id=b["id"],
              on=today.isoformat()))  # fmt: skip
    taken = _data(gql(client, funders["bank-a"]["rm"], DECIDED, input={**ask, "id": "A-3"}),
                  "submitApplication")  # fmt: skip
    assert taken["status"] == "approved", taken
    (live,) = [e["node"] for e in _data(gql(client, funders["bank-a"]["officer"], COVERING,
                                            c="INV-OPEN-2"), "securityInterests")["edges"]]
    assert (live["securedParty"], live["financingId"]) == ("bank-a", taken["financingId"])


def test_the_default_book_and_the_platform_admin(
    funders: dict[str, Any], client: httpx.Client
) -> None:
    new = {funders[f][k] for f in ("bank-a", "fact-b") for k in ("app", "fin")}
    # Unbound staff are the default funder's: the loaded book, none of the new funders'.
    book = _data(gql(client, funders["default_officer"], LISTS))
    seen = _ids(book["applications"]) | _ids(book["financings"])
    assert not seen & new
    assert book["financings"]["totalCount"] >= 1  # the loaded book (default funder)
    assert {e["node"]["funderId"] for e in book["financings"]["edges"]} == {"default"}
    r = gql(client, funders["default_officer"], FIN, id=funders["bank-a"]["fin"])
    assert r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    _data(gql(client, funders["default_officer"], TRIAL))
    # An unbound admin runs the platform and sees every funder's.
    every = _data(gql(client, funders["platform_admin"], LISTS))
    assert new <= _ids(every["applications"]) | _ids(every["financings"])


def test_a_binding_change_revokes_tokens(
    db: Driver, database: str, funders: dict[str, Any], client: httpx.Client
) -> None:
    from api.security import bind

    assert bind(db, database, "officer-bank-a", "fact-b", None)
    r = gql(client, funders["bank-a"]["officer"], LISTS)
    assert r.status_code == 401
    with pytest.raises(ValueError, match="no funder"):
        bind(db, database, "officer-bank-a", "no-such-funder", None)


OFFER = """mutation($input: OfferInput!) { offerApplication(input: $input) {
  id status funderId } }"""
DECIDE = """mutation($id: ID!, $approve: Boolean!, $rate: Int) {
  decideOffer(id: $id, approve: $approve, rateBps: $rate) { id status rateBps funderId } }"""
ACCEPT = """mutation($id: ID!) { acceptOffer(id: $id) { id status financingId funderId } }"""
HELD = """query($id: ID!) { creditLine(id: $id) { held } }"""


def test_an_application_offered_to_three_funders(
    db: Driver, database: str, funders: dict[str, Any], client: httpx.Client
) -> None:
    """Three funders: bank-a and fact-b offer (holding their lines), fin-c declines; the
    borrower's own user accepts bank-a's; fact-b's offer lapses and its hold is released."""
    save_funder(db, database, "fin-c", "Finance C", FunderKind.FINANCE_COMPANY, "test",
                datetime.now(UTC))  # fmt: skip
    add_user(db, database, "officer-fin-c", PASSWORD, [Role.CREDIT_OFFICER], funder_id="fin-c")
    add_user(db, database, "t1-user", PASSWORD, [Role.RELATIONSHIP_MANAGER], enterprise_id="T1")
    tokens = {}
    for name in ("officer-fin-c", "t1-user"):
        r = client.post("/auth/token", json={"username": name, "password": PASSWORD})
        tokens[name] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    borrower = tokens["t1-user"]
    a, b = funders["bank-a"], funders["fact-b"]

    def held(funder: dict[str, Any]) -> int:
        return int(_data(gql(client, funder["officer"], HELD, id=funder["line"]),
                         "creditLine")["held"])  # fmt: skip

    before = {"a": held(a), "b": held(b)}
    offers = _data(gql(client, borrower, OFFER, input={
        "id": "REQ-1", "enterpriseId": "T1", "productId": "factoring_recourse",
        "amount": 100_000_000, "collateralIds": ["INV-OPEN-2"],
        "funderIds": ["bank-a", "fact-b", "fin-c"]}), "offerApplication")  # fmt: skip
    assert {o["id"]: o["status"] for o in offers} == {
        "REQ-1@bank-a": "submitted", "REQ-1@fact-b": "submitted", "REQ-1@fin-c": "submitted"}
    # The same request again: the same offers, nothing new.
    assert len(_data(gql(client, borrower, OFFER, input={
        "id": "REQ-1", "enterpriseId": "T1", "productId": "factoring_recourse",
        "amount": 100_000_000, "collateralIds": ["INV-OPEN-2"],
        "funderIds": ["fact-b", "bank-a", "fin-c"]}), "offerApplication")) == 3  # fmt: skip
    # Each funder sees and decides only its own offer.
    r = gql(client, a["officer"], DECIDE, id="REQ-1@fact-b", approve=True)
    assert r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    got_a = _data(gql(client, a["officer"], DECIDE, id="REQ-1@bank-a", approve=True),
                  "decideOffer")  # fmt: skip
    got_b = _data(gql(client, b["officer"], DECIDE, id="REQ-1@fact-b", approve=True, rate=900),
                  "decideOffer")  # fmt: skip
    got_c = _data(gql(client, tokens["officer-fin-c"], DECIDE, id="REQ-1@fin-c",
                      approve=False), "decideOffer")  # fmt: skip
    assert (got_a["status"], got_b["status"], got_b["rateBps"], got_c["status"]) == (
        "offered", "offered", 900, "rejected")
    assert held(a) == before["a"] + 100_000_000 and held(b) == before["b"] + 100_000_000
    assert _ids(_data(gql(client, b["officer"], LISTS))["applications"]) == {
        b["app"], "REQ-1@fact-b"}
    # The borrower's user sees its own firm's offers at every funder, and nothing else.
    mine = _data(gql(client, borrower, """{ applications(first: 100) {
      edges { node { id } } } }"""), "applications")  # fmt: skip
    assert {"REQ-1@bank-a", "REQ-1@fact-b", "REQ-1@fin-c"} <= _ids(mine)
    r = gql(client, borrower, """{ applications(enterpriseId: "C") { totalCount } }""")
    assert r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    r = gql(client, borrower, FIN, id=a["fin"])
    assert r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Accept bank-a's: it becomes a financing; fact-b's lapses and its hold is released.
    after = {o["id"]: o for o in _data(gql(client, borrower, ACCEPT, id="REQ-1@bank-a"),
                                       "acceptOffer")}  # fmt: skip
    assert after["REQ-1@bank-a"]["status"] == "approved"
    assert after["REQ-1@bank-a"]["financingId"]
    assert after["REQ-1@fact-b"]["status"] == "lapsed"
    assert after["REQ-1@fin-c"]["status"] == "rejected"
    assert held(b) == before["b"]
    assert held(a) == before["a"] + 100_000_000  # now the financing's hold
    fin = _data(gql(client, a["officer"], FIN, id=after["REQ-1@bank-a"]["financingId"]),
                "financing")  # fmt: skip
    assert fin["funderId"] == "bank-a" and fin["lineId"] == a["line"]
    # Accepting again answers the same; another offer of the request cannot be taken now.
    again = _data(gql(client, borrower, ACCEPT, id="REQ-1@bank-a"), "acceptOffer")
    assert {o["id"]: o["status"] for o in again} == {k: v["status"] for k, v in after.items()}
    r = gql(client, borrower, ACCEPT, id="REQ-1@fact-b")
    assert r.json()["errors"][0]["extensions"]["code"] == "CONFLICT"


def _values(node: Any, key: str) -> list[Any]:
    """Every value of ``key`` anywhere in a JSON answer."""
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == key] + [
            x for v in node.values() for x in _values(v, key)]  # fmt: skip
    if isinstance(node, list):
        return [x for v in node for x in _values(v, key)]
    return []


@pytest.mark.slow
@pytest.mark.parametrize(("me", "other"), [("bank-a", "fact-b"), ("fact-b", "bank-a")])
def test_generated_queries_never_read_the_other_funders_records(
    funders: dict[str, Any], client: httpx.Client, me: str, other: str
) -> None:
    """hypothesis-graphql writes queries over every Query field, with ids drawn from both
    funders' records; with each funder's token, no answer carries a record of the other
    (its ids, unless the query itself named them, or its funderId) and nothing fails."""
    import hypothesis_graphql as hg
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from hypothesis_graphql import nodes

    from api.graphql.schema import build_schema
    from chainlens.settings import Environment, Settings

    records = {f: [funders[f][k] for k in ("app", "fin", "line")] for f in ("bank-a", "fact-b")}
    ids = [*records["bank-a"], *records["fact-b"], "T1", "C", "INV-OPEN-1"]
    scalars = {
        "ID": st.sampled_from(ids).map(nodes.String),
        "BigInt": st.integers(1, 2**40).map(nodes.Int),
        "Date": st.dates().map(nodes.String),
        "DateTime": st.datetimes(timezones=st.just(UTC)).map(
            lambda d: nodes.String(d.isoformat())),
        "JSON": st.just(nodes.String("{}")),
    }  # fmt: skip
    sdl = str(build_schema(Settings(environment=Environment.TEST)))
    headers = funders[me]["officer"]

    @settings(max_examples=40, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(query=hg.queries(sdl, custom_scalars=scalars, allow_x00=False))
    def check(query: str) -> None:
        response = client.post("/graphql", json={"query": query}, headers=headers)
        assert response.status_code < 500, response.text[:2000]
        body = response.json()
        codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
        assert "INTERNAL" not in codes, body
        data = body.get("data") or {}
        assert set(_values(data, "funderId")) <= {me}, (query, data)
        leaked = [i for i in records[other] if i in json_text(data) and i not in query]
        assert not leaked, (query, data)

    check()


def json_text(data: Any) -> str:
    import json

    return json.dumps(data, ensure_ascii=False)


def test_each_funders_portfolio_report_and_end_of_day(
    funders: dict[str, Any], client: httpx.Client
) -> None:
    """The portfolio report (GraphQL and the downloads) and the exposures are the caller's
    funder's book; the end-of-day job, run once by the platform, accrues every funder's
    financings in each funder's own book."""
    for funder in ("bank-a", "fact-b"):
        me = funders[funder]
        contract_signed(lambda user, q, **v: _data(gql(client, user, q, **v)), me["fin"],
                        manager=me["rm"], officer=me["officer"], contract_no="CT-F")  # fmt: skip
        got = _data(gql(client, me["officer"], DISBURSE_ON, id=me["fin"],
                        on=as_date(0).isoformat()), "disburse")  # fmt: skip
        assert got["status"] == "active", got
    fins = {f: funders[f]["fin"] for f in ("bank-a", "fact-b")}
    for me, other in (("bank-a", "fact-b"), ("fact-b", "bank-a")):
        officer = funders[me]["officer"]
        report = _data(gql(client, officer, REPORT), "portfolioReport")
        assert report["funderId"] == me
        assert {x["id"] for x in report["financings"]} == {fins[me]}, report
        assert _data(gql(client, officer, REPORT, funder=me), "portfolioReport") == report
        r = gql(client, officer, REPORT, funder=other)
        assert r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", r.text
        # The downloads serve the same book.
        csv_ = client.get("/api/v1/reports/portfolio/financings.csv", headers=officer)
        assert csv_.status_code == 200, csv_.text
        assert fins[me] in csv_.text and fins[other] not in csv_.text
        refused = client.get("/api/v1/reports/portfolio.xlsx", headers=officer,
                             params={"funderId": other})  # fmt: skip
        assert refused.status_code == 403, refused.text
    # The default funder's staff: the loaded book only; an unbound admin: any funder's, or
    # the whole platform without one.
    default = _data(gql(client, funders["default_officer"], REPORT), "portfolioReport")
    assert default["funderId"] == "default" and default["count"] >= 1
    assert not {x["id"] for x in default["financings"]} & set(fins.values())
    admin = funders["platform_admin"]
    every = _data(gql(client, admin, REPORT), "portfolioReport")
    assert every["funderId"] is None
    assert every["count"] == default["count"] + 2
    one = _data(gql(client, admin, REPORT, funder="fact-b"), "portfolioReport")
    assert {x["id"] for x in one["financings"]} == {fins["fact-b"]}

    # Exposures: the borrower T1's group and chain, each funder's financings only.
    seen = {}
    for who, key in ((funders["bank-a"]["officer"], "bank-a"),
                     (funders["fact-b"]["officer"], "fact-b"),
                     (funders["default_officer"], "default"), (admin, "every")):  # fmt: skip
        seen[key] = _data(gql(client, who, EXPOSURE))
    assert seen["bank-a"]["groupExposure"]["financings"] == 1
    assert seen["fact-b"]["groupExposure"]["financings"] == 1
    assert seen["bank-a"]["chainExposure"]["financings"] == 1
    assert seen["every"]["groupExposure"]["financings"] == (
        seen["default"]["groupExposure"]["financings"] + 2)
    assert _data(gql(client, admin, EXPOSURE, funder="bank-a")) == seen["bank-a"]
    r = gql(client, funders["bank-a"]["officer"], EXPOSURE, funder="default")
    assert r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", r.text

    # End of day, once for the platform: each funder's financing accrues in its own book.
    run = _data(gql(client, funders["default_officer"], EOD, on=as_date(10).isoformat()),
                "runEndOfDay")  # fmt: skip
    assert run["accrued"] >= 2 and run["reviewed"] >= 2, run
    r = gql(client, funders["bank-a"]["officer"], EOD, on=as_date(10).isoformat())
    assert r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", r.text
    for funder in ("bank-a", "fact-b"):
        tb = _data(gql(client, funders[funder]["officer"], TRIAL_LINES), "trialBalance")
        assert tb["funderId"] == funder and tb["balanced"], tb
        codes = {x["code"]: int(x["balance"]) for x in tb["lines"]}
        assert codes.get("1132", 0) > 0 and codes.get("6011", 0) < 0, codes  # accrued interest
        assert codes["1132"] == -codes["6011"]


def test_credit_line_proposals_are_each_funders_own(
    funders: dict[str, Any], client: httpx.Client
) -> None:
    """Above the four-eyes threshold a funder's line is proposed by its credit officer and
    decided by its admin, in its own book; another funder neither lists nor decides it."""
    big = 20_000_000_000  # above the default threshold of 100,000,000.00
    a, b = funders["bank-a"], funders["fact-b"]
    refused = gql(client, a["admin"], GRANT, input={
        "id": "L-bank-a-BIG", "enterpriseId": "T2", "kind": "enterprise", "limit": big,
        "expiresOn": expires()})  # fmt: skip
    assert "errors" in refused.json(), refused.text
    p = _data(gql(client, a["officer"], PROPOSE, id="P-bank-a-1", input={
        "id": "L-bank-a-BIG", "enterpriseId": "T2", "kind": "enterprise", "limit": big,
        "expiresOn": expires()}), "proposeCreditLine")  # fmt: skip
    assert (p["status"], p["funderId"]) == ("pending", "bank-a"), p
    raise_ = _data(gql(client, a["officer"], PROPOSE_LIMIT, id="P-bank-a-2", line=a["line"],
                       limit=big), "proposeCreditLimit")  # fmt: skip
    assert raise_["funderId"] == "bank-a"
    # Another funder's proposals and lines: not listed, NOT_FOUND by id, nothing written.
    assert _ids(_data(gql(client, b["admin"], PROPOSALS), "creditLineProposals")) == set()
    r = gql(client, b["admin"], DECIDE_PROPOSAL, id="P-bank-a-1")
    assert r.json()["errors"][0].get("extensions", {}).get("code") == "NOT_FOUND", r.text
    r = gql(client, b["officer"], PROPOSE_LIMIT, id="P-fact-b-x", line=a["line"], limit=big)
    assert r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND", r.text
    default = _data(gql(client, funders["default_officer"], PROPOSALS), "creditLineProposals")
    assert not _ids(default) & {"P-bank-a-1", "P-bank-a-2"}
    mine = _data(gql(client, a["admin"], PROPOSALS), "creditLineProposals")
    assert _ids(mine) == {"P-bank-a-1", "P-bank-a-2"}
    every = _data(gql(client, funders["platform_admin"], PROPOSALS), "creditLineProposals")
    assert {"P-bank-a-1", "P-bank-a-2"} <= _ids(every)
    # Bank A's admin decides: the line is bank A's, its limit in bank A's book.
    for pid in ("P-bank-a-1", "P-bank-a-2"):
        d = _data(gql(client, a["admin"], DECIDE_PROPOSAL, id=pid), "decideCreditLineProposal")
        assert d["status"] == "approved" and d["line"]["limit"] == big, d
    line = _data(gql(client, a["officer"], LINE_FULL, id="L-bank-a-BIG"), "creditLine")
    assert line["limit"] == big
    r = gql(client, b["officer"], LINE_FULL, id="L-bank-a-BIG")
    assert r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND", r.text
    acc = _data(gql(client, a["officer"], ACCOUNT, id="9101:CNY:L-bank-a-BIG"))
    assert acc["accountBalance"]["creditsPosted"] == big
    tb = _data(gql(client, a["officer"], TRIAL_OF), "trialBalance")
    assert tb["funderId"] == "bank-a" and tb["balanced"], tb
