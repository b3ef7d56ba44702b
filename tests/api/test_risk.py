"""Risk scores with explanations over GraphQL: what `chainlens score` wrote, read back."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
from neo4j import Driver

from api.security import Role
from tests.api.conftest import gql

QUERY = """query($id: ID!) { riskScore(id: $id) {
  enterpriseId fraudScore defaultScore modelVersion scoredAt
  explanation { tier paths { ids names weight relation }
    contagion { id name tier exposureOverEquity standalonePd }
    features { task feature push } } } }"""


def test_scores_and_their_explanation(
    client: httpx.Client, db: Driver, database: str, login: Callable[..., dict[str, str]]
) -> None:
    explanation = {
        "tier": 2,
        "neighbours": [{"id": "B", "relation": "trade_out", "tier": 1, "contribution": 0.42}],
        "path": ["A", "B", "C"],
        "contagion": [{"id": "C", "tier": 0, "exposure_over_equity": 1.8, "standalone_pd": 0.03}],
        "features": {
            "fraud": [{"feature": "invoices_without_shipment", "value": 3.0, "push": 0.8}]
        },
    }
    db.execute_query(
        """CREATE (:Enterprise {id: 'A', name: '甲', fraud_score: 0.9, default_score: 0.1,
                  score_model_version: 'm1', scored_at: datetime('2026-11-01T00:00:00Z'),
                  score_explanation: $explanation})
           CREATE (:Enterprise {id: 'B', name: '乙'}), (:Enterprise {id: 'C', name: '丙核心'})""",
        explanation=json.dumps(explanation),
        database_=database,
    )
    headers = login(Role.CREDIT_OFFICER)
    body = gql(client, headers, QUERY, id="A").json()
    assert "errors" not in body, body
    score = body["data"]["riskScore"]
    assert score["fraudScore"] == 0.9 and score["modelVersion"] == "m1"
    assert score["scoredAt"].startswith("2026-11-01")
    paths = score["explanation"]["paths"]
    assert paths[0]["names"] == ["甲", "乙", "丙核心"]  # the riskiest path first
    assert paths[1] == {
        "ids": ["A", "B"],
        "names": ["甲", "乙"],
        "weight": 0.42,
        "relation": "trade_out",
    }
    assert score["explanation"]["contagion"] == [
        {"id": "C", "name": "丙核心", "tier": 0, "exposureOverEquity": 1.8, "standalonePd": 0.03}
    ]
    assert score["explanation"]["features"] == [
        {"task": "fraud", "feature": "invoices_without_shipment", "push": 0.8}
    ]
    unscored = gql(client, headers, QUERY, id="B").json()["data"]["riskScore"]
    assert unscored["fraudScore"] is None and unscored["explanation"] is None
    missing = gql(client, headers, QUERY, id="nope").json()
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_what_if_on_unknown_firms_is_a_bad_request(
    client: httpx.Client, db: Driver, database: str, login: Callable[..., dict[str, str]]
) -> None:
    db.execute_query("CREATE (:Enterprise {id: 'A', name: '甲'})", database_=database)
    headers = login(Role.ANALYST)
    query = "query($ids: [ID!]!) { whatIf(defaultedIds: $ids) { rounds } }"
    body = gql(client, headers, query, ids=["nope"]).json()
    # The contagion package's own error, mapped once in api/errors.py, not an internal error.
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", body
    assert "unknown enterprise ids" in body["errors"][0]["message"]
