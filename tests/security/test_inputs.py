"""What one request may carry (issue 25, findings 3, 7 and 8): body size, malformed bodies,
string and list arguments, Lucene syntax in search text, huge numbers, strict money,
currencies and datetimes. Each is answered 4xx or a GraphQL error with a code, never a 500 or
an internal error, and nothing reaches Neo4j that it could choke on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from neo4j import Driver

from api.security import Role
from tests.security.conftest import raw_graphql

pytestmark = pytest.mark.neo4j

SEARCH = "query($t: String!) { searchEnterprises(text: $t, first: 5) { edges { node { id } } } }"


@pytest.fixture
def analyst(db: Driver, database: str, login: Callable[..., dict[str, str]]) -> dict[str, str]:
    db.execute_query(
        """CREATE (:Enterprise {id: 'E1', name: 'AND OR NOT 包钢 (集团)',
                   uscc: '91150100MA0N0X1X2A', is_core: true})
           CREATE (:Enterprise {id: 'E2', name: 'Baotou Steel AND Iron'})""",
        database_=database,
    )
    db.execute_query("CALL db.awaitIndexes(60)", database_=database)
    return login(Role.ANALYST, username="inputs-analyst")


def codes(body: dict[str, Any]) -> list[str]:
    return [(e.get("extensions") or {}).get("code", "") for e in body.get("errors") or []]


def post(client: httpx.Client, headers: dict[str, str], query: str, **variables: Any) -> Any:
    response = client.post("/graphql", json={"query": query, "variables": variables},
                           headers=headers)  # fmt: skip
    assert response.status_code < 500, response.text
    return response.json()


def test_bodies_over_the_limit_are_413_before_anything_runs(
    client: httpx.Client, analyst: dict[str, str]
) -> None:
    ten_million = "x" * 10_000_000
    response = client.post(
        "/graphql", json={"query": SEARCH, "variables": {"t": ten_million}}, headers=analyst
    )
    assert response.status_code == 413 and "at most" in response.json()["detail"]

    # Streamed without a length, refused as soon as it passes the limit.
    def chunks() -> Any:
        yield b'{"query": "{ __typename }", "pad": "'
        for _ in range(40):
            yield b"y" * 65_536
        yield b'"}'

    streamed = client.post(
        "/graphql", content=chunks(), headers={**analyst, "content-type": "application/json"}
    )
    assert streamed.status_code == 413
    login = client.post("/auth/token", json={"username": "a", "password": "p" * 2_000_000})
    assert login.status_code == 413
    # The app still answers.
    assert post(client, analyst, SEARCH, t="包钢")["data"]["searchEnterprises"]["edges"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ __typename }"\xff\xfe}',  # invalid UTF-8
        b'{"query": "\xc3\x28"}',  # an invalid two-byte sequence
        b'{"query": "{ __typename }", "variables": ' + b'{"a": ' * 200 + b"1" + b"}" * 201,
        b"[" * 100_000 + b"]" * 100_000,
        b'{"query": ',  # truncated
    ],
)
def test_malformed_json_bodies_are_400(
    client: httpx.Client, analyst: dict[str, str], body: bytes
) -> None:
    for path, headers in (("/graphql", analyst), ("/auth/token", {})):
        response = client.post(
            path, content=body, headers={**headers, "content-type": "application/json"}
        )
        assert response.status_code == 400, (path, response.text)
        assert response.json()["detail"]


def test_string_and_list_arguments_are_bounded(
    client: httpx.Client, analyst: dict[str, str]
) -> None:
    long_variable = post(client, analyst, SEARCH, t="包" * 2_001)
    assert long_variable.get("data") is None and codes(long_variable) == ["BAD_REQUEST"]
    literal = '{ searchEnterprises(text: "' + "y" * 2_001 + '") { edges { cursor } } }'
    long_literal = post(client, analyst, literal)
    assert long_literal.get("data") is None and codes(long_literal) == ["BAD_REQUEST"]
    # Within the argument limit but above what a search needs: the field says so.
    search = post(client, analyst, SEARCH, t="z" * 300)
    assert codes(search) == ["BAD_REQUEST"] and "200" in search["errors"][0]["message"]
    many = post(
        client, analyst, "query($ids: [ID!]!) { explore(ids: $ids) { nodes { id } } }",
        ids=["E1"] * 1_001,
    )  # fmt: skip
    assert many.get("data") is None and codes(many) == ["BAD_REQUEST"]
    over_long_id = post(client, analyst, "query($id: ID!) { enterprise(id: $id) { id } }",
                        id="E" * 2_001)  # fmt: skip
    assert codes(over_long_id) == ["BAD_REQUEST"]
    long_id = post(client, analyst, "query($id: ID!) { enterprise(id: $id) { id } }",
                   id="E" * 1_999)  # fmt: skip
    assert codes(long_id) == ["NOT_FOUND"]


@pytest.mark.parametrize(
    "text",
    ["AND", "OR", "NOT", "AND AND", "a OR b", "NOT 包钢", "包钢 AND", "TO", '"', "(", "a:b",
     "&&", "||", "*", "?", "~", "\\", "/", "[x TO y]", "{", "^", "!", "- +"],
)  # fmt: skip
def test_search_text_is_searched_not_parsed(
    client: httpx.Client, analyst: dict[str, str], text: str
) -> None:
    body = post(client, analyst, SEARCH, t=text)
    assert "errors" not in body, body
    assert isinstance(body["data"]["searchEnterprises"]["edges"], list)


def test_operator_words_in_a_name_find_it(client: httpx.Client, analyst: dict[str, str]) -> None:
    body = post(client, analyst, SEARCH, t="Steel AND Iron")
    assert [e["node"]["id"] for e in body["data"]["searchEnterprises"]["edges"]] == ["E2"]


def test_huge_numbers_are_refused_not_raised(client: httpx.Client, analyst: dict[str, str]) -> None:
    query = 'query($n: Int!) { searchEnterprises(text: "包钢", first: $n) { edges { cursor } } }'
    for n in (2**31, 2**63, 2**64, 10**30):
        body = post(client, analyst, query, n=n)
        assert body.get("data") is None and "INTERNAL" not in codes(body), body
    literal = post(client, analyst, "{ searchEnterprises(text: \"x\", first: 99999999999999999999)"
                   " { edges { cursor } } }")  # fmt: skip
    assert literal.get("data") is None and "INTERNAL" not in codes(literal)
    first_n = 'query($n: Int!) { searchEnterprises(text: "x", first: $n) { edges { cursor } } }'
    raw = client.post(
        "/graphql",
        content=raw_graphql(first_n, '{"n": 1e400}'),
        headers={**analyst, "content-type": "application/json"},
    )
    assert raw.status_code < 500


DRAW = """mutation($line: ID!, $amount: BigInt!, $req: ID!) {
  drawdown(lineId: $line, amount: $amount, requestId: $req) { transferId } }"""


@pytest.mark.parametrize(
    "amount", [1.9, 2.0, "1_000", "1e3", " 12", True, False, "", 2**63, -(2**63) - 1, "0x10"]
)
def test_money_is_never_coerced(
    client: httpx.Client, login: Callable[..., dict[str, str]], amount: Any
) -> None:
    officer = login(Role.CREDIT_OFFICER, username="money-officer")
    body = post(client, officer, DRAW, line="NO-LINE", amount=amount, req="r-1")
    assert body.get("data") is None, body
    message = body["errors"][0]["message"]
    assert "BigInt" in message or "64-bit" in message, message
    # A whole number passes the scalar and reaches the domain (which knows no such line).
    whole = post(client, officer, DRAW, line="NO-LINE", amount=1_000, req="r-2")
    assert "BigInt" not in str(whole.get("errors")) and "INTERNAL" not in codes(whole)


@pytest.mark.parametrize("currency", ["", "cny", "XXX", "CN", "CNYY", "<b>CNY</b>", "ABC"])
def test_currencies_must_be_iso_4217(
    client: httpx.Client, login: Callable[..., dict[str, str]], currency: str
) -> None:
    officer = login(Role.CREDIT_OFFICER, username="currency-officer")
    query = "query($c: String) { trialBalance(currency: $c) { balanced } }"
    body = post(client, officer, query, c=currency)
    assert body.get("data") is None and codes(body) == ["BAD_REQUEST"], body
    assert "ISO 4217" in body["errors"][0]["message"]
    bare = currency.replace('"', "")
    literal = post(client, officer, f'{{ trialBalance(currency: "{bare}") {{ balanced }} }}')
    assert literal.get("data") is None and codes(literal) == ["BAD_REQUEST"]
    good = post(client, officer, query, c="CNY")
    assert "BAD_REQUEST" not in codes(good), good


def test_naive_datetimes_are_refused(
    client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    admin = login(Role.ADMIN, username="time-admin")
    query = "query($s: DateTime) { auditEvents(since: $s, first: 1) { edges { cursor } } }"
    naive = post(client, admin, query, s="2026-01-01T00:00:00")
    assert naive.get("data") is None and "offset" in naive["errors"][0]["message"]
    aware = post(client, admin, query, s="2026-01-01T00:00:00+08:00")
    assert "errors" not in aware, aware
