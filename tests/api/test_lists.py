"""Lists over HTTP with filters, pages and totals, on a chain loaded by the real ingest: lines
granted and applications submitted through the API, a lender's book from the ingest folder,
alerts from the sensors' graph writer. The service account sees only what it originated."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver

from api.security import Role
from sensors.model import AlertEvent, AlertKind, Severity
from sensors.sink import GraphSink
from tests.api.conftest import gql
from tests.api.credit_world import as_date, doc_examples, expires, load_world

pytestmark = pytest.mark.neo4j

GRANT = """mutation($input: GrantCreditLineInput!) { grantCreditLine(input: $input) { id } }"""
SUBMIT = """mutation($input: ApplicationInput!) { submitApplication(input: $input) {
  id status financingId } }"""
APPS = """query($status: [String!], $maker: String, $e: ID, $first: Int! = 50, $after: String) {
  applications(status: $status, maker: $maker, enterpriseId: $e, first: $first, after: $after) {
    totalCount pageInfo { endCursor hasNextPage } edges { cursor node { id status maker } } } }"""
QUEUE = """query($first: Int! = 50) { reviewQueue(first: $first) {
  totalCount edges { node { id maker } } } }"""
FINS = """query($status: [String!], $borrower: ID, $lender: String, $product: ID, $kind: String,
  $origin: String, $before: Date, $risk: String, $first: Int! = 50, $after: String) {
  financings(status: $status, borrowerId: $borrower, lender: $lender, productId: $product,
             productKind: $kind, origin: $origin, maturingBefore: $before, riskClass: $risk,
             first: $first, after: $after) {
    totalCount pageInfo { endCursor hasNextPage }
    edges { node { id status origin lender borrowerId maturityOn lineId amount } } } }"""
LINES = """query($core: ID, $e: ID, $kind: String, $status: [String!]) {
  creditLinesList(coreId: $core, enterpriseId: $e, kind: $kind, status: $status) {
    totalCount edges { node { id kind tier parentId enterpriseId status
      limit used held available usage { held } } } } }"""
ALERTS = """query($e: ID, $f: ID, $status: [String!]) {
  alertList(enterpriseId: $e, financingId: $f, status: $status) {
    totalCount edges { node { id status enterpriseIds financingIds } } } }"""
FIRMS = """query($core: Boolean, $region: String, $industry: String, $status: [String!],
  $minF: Float, $maxF: Float, $minD: Float, $maxD: Float, $first: Int! = 50) {
  enterpriseList(isCore: $core, regionCode: $region, industryCode: $industry, status: $status,
    minFraudScore: $minF, maxFraudScore: $maxF, minDefaultScore: $minD,
    maxDefaultScore: $maxD, first: $first) {
    totalCount pageInfo { hasNextPage } edges { node { id isCore fraudScore } } } }"""


def _data(response: httpx.Response, field: str) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"][field]


def _ids(conn: dict[str, Any]) -> list[str]:
    return [e["node"]["id"] for e in conn["edges"]]


def _error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body.get("errors"), body
    return dict(body["errors"][0])


@pytest.fixture
def book(
    db: Driver, database: str, tmp_path: Path, client: httpx.Client,
    login: Callable[..., dict[str, str]],
) -> dict[str, Any]:  # fmt: skip
    """The world, its lines, four applications (two approved, two referred) and two alerts."""
    load_world(db, database, tmp_path / "world")
    admin = login(Role.ADMIN, username="admin1")
    lines = [
        {"id": "L-C", "enterpriseId": "C", "kind": "supply_chain", "limit": 5_000_000_000},
        {"id": "L-C-T1", "enterpriseId": "C", "kind": "tier", "tier": 1, "parentId": "L-C",
         "limit": 3_000_000_000},
        {"id": "L-C-T2", "enterpriseId": "C", "kind": "tier", "tier": 2, "parentId": "L-C",
         "limit": 1_000_000_000},
        {"id": "L-T1", "enterpriseId": "T1", "kind": "enterprise", "limit": 2_000_000_000},
    ]  # fmt: skip
    for line in lines:
        _data(gql(client, admin, GRANT, input={**line, "expiresOn": expires()}),
              "grantCreditLine")  # fmt: skip
    rm = login(Role.RELATIONSHIP_MANAGER, username="rm1")
    svc = login(Role.SERVICE, username="svc1")
    apps = {}
    for app_id, who, invoice, amount in (
        ("A1", rm, "INV-OPEN-1", 50_000_000),
        ("A2", rm, "INV-OPEN-2", 600_000_000),
        ("A3", svc, "INV-OPEN-3", 50_000_000),
        ("A4", admin, "INV-OPEN-4", 600_000_000),
    ):
        apps[app_id] = _data(gql(client, who, SUBMIT, input={
            "id": app_id, "enterpriseId": "T1", "productId": "factoring_recourse",
            "amount": amount, "collateralIds": [invoice]}), "submitApplication")  # fmt: skip
    assert {k: a["status"] for k, a in apps.items()} == {
        "A1": "approved", "A2": "referred", "A3": "approved", "A4": "referred"}  # fmt: skip
    now = datetime.now(UTC)
    GraphSink(db, database).write_alerts([
        AlertEvent(f"AL-{asset}", f"{asset}:stock", AlertKind.STOCK_WITHOUT_RELEASE,
                   Severity.HIGH, asset, None, now, now, f"stock left {asset}", {})
        for asset in ("AS-1", "AS-2")
    ])  # fmt: skip
    return {"admin": admin, "rm": rm, "svc": svc, "apps": apps}


def test_applications_and_the_review_queue(
    book: dict[str, Any], client: httpx.Client, login: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    officer = login(Role.CREDIT_OFFICER, username="officer1")
    every = _data(gql(client, officer, APPS), "applications")
    assert every["totalCount"] == 4 and sorted(_ids(every)) == ["A1", "A2", "A3", "A4"]
    assert _ids(_data(gql(client, officer, APPS, status="referred"), "applications")) in (
        ["A4", "A2"], ["A2", "A4"])  # fmt: skip
    by_rm = _data(gql(client, officer, APPS, maker="rm1"), "applications")
    assert sorted(_ids(by_rm)) == ["A1", "A2"]
    assert _data(gql(client, officer, APPS, e="C"), "applications")["totalCount"] == 0
    # Pages: two and two, the same total on each.
    first = _data(gql(client, officer, APPS, first=2), "applications")
    assert first["totalCount"] == 4 and first["pageInfo"]["hasNextPage"] is True
    rest = _data(gql(client, officer, APPS, first=2, after=first["pageInfo"]["endCursor"]),
                 "applications")  # fmt: skip
    assert rest["totalCount"] == 4 and rest["pageInfo"]["hasNextPage"] is False
    assert sorted(_ids(first) + _ids(rest)) == ["A1", "A2", "A3", "A4"]

    # The service account sees only what it made, and may not ask for another maker's.
    mine = _data(gql(client, book["svc"], APPS), "applications")
    assert (mine["totalCount"], _ids(mine)) == (1, ["A3"])
    denied = _error(gql(client, book["svc"], APPS, maker="rm1"))
    assert denied["extensions"]["code"] == "FORBIDDEN" and "originated" in denied["message"]

    # The checker's queue: referred, not their own, oldest first.
    queue = _data(gql(client, officer, QUEUE), "reviewQueue")
    assert (queue["totalCount"], _ids(queue)) == (2, ["A2", "A4"])
    admin_queue = _data(gql(client, book["admin"], QUEUE), "reviewQueue")
    assert _ids(admin_queue) == ["A2"]  # admin1 made A4
    assert gql(client, book["rm"], QUEUE).status_code == 403


def test_financings_of_both_origins_by_filter(
    book: dict[str, Any], client: httpx.Client, login: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    analyst = login(Role.ANALYST, username="analyst1")

    def ids(**filters: Any) -> list[str]:
        return sorted(_ids(_data(gql(client, analyst, FINS, **filters), "financings")))

    originated = [book["apps"]["A1"]["financingId"], book["apps"]["A3"]["financingId"]]
    every = _data(gql(client, analyst, FINS), "financings")
    assert every["totalCount"] == 5
    assert sorted(_ids(every)) == sorted(["FL-1", "FL-2", "FL-3", *originated])
    assert ids(status=["active", "overdue"]) == ["FL-1", "FL-2"]
    assert ids(status="closed") == ["FL-3"]
    # Maturing within 30 days: outstanding and due by then (FL-2 is already past due).
    assert ids(status=["active", "overdue"], before=as_date(30).isoformat()) == ["FL-1", "FL-2"]
    assert ids(status=["active"], before=as_date(10).isoformat()) == []
    assert ids(borrower="T1") == sorted(["FL-1", *originated])
    assert ids(lender="Bank A") == ["FL-1", "FL-3"]
    assert ids(origin="originated") == sorted(originated)
    assert ids(origin="loaded") == ["FL-1", "FL-2", "FL-3"]
    assert ids(product="factoring_recourse") == sorted(originated)
    assert ids(kind="receivables_pledge") == ["FL-2"]
    assert ids(risk="normal", origin="originated") == sorted(originated)
    # Soonest maturity first, paged.
    page = _data(gql(client, analyst, FINS, first=2), "financings")
    assert page["totalCount"] == 5 and page["pageInfo"]["hasNextPage"]
    assert _ids(page) == ["FL-3", "FL-2"]
    for bad, word in (({"status": "live"}, "status must be one of"),
                      ({"origin": "mine"}, "origin must be one of"),
                      ({"risk": "bad"}, "riskClass must be one of"),
                      ({"first": 0}, "first must be between 1 and 200"),
                      ({"first": 201}, "first must be between 1 and 200"),
                      ({"after": "not-a-cursor"}, "malformed cursor")):  # fmt: skip
        err = _error(gql(client, analyst, FINS, **bad))
        assert err["extensions"]["code"] == "BAD_REQUEST" and word in err["message"], err

    # The service account: only the financing of its own application.
    assert _ids(_data(gql(client, book["svc"], FINS), "financings")) == [originated[1]]


def test_credit_lines_of_a_chain_with_usage(
    book: dict[str, Any], client: httpx.Client, login: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    officer = login(Role.CREDIT_OFFICER, username="officer1")
    chain = _data(gql(client, officer, LINES, core="C"), "creditLinesList")
    assert chain["totalCount"] == 3 and _ids(chain) == ["L-C", "L-C-T1", "L-C-T2"]
    tiers = {e["node"]["id"]: (e["node"]["tier"], e["node"]["parentId"]) for e in chain["edges"]}
    assert tiers == {"L-C": (None, None), "L-C-T1": (1, "L-C"), "L-C-T2": (2, "L-C")}
    own = _data(gql(client, officer, LINES, e="T1"), "creditLinesList")["edges"][0]["node"]
    fins = _data(gql(client, officer, FINS, origin="originated"), "financings")["edges"]
    held = sum(f["node"]["amount"] for f in fins if f["node"]["lineId"] == "L-T1")
    assert held == 100_000_000  # A1 and A3, approved and not drawn
    assert (own["limit"], own["used"], own["held"], own["available"]) == (
        2_000_000_000, 0, held, 2_000_000_000 - held)  # fmt: skip
    assert own["usage"]["held"] == held
    assert _ids(_data(gql(client, officer, LINES, kind="tier"), "creditLinesList")) == [
        "L-C-T1", "L-C-T2"]  # fmt: skip
    freeze = """mutation { freezeCreditLine(id: "L-C-T2", reason: "review") { status } }"""
    _data(gql(client, officer, freeze), "freezeCreditLine")
    frozen = _data(gql(client, officer, LINES, status="frozen"), "creditLinesList")
    assert (frozen["totalCount"], _ids(frozen)) == (1, ["L-C-T2"])
    assert gql(client, book["svc"], LINES, core="C").status_code == 403
    err = _error(gql(client, officer, LINES, kind="mortgage"))
    assert err["extensions"]["code"] == "BAD_REQUEST" and "kind must be one of" in err["message"]


def test_alerts_by_enterprise_financing_and_status(
    book: dict[str, Any], client: httpx.Client, login: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    officer = login(Role.CREDIT_OFFICER, username="officer1")
    every = _data(gql(client, officer, ALERTS), "alertList")
    assert every["totalCount"] == 2
    on_t2 = _data(gql(client, officer, ALERTS, e="T2"), "alertList")
    assert _ids(on_t2) == ["AL-AS-2"]
    assert on_t2["edges"][0]["node"]["financingIds"] == ["FL-2"]
    assert _ids(_data(gql(client, officer, ALERTS, f="FL-2"), "alertList")) == ["AL-AS-2"]
    assert _data(gql(client, officer, ALERTS, f="FL-1"), "alertList")["totalCount"] == 0
    ack = """mutation { acknowledgeAlert(id: "AL-AS-1") { status } }"""
    _data(gql(client, officer, ack), "acknowledgeAlert")
    assert _ids(_data(gql(client, officer, ALERTS, status="open"), "alertList")) == ["AL-AS-2"]
    assert _ids(_data(gql(client, officer, ALERTS, status="acknowledged"), "alertList")) == [
        "AL-AS-1"]  # fmt: skip


def test_enterprises_by_flag_region_industry_status_and_scores(
    book: dict[str, Any], client: httpx.Client, login: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    rm = book["rm"]

    def ids(**filters: Any) -> list[str]:
        return _ids(_data(gql(client, rm, FIRMS, **filters), "enterpriseList"))

    assert ids() == ["C", "T1", "T2", "X"]
    assert ids(core=True) == ["C"]
    assert ids(core=False, region="33") == ["T1"]
    assert ids(region="330200") == ["C", "T1"]
    assert ids(industry="C3") == ["C", "T1", "T2"]
    assert ids(status="liquidating") == ["X"]
    assert ids(minF=0.5) == ["T2", "X"]
    assert ids(minF=0.5, maxF=0.7) == ["T2"]
    assert ids(maxD=0.2) == ["C", "T1"]
    assert ids(minD=0.25, maxD=0.5, status=["active"]) == ["T2"]
    page = _data(gql(client, rm, FIRMS, first=3), "enterpriseList")
    assert page["totalCount"] == 4 and page["pageInfo"]["hasNextPage"] is True
    for bad, word in (({"minF": 1.5}, "between 0 and 1"),
                      ({"minD": 0.6, "maxD": 0.2}, "above maxDefaultScore"),
                      ({"status": "bankrupt"}, "status must be one of")):  # fmt: skip
        err = _error(gql(client, rm, FIRMS, **bad))
        assert err["extensions"]["code"] == "BAD_REQUEST" and word in err["message"], err


def test_the_documented_list_queries_run(
    book: dict[str, Any], client: httpx.Client, login: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    officer = login(Role.CREDIT_OFFICER, username="officer1")
    examples = doc_examples("api.md", "Lists and filters")
    assert len(examples) == 6
    totals = [_data(gql(client, officer, q), _root(q))["totalCount"] for q in examples]
    assert all(t >= 1 for t in totals), totals


def _root(query: str) -> str:
    """The one root field a documented query asks for."""
    return query.split("{", 2)[1].split("(")[0].split()[0]
