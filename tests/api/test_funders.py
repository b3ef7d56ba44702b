"""Several funders on one platform, over HTTP: each funder's users see only their own
applications, financings, credit lines and decisions, by id and in every list; the chain
graph stays visible to both; the default funder's unbound staff keep the loaded book and
never see a new funder's records; an unbound admin sees every funder's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver

from api.security import Role, add_user
from graph.funders import save_funder
from graph.model import FunderKind
from tests.api.conftest import PASSWORD, gql
from tests.api.credit_world import expires, load_world

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
        # What is not split by funder yet is refused to a funder's users.
        r = gql(client, mine["officer"], TRIAL)
        assert r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", r.text


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
