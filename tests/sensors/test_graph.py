"""Sensors against the real Neo4j: the device registry, alerts linked to asset, owner and
financings, derived state and valuations on the asset, acknowledgement, history, and the
end-to-end run (simulator -> MQTT -> intake -> graph) with detection delays reported."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from neo4j import Driver

from sensors.broker import LocalBroker
from sensors.errors import NotFound
from sensors.intake import Intake, IntakeConfig, MqttIntake
from sensors.model import AlertKind
from sensors.registry import load_registry, register_scenario
from sensors.service import (
    acknowledge_alert,
    asset_history,
    asset_state,
    list_alerts,
    watch_alerts,
)
from sensors.simulator import Scenario
from sensors.sink import GraphSink

pytestmark = pytest.mark.neo4j


def wait_for(cond: Callable[[], bool], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_registry_round_trips_through_the_graph(
    db: Driver, database: str, scenario: Scenario
) -> None:
    register_scenario(db, database, scenario)
    register_scenario(db, database, scenario)  # idempotent
    loaded = load_registry(db, database)
    assert loaded.sensors == scenario.registry.sensors
    for asset_id, want in scenario.registry.assets.items():
        got = loaded.assets[asset_id]
        assert (got.kind, got.quantity, got.unit, got.owner_id, got.financing_ids) == (
            want.kind,
            want.quantity,
            want.unit,
            want.owner_id,
            want.financing_ids,
        )
        assert got.geofence == want.geofence
        assert (got.temp_min, got.temp_max) == (want.temp_min, want.temp_max)
    assert loaded.releases == scenario.registry.releases


@pytest.mark.slow
def test_simulated_incidents_reach_the_graph_as_linked_alerts(
    db: Driver, database: str, scenario: Scenario, broker: LocalBroker, tmp_path: Path
) -> None:
    register_scenario(db, database, scenario)
    registry = load_registry(db, database)
    data_dir = tmp_path / "store"
    intake = Intake(registry, IntakeConfig(data_dir), sink=GraphSink(db, database))
    intake.open()
    door = MqttIntake(intake, broker.host, broker.port, client_id="graph-e2e-intake")
    door.start()
    thread = threading.Thread(target=door.run, daemon=True)
    thread.start()
    n = len(scenario.readings)
    try:
        subprocess.run(
            [sys.executable, "-m", "sensors.simulator", "--port", str(broker.port), "--seed", "7"],
            check=True,
            capture_output=True,
            timeout=180,
        )
        wait_for(lambda: intake.totals.accepted == n)
    finally:
        door.stop()
        thread.join(timeout=30)
        door.close()
        intake.close()

    alerts = list_alerts(db, database, limit=1000)
    assert sorted((a.kind, a.asset_id) for a in alerts) == sorted(
        (i.kind.value, i.asset_id) for i in scenario.incidents
    )
    assert all(a.raised_at >= scenario.normal_until() for a in alerts), "alert on a normal day"
    print()
    for incident in scenario.incidents:
        (alert,) = [a for a in alerts if (a.kind, a.asset_id) == (incident.kind, incident.asset_id)]
        delay = alert.raised_at - incident.first_reading_at
        assert timedelta(0) <= delay <= timedelta(hours=2)
        print(f"{incident.kind:<26} {incident.asset_id:<8} {alert.severity:<8} after {delay}")

    # Linked to the owner and the financing the asset secures; sensor-level ones to the sensor.
    herd = list_alerts(db, database, enterprise_id="E-RANCH-1")
    assert [a.kind for a in herd] == [AlertKind.HERD_COUNT_DROP.value]
    assert 35 <= herd[0].evidence["head_count"] < 47 and herd[0].severity == "critical"
    assert [a.kind for a in list_alerts(db, database, financing_id="F-EQUIP-1")] == [
        AlertKind.GEOFENCE_EXIT.value
    ]
    silent = list_alerts(db, database, kind=AlertKind.SENSOR_SILENT.value)
    assert [a.sensor_id for a in silent] == ["HY-2"]

    # Derived state and valuation written to the asset; freshness to the sensors.
    state = asset_state(db, database, "HERD-1")
    assert state.head_count == 35 and state.measured_quantity == 35
    assert state.value_minor == 35 * 1_200_000 and state.currency == "CNY"
    assert all(s.last_seen is not None for s in state.sensors)
    assert asset_state(db, database, "STOCK-2").silent_sensors == ["HY-2"]
    assert asset_state(db, database, "EQUIP-1").inside_geofence is False

    # A restart replays recent readings: the same incidents, not new alerts.
    again = Intake(
        load_registry(db, database), IntakeConfig(data_dir), sink=GraphSink(db, database)
    )
    again.open()
    again.close()
    assert len(list_alerts(db, database, limit=1000)) == len(alerts)

    # Downsampled history of a scale on the incident day: hourly buckets of 12 readings.
    day = scenario.end - timedelta(days=1)
    points = [
        p
        for p in asset_history(
            db, database, data_dir, "STOCK-1", day, scenario.end, timedelta(hours=1)
        )
        if p.sensor_id == "SCL-1-0"
    ]
    assert len(points) == 24 and points[0].bucket_start == day
    assert all(p.count == 12 for p in points)
    night = next(p for p in points if p.bucket_start == day + timedelta(hours=2))
    assert night.max - night.min > 20_000  # 120 t leaving over four scales in that hour


def test_acknowledge_and_watch_alerts(db: Driver, database: str, scenario: Scenario) -> None:
    register_scenario(db, database, scenario)
    sink = GraphSink(db, database)
    from sensors.engine import CollateralEngine
    from sensors.model import Reading, Registry, to_us

    only = Registry(
        sensors={"TH-2": scenario.registry.sensors["TH-2"]},
        assets={"STOCK-2": scenario.registry.assets["STOCK-2"]},
    )
    engine = CollateralEngine(only)
    start = to_us(scenario.start)
    # A thermometer out of range twice in a row: one alert.
    readings = [
        Reading("TH-2", start + i * 600_000_000, "temperature", v, None, "C", i)
        for i, v in enumerate([-18.0, -18.1, -12.0, -11.5, -11.0])
    ]
    since = datetime.now(UTC) - timedelta(seconds=5)
    alerts = engine.apply(readings) + engine.evaluate(start + 3600_000_000)
    assert [a.kind for a in alerts] == [AlertKind.TEMPERATURE_OUT_OF_RANGE]
    sink.write_alerts(alerts)
    sink.write_alerts(alerts)  # idempotent

    async def first() -> str:
        async for alert in watch_alerts(db, database, since=since, poll_s=0.1):
            return alert.id
        raise AssertionError("no alert")

    assert asyncio.run(first()) == alerts[0].key
    (open_alert,) = list_alerts(db, database, status="open")
    taken = acknowledge_alert(db, database, open_alert.id, "ops-1")
    assert taken.status == "acknowledged" and taken.acknowledged_by == "ops-1"
    assert acknowledge_alert(db, database, open_alert.id, "ops-2").acknowledged_by == "ops-1"
    assert list_alerts(db, database, status="open") == []
    with pytest.raises(NotFound):
        acknowledge_alert(db, database, "no-such-alert", "ops-1")


def test_an_alert_whose_transaction_commits_late_is_still_watched(
    db: Driver, database: str
) -> None:
    """An alert's stamp is its transaction's start: one that commits after a later-stamped
    alert was seen must still reach the watcher (the inbox lost such alerts in a burst)."""
    from graph.queries import sensors as gq

    now = datetime.now(UTC)

    def row(key: str) -> dict[str, object]:
        return {"id": key, "scope": key, "kind": AlertKind.TEMPERATURE_OUT_OF_RANGE.value,
                "severity": "high", "message": key, "evidence": "{}",
                "first_evidence_at": now, "raised_at": now, "asset_id": f"NO-ASSET-{key}",
                "sensor_id": None}  # fmt: skip

    got: list[str] = []

    async def run() -> None:
        async def watch() -> None:
            async for alert in watch_alerts(db, database, since=now - timedelta(seconds=1),
                                            poll_s=0.05):  # fmt: skip
                got.append(alert.id)
                if len(got) == 2:
                    return

        with db.session(database=database) as session:
            late = session.begin_transaction()
            late.run(gq.UPSERT_ALERTS, rows=[row("WATCH-LATE")],
                     live=gq._LIVE).consume()  # stamped first, not committed yet
            await asyncio.sleep(0.05)
            gq.upsert_alerts(db, database, [row("WATCH-EARLY")])  # stamped later, committed
            task = asyncio.create_task(watch())
            for _ in range(100):
                if got:
                    break
                await asyncio.sleep(0.05)
            assert got == ["WATCH-EARLY"]
            await asyncio.sleep(0.2)  # a few polls with the cursor past the late one's stamp
            late.commit()
            await asyncio.wait_for(task, 10)

    asyncio.run(run())
    assert got == ["WATCH-EARLY", "WATCH-LATE"]
    # Stamped in that order: a cursor on the stamps alone passes the late one over.
    ordered = gq.alerts_created_since(db, database, now - timedelta(seconds=1))
    assert [r["alert"]["id"] for r in ordered] == ["WATCH-LATE", "WATCH-EARLY"]
