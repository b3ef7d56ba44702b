"""Sensors over the API, against the real Neo4j: the REST telemetry door, an asset's state
and readings history, alerts (filter, page, acknowledge with role checks), the
`alertRaised` subscription over graphql-transport-ws, and telemetry of a herd sold off
turning into a margin call on the financing it secures.

Each test serves a fresh app (its own HTTP intake, engine and reading store), because an
engine's event clock only moves forward and would carry one test's readings into the next.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from api.security import Role
from chainlens.settings import Settings
from finance import credit_lines as cl
from finance import lifecycle
from finance.credit_lines import LineKind, LineSpec
from finance.lifecycle import ApplicationCreate, AppStatus
from sensors.model import AlertEvent, AlertKind, AssetInfo, SensorInfo, SensorKind, Severity
from sensors.registry import register_collateral, register_sensors
from sensors.sink import GraphSink
from tests.api.conftest import gql
from tests.api.serving import serve, token_headers
from tests.finance.conftest import CHAIN, build

pytestmark = pytest.mark.neo4j

ALERTS = """
query($status: String, $severity: String, $assetId: String, $enterpriseId: String,
      $financingId: String, $first: Int!, $after: String) {
  alerts(status: $status, severity: $severity, assetId: $assetId, enterpriseId: $enterpriseId,
         financingId: $financingId, first: $first, after: $after) {
    edges { cursor node { id kind severity status assetId enterpriseIds financingIds
                          acknowledgedBy acknowledgedNote evidence } }
    pageInfo { endCursor hasNextPage }
  }
}
"""
ACK = """
mutation($id: ID!, $note: String) {
  acknowledgeAlert(id: $id, note: $note) { id status acknowledgedBy acknowledgedNote }
}
"""


class Api:
    """A served app and a client for it."""

    def __init__(self, url: str, client: httpx.Client, driver: Driver, database: str) -> None:
        self.url, self.client, self.driver, self.database = url, client, driver, database

    def headers(self, *roles: Role) -> dict[str, str]:
        name = "s-" + "-".join(r.value for r in roles)
        return token_headers(self.client, self.driver, self.database, name, *roles)

    def gql(self, headers: dict[str, str], query: str, **variables: object) -> dict[str, Any]:
        response = gql(self.client, headers, query, **variables)
        body: dict[str, Any] = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        return body["data"]  # type: ignore[no-any-return]

    def post(self, readings: Any, headers: dict[str, str]) -> httpx.Response:
        return self.client.post("/api/v1/telemetry", json=readings, headers=headers)


@pytest.fixture
def api(db: Driver, database: str, api_settings: Settings, tmp_path: Path) -> Iterator[Api]:
    settings = api_settings.model_copy(
        update={
            "sensors_dir": tmp_path / "sensors",
            "sensors_registry_refresh_s": 0.0,
            "sensors_alert_poll_s": 0.1,
            "sensors_http_max_bytes": 256 * 1024,
        }
    )
    with serve(settings, db) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield Api(url, client, db, database)


def register(
    driver: Driver, database: str, assets: list[AssetInfo], sensors: list[SensorInfo]
) -> None:
    register_collateral(driver, database, assets)
    register_sensors(driver, database, sensors)


def reading(
    sensor_id: str, at: datetime, kind: str, value: Any, unit: str, seq: int
) -> dict[str, Any]:
    return {
        "sensor_id": sensor_id,
        "ts": at.isoformat(),
        "kind": kind,
        "value": value,
        "unit": unit,
        "seq": seq,
    }


def minutes_ago(n: int) -> datetime:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return now - timedelta(minutes=n)


# -- REST telemetry -------------------------------------------------------------------------


def test_telemetry_needs_a_token_and_the_service_role(api: Api) -> None:
    assert api.post([], {}).status_code == 401
    assert api.post([], api.headers(Role.ANALYST)).status_code == 403
    assert api.post([], api.headers(Role.SERVICE)).json() == {
        "accepted": 0,
        "duplicates": 0,
        "rejected": [],
    }
    no_token = gql(api.client, {}, "{ alerts(first: 1) { edges { cursor } } }")
    assert no_token.status_code == 401


def test_telemetry_batch_accepts_good_readings_and_rejects_bad_ones_with_reasons(api: Api) -> None:
    register(
        api.driver,
        api.database,
        [AssetInfo("COLD-A", "inventory", Decimal(10), "t", owner_id="E-A", temp_max=-15.0)],
        [SensorInfo("TH-A", SensorKind.THERMOMETER, "COLD-A")],
    )
    service = api.headers(Role.SERVICE)
    at = minutes_ago(5)
    batch: list[Any] = [
        reading("TH-A", at, "temperature", -18.5, "C", 1),
        reading("TH-A", at, "temperature", 0.4, "F", 2),
        reading("NOPE", at, "temperature", -18.0, "C", 1),
        {**reading("TH-A", at, "temperature", -18.0, "C", 3), "ts": "2026-01-01T00:00:00"},
        reading("TH-A", at + timedelta(days=1), "temperature", -18.0, "C", 4),
        reading("TH-A", at, "temperature", 900.0, "C", 5),
        "not an object",
        {**reading("TH-A", at, "temperature", -18.0, "C", 6), "sensor_id": ["TH-A"]},
    ]
    response = api.post(batch, service)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["duplicates"]) == (1, 0)
    reasons = {r["index"]: r["reason"] for r in body["rejected"]}
    assert reasons == {
        1: "wrong_unit",
        2: "unknown_device",
        3: "naive_timestamp",
        4: "future_timestamp",
        5: "impossible_value",
        6: "malformed",
        7: "malformed",
    }
    assert all(r["detail"] for r in body["rejected"])
    # A retried batch is told apart: the stored reading comes back as a duplicate.
    again = api.post(batch[:1], service).json()
    assert (again["accepted"], again["duplicates"]) == (0, 1)

    assert api.post({"sensor_id": "TH-A"}, service).status_code == 400
    assert (
        api.client.post(
            "/api/v1/telemetry",
            content=b"[{",
            headers={**service, "content-type": "application/json"},
        ).status_code
        == 400
    )
    too_many = api.post([{}] * 10_001, service)
    assert too_many.status_code == 413 and "10000" in too_many.json()["detail"]
    too_big = api.post([reading("TH-A", at, "temperature", -18.0, "C", 9)] * 3000, service)
    assert too_big.status_code == 413


# -- state and history ----------------------------------------------------------------------


def test_asset_state_and_downsampled_readings(api: Api) -> None:
    register(
        api.driver,
        api.database,
        [AssetInfo("COLD-B", "inventory", Decimal(40), "t", owner_id="E-B", temp_max=-15.0)],
        [
            SensorInfo("TH-B", SensorKind.THERMOMETER, "COLD-B"),
            SensorInfo("SC-B", SensorKind.SCALE, "COLD-B"),
        ],
    )
    start = minutes_ago(60)
    start = start.replace(minute=start.minute - start.minute % 30)  # 30-minute buckets
    batch = []
    for i in range(6):  # every 10 minutes for an hour
        at = start + timedelta(minutes=10 * i)
        batch.append(reading("TH-B", at, "temperature", -20.0 + i, "C", i))
        batch.append(reading("SC-B", at, "weight", 40_000.0 - 100 * i, "kg", i))
    assert api.post(batch, api.headers(Role.SERVICE)).json()["accepted"] == 12

    reader = api.headers(Role.RELATIONSHIP_MANAGER)
    state = api.gql(
        reader,
        """query($id: String!) { assetState(assetId: $id) {
             assetId pledgedQuantity unit measuredQuantity weightKg temperature
             sensors { sensorId kind lastSeen } } }""",
        id="COLD-B",
    )["assetState"]
    assert state["temperature"] == -15.0
    assert state["weightKg"] == 39_500.0 and Decimal(state["measuredQuantity"]) == Decimal("39.5")
    assert Decimal(state["pledgedQuantity"]) == 40 and state["unit"] == "t"
    assert [s["sensorId"] for s in state["sensors"]] == ["SC-B", "TH-B"]
    last = start + timedelta(minutes=50)
    assert all(datetime.fromisoformat(s["lastSeen"]) == last for s in state["sensors"])

    history = """query($id: String!, $since: DateTime!, $until: DateTime!, $kind: String) {
        assetReadings(assetId: $id, since: $since, until: $until, bucket: 1800, kind: $kind) {
          sensorId kind bucketStart count mean min max last } }"""
    span = {
        "id": "COLD-B",
        "since": start.isoformat(),
        "until": (start + timedelta(hours=1)).isoformat(),
    }
    points = api.gql(reader, history, **span)["assetReadings"]
    assert [(p["sensorId"], p["count"]) for p in points] == [
        ("SC-B", 3),
        ("SC-B", 3),
        ("TH-B", 3),
        ("TH-B", 3),
    ]
    th = [p for p in points if p["sensorId"] == "TH-B"]
    assert (th[0]["min"], th[0]["max"], th[0]["mean"], th[0]["last"]) == (
        -20.0,
        -18.0,
        -19.0,
        -18.0,
    )
    only_weight = api.gql(reader, history, kind="weight", **span)["assetReadings"]
    assert {p["kind"] for p in only_weight} == {"weight"} and len(only_weight) == 2

    missing = gql(api.client, reader, '{ assetState(assetId: "NO-SUCH") { assetId } }').json()
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"


# -- alerts ---------------------------------------------------------------------------------


def _alert(key: str, asset: str, kind: AlertKind, severity: Severity, at: datetime) -> AlertEvent:
    return AlertEvent(
        key, f"{kind}:{asset}", kind, severity, asset, None, at, at, f"{kind} on {asset}", {"n": 1}
    )


def test_alerts_filter_page_and_acknowledge_with_role_checks(api: Api) -> None:
    # Registering collateral links it to financings that exist; it never invents one.
    build(api.driver, api.database, "CREATE (:Financing {id: 'F-X', status: 'active'})")
    register(
        api.driver,
        api.database,
        [
            AssetInfo(
                "HERD-X", "livestock", Decimal(50), "head", owner_id="E-X", financing_ids=("F-X",)
            ),
            AssetInfo("STOCK-Y", "inventory", Decimal(100), "t", owner_id="E-Y"),
        ],
        [],
    )
    t0 = datetime(2026, 10, 1, 8, tzinfo=UTC)
    GraphSink(api.driver, api.database).write_alerts(
        [
            _alert("a1", "HERD-X", AlertKind.HERD_COUNT_DROP, Severity.CRITICAL, t0),
            _alert(
                "a2",
                "STOCK-Y",
                AlertKind.STOCK_WITHOUT_RELEASE,
                Severity.CRITICAL,
                t0 + timedelta(hours=1),
            ),
            _alert(
                "a3", "HERD-X", AlertKind.SENSOR_SILENT, Severity.MEDIUM, t0 + timedelta(hours=2)
            ),
            _alert("a4", "STOCK-Y", AlertKind.DRIFT, Severity.LOW, t0 + timedelta(hours=2)),
        ]
    )
    reader = api.headers(Role.RELATIONSHIP_MANAGER)

    def ids(**filters: Any) -> list[str]:
        page = api.gql(reader, ALERTS, first=50, **filters)["alerts"]
        return [e["node"]["id"] for e in page["edges"]]

    assert ids() == ["a3", "a4", "a2", "a1"]  # newest first, ties by id
    assert ids(severity="critical") == ["a2", "a1"]
    assert ids(assetId="HERD-X") == ["a3", "a1"]
    assert ids(enterpriseId="E-Y") == ["a4", "a2"]
    assert ids(financingId="F-X") == ["a3", "a1"]

    # Pages of two behind a keyset cursor.
    first = api.gql(reader, ALERTS, first=2)["alerts"]
    assert [e["node"]["id"] for e in first["edges"]] == ["a3", "a4"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = api.gql(reader, ALERTS, first=2, after=first["pageInfo"]["endCursor"])["alerts"]
    assert [e["node"]["id"] for e in rest["edges"]] == ["a2", "a1"]
    assert rest["pageInfo"]["hasNextPage"] is False
    bad = gql(api.client, reader, ALERTS, first=2, after="???").json()
    assert bad["errors"][0]["extensions"]["code"] == "BAD_REQUEST"

    # A relationship manager may read but not acknowledge; an analyst may.
    denied = gql(api.client, reader, ACK, id="a1")
    assert denied.status_code == 403
    assert denied.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    analyst = api.headers(Role.ANALYST)
    taken = api.gql(analyst, ACK, id="a1", note="vet confirms 5 head moved")["acknowledgeAlert"]
    assert taken == {
        "id": "a1",
        "status": "acknowledged",
        "acknowledgedBy": "s-analyst",
        "acknowledgedNote": "vet confirms 5 head moved",
    }
    assert ids(status="open") == ["a3", "a4", "a2"]
    missing = gql(api.client, analyst, ACK, id="no-such").json()
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"


# -- subscription ---------------------------------------------------------------------------


def _ws(url: str) -> Any:
    return connect(
        url.replace("http://", "ws://") + "/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        open_timeout=10,
    )


def _closed_with(ws: Any) -> int | None:
    try:
        ws.recv(timeout=10)
    except ConnectionClosed as e:
        return e.rcvd.code if e.rcvd is not None else None
    raise AssertionError("the server did not close the connection")


def test_alert_raised_subscription_authenticates_and_delivers_new_alerts(api: Api) -> None:
    register(
        api.driver,
        api.database,
        [AssetInfo("STOCK-Z", "inventory", Decimal(100), "t", owner_id="E-Z")],
        [],
    )
    sink = GraphSink(api.driver, api.database)
    sink.write_alerts([_alert("old", "STOCK-Z", AlertKind.DRIFT, Severity.LOW, minutes_ago(30))])

    # Unauthenticated connections are refused at connection_init.
    with _ws(api.url) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert _closed_with(ws) == 4403
    with _ws(api.url) as ws:
        ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"Authorization": "Bearer not-a-token"}}
            )
        )
        assert _closed_with(ws) == 4403
    with _ws(api.url) as ws:  # subscribing without connection_init
        ws.send(
            json.dumps(
                {
                    "type": "subscribe",
                    "id": "1",
                    "payload": {"query": "subscription { alertRaised { id } }"},
                }
            )
        )
        assert _closed_with(ws) == 4401

    token = api.headers(Role.ANALYST)["Authorization"]
    with _ws(api.url) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": token}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        query = (
            "subscription($s: String) { alertRaised(severity: $s) { id kind severity assetId } }"
        )
        ws.send(
            json.dumps(
                {
                    "type": "subscribe",
                    "id": "1",
                    "payload": {"query": query, "variables": {"s": "critical"}},
                }
            )
        )
        time.sleep(1.0)  # the subscription's poller starts from "now"
        sink.write_alerts(
            [
                _alert("low-1", "STOCK-Z", AlertKind.DRIFT, Severity.LOW, minutes_ago(5)),
                _alert(
                    "crit-1",
                    "STOCK-Z",
                    AlertKind.STOCK_WITHOUT_RELEASE,
                    Severity.CRITICAL,
                    minutes_ago(5),
                ),
            ]
        )
        message = json.loads(ws.recv(timeout=15))
        assert message["type"] == "next", message
        assert message["payload"]["data"]["alertRaised"] == {
            "id": "crit-1",
            "kind": "stock_without_release",
            "severity": "critical",
            "assetId": "STOCK-Z",
        }
        ws.send(json.dumps({"type": "complete", "id": "1"}))


# -- telemetry to margin call ---------------------------------------------------------------

HERD = """
MATCH (t2:Enterprise {id: 'T2'})
CREATE (a:Asset {id: 'HERD-M', kind: 'livestock', quantity: 100, unit: 'head',
                 unit_value: 1000000, currency: 'CNY'})
CREATE (t2)-[:OWNS]->(a)
"""


def test_a_herd_sold_off_raises_a_margin_call_on_the_financing_it_secures(api: Api) -> None:
    build(api.driver, api.database, CHAIN)
    build(api.driver, api.database, HERD)  # 100 head at 10,000.00 = 1,000,000.00
    tags = [f"TAG-M-{i:03d}" for i in range(100)]
    register_sensors(
        api.driver, api.database, [SensorInfo(t, SensorKind.RFID_TAG, "HERD-M") for t in tags]
    )
    cl.grant_line(
        api.driver,
        api.database,
        LineSpec("L-T2", "T2", LineKind.ENTERPRISE, 900_000_000, "CNY", date(2030, 1, 1)),
    )
    app = lifecycle.submit_application(
        api.driver,
        api.database,
        ApplicationCreate("M-1", "T2", "movable_asset_pledge", 40_000_000, "CNY", ["HERD-M"], "rm"),
    )
    assert app.status == AppStatus.APPROVED, app.reasons
    financing = app.financing_id
    assert financing is not None

    # An hour of the whole herd sighted every 10 minutes, then 60 of 100 sold off: the rest
    # stay in sight for another 90 minutes. Value 100 -> 40 head: LTV 40 % -> 100 % > 60 %.
    start = minutes_ago(170)
    start = start.replace(minute=start.minute - start.minute % 10)
    batch = [
        reading(tag, start + timedelta(minutes=10 * i), "presence", -60.0, "dBm", i)
        for i in range(16)
        for tag in (tags if i <= 6 else tags[:40])
    ]
    service = api.headers(Role.SERVICE)
    for chunk in range(0, len(batch), 500):
        response = api.post(batch[chunk : chunk + 500], service)
        assert response.status_code == 200 and not response.json()["rejected"], response.text

    reader = api.headers(Role.CREDIT_OFFICER)
    state = api.gql(reader, '{ assetState(assetId: "HERD-M") { headCount valueMinor } }')
    assert state["assetState"] == {"headCount": 40, "valueMinor": 40 * 1_000_000}
    alerts = api.gql(reader, ALERTS, first=10, financingId=financing)["alerts"]["edges"]
    kinds = {e["node"]["kind"]: e["node"] for e in alerts}
    assert set(kinds) == {"margin_call", "herd_count_drop"}, kinds
    call = kinds["margin_call"]
    assert call["status"] == "open" and call["financingIds"] == [financing]
    assert kinds["herd_count_drop"]["enterpriseIds"] == ["T2"]
    assert kinds["herd_count_drop"]["evidence"]["head_count"] == 40
    ltv, _, _ = api.driver.execute_query(
        "MATCH (f:Financing {id: $id}) RETURN f.ltv_bps AS ltv",
        id=financing,
        database_=api.database,
    )
    assert ltv[0]["ltv"] == 10_000


def test_the_lifespan_closes_the_http_intake(
    db: Driver, api_settings: Settings, tmp_path: Path
) -> None:
    """Served and stopped: the intake's segment is sealed and compacted to Parquet."""
    register(
        db,
        api_settings.neo4j_database,
        [AssetInfo("COLD-C", "inventory", Decimal(1), "t")],
        [SensorInfo("TH-C", SensorKind.THERMOMETER, "COLD-C")],
    )
    data = tmp_path / "sensors"
    settings = api_settings.model_copy(update={"sensors_dir": data})
    with serve(settings, db) as url, httpx.Client(base_url=url, timeout=60) as client:
        headers = token_headers(client, db, api_settings.neo4j_database, "svc", Role.SERVICE)
        at = minutes_ago(1)
        response = client.post(
            "/api/v1/telemetry",
            json=[reading("TH-C", at, "temperature", 4.0, "C", 1)],
            headers=headers,
        )
        assert response.json()["accepted"] == 1
        assert list((data / "wal").glob("http-*.log"))
    deadline = time.monotonic() + 10
    while list((data / "wal").glob("http-*.log")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not list((data / "wal").glob("http-*.log"))
    assert list((data / "readings").glob("day=*/http-*.parquet"))
