"""The MQTT door against a real Mosquitto: store-then-ack, duplicates, rejects, HTTP batches."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from sensors.broker import LocalBroker
from sensors.intake import Intake, IntakeConfig, MqttIntake, accept_batch
from sensors.model import (
    AlertKind,
    AssetInfo,
    Registry,
    RejectReason,
    SensorInfo,
    SensorKind,
    to_us,
)
from sensors.mqtt import FastClient, connect, topic_for
from sensors.simulator import Scenario
from sensors.sink import MemorySink
from sensors.store import load_table


def wait_for(cond: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@contextmanager
def running(intake: Intake, broker: LocalBroker, client_id: str) -> Iterator[MqttIntake]:
    door = MqttIntake(intake, broker.host, broker.port, client_id=client_id)
    door.start()
    thread = threading.Thread(target=door.run, daemon=True)
    thread.start()
    try:
        yield door
    finally:
        door.stop()
        thread.join(timeout=30)
        door.close()


def send(broker: LocalBroker, messages: list[tuple[str, bytes]]) -> None:
    client = FastClient("test-sender")
    connect(client, broker.host, broker.port)
    for topic, payload in messages:
        client.publish(topic, payload, qos=1)
    while client._out_messages:
        client.loop(0.01)
    client.disconnect()


def test_scenario_over_mqtt_is_stored_once_then_duplicates_and_rejects_are_told_apart(
    broker: LocalBroker, scenario: Scenario, data_dir: Path
) -> None:
    intake = Intake(scenario.registry, IntakeConfig(data_dir))
    intake.open()
    n = len(scenario.readings)
    with running(intake, broker, "test-intake-1") as door:
        # The simulator publishes from its own process, as a fleet of devices would.
        out = subprocess.run(
            [sys.executable, "-m", "sensors.simulator", "--port", str(broker.port), "--seed", "7"],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        assert f"published {n} readings" in out
        wait_for(lambda: intake.totals.accepted == n)
        # The latest readings again (a gateway retrying): all duplicates, none stored twice.
        replay = list(scenario.payloads())[-500:]
        send(broker, [(topic_for(s), p) for s, p in replay])
        bad = {"ts": "2026-10-01T00:00:00+08:00", "kind": "weight", "value": 1, "unit": "lb"}
        send(
            broker,
            [
                (topic_for("SCL-1-0"), json.dumps(bad).encode()),
                (topic_for("NO-SUCH"), json.dumps(bad).encode()),
                (topic_for("SCL-1-0"), b"not json"),
                ("chainlens/v1/telemetry/a/b", b"{}"),  # outside the scheme: not subscribed
            ],
        )
        wait_for(lambda: intake.totals.duplicates == 500 and len(intake.totals.rejected) == 3)
        wait_for(lambda: door.acked == n + 503)
    intake.close()
    reasons = sorted(r.reason for r in intake.totals.rejected)
    assert reasons == sorted(
        [RejectReason.WRONG_UNIT, RejectReason.UNKNOWN_DEVICE, RejectReason.MALFORMED]
    )
    table = load_table(data_dir)
    keys = list(zip(table["sensor_id"].to_pylist(), table["seq"].to_pylist(), strict=True))
    assert len(keys) == n == len(set(keys))
    rejects = (data_dir / "rejects" / "mqtt.jsonl").read_text().splitlines()
    assert len(rejects) == 3 and all(json.loads(line)["detail"] for line in rejects)
    # Derived state came with it: the herd's head count after the sale.
    assert intake.engine.state("HERD-1").head_count == 35


def test_http_batch_reports_each_reading_and_survives_a_restart(
    scenario: Scenario, data_dir: Path
) -> None:
    readings = [dict(p, sensor_id=s) for s, p in scenario.readings[:300]]
    intake = Intake(scenario.registry, IntakeConfig(data_dir, writer="http"))
    intake.open()
    result = accept_batch(intake, [*readings, {"sensor_id": "SCL-1-0", "ts": "now"}, 42])
    assert (result.accepted, result.duplicates) == (300, 0)
    assert [(r.index, r.reason) for r in result.rejected] == [
        (300, RejectReason.MALFORMED),
        (301, RejectReason.MALFORMED),
    ]
    intake.close()
    # A client retrying after a lost response: the restarted intake knows every reading.
    again = Intake(scenario.registry, IntakeConfig(data_dir, writer="http"))
    again.open()
    retry = accept_batch(again, readings)
    assert (retry.accepted, retry.duplicates) == (0, 300)
    again.close()
    assert load_table(data_dir).num_rows == 300


def test_on_the_wall_clock_a_fleet_that_stops_talking_is_noticed(data_dir: Path) -> None:
    registry = Registry(
        sensors={"TH": SensorInfo("TH", SensorKind.THERMOMETER, "A", None, 60)},
        assets={"A": AssetInfo("A", "inventory", Decimal(1), "t")},
    )
    sink = MemorySink()
    intake = Intake(registry, IntakeConfig(data_dir, writer="http"), sink=sink)
    intake.open()
    now = datetime.now(UTC)
    reading = {"ts": now.isoformat(), "kind": "temperature", "value": 5, "unit": "C", "seq": 1}
    assert accept_batch(intake, [dict(reading, sensor_id="TH")]).accepted == 1
    intake.advance_clock(to_us(now + timedelta(minutes=20)))  # no new readings at all
    intake.flush_state(force=True)
    assert sink.alerts == {}
    intake.advance_clock(to_us(now + timedelta(minutes=40)))
    intake.close()
    assert [a.kind for a in sink.alerts.values()] == [AlertKind.SENSOR_SILENT]


@pytest.mark.slow
@pytest.mark.parametrize("persistence", [True, False], ids=["kept-session", "lost-session"])
def test_the_intake_rides_out_a_broker_restart(
    scenario: Scenario, tmp_path: Path, persistence: bool
) -> None:
    broker = LocalBroker(tmp_path / "broker", persistence=persistence).start()
    intake = Intake(scenario.registry, IntakeConfig(tmp_path / "store"))
    intake.open()
    messages = [(topic_for(s), p) for s, p in list(scenario.payloads())[-3000:]]
    try:
        with running(intake, broker, "restart-test-intake") as door:
            send(broker, messages[:1500])
            wait_for(lambda: intake.totals.accepted == 1500)
            broker.stop()
            broker.start()  # same port; the intake reconnects on its own
            wait_for(lambda: door.reconnects == 1)
            time.sleep(0.5)  # a lost session: let the new SUBSCRIBE land before publishing
            send(broker, messages[1500:])
            wait_for(lambda: intake.totals.accepted == 3000)
    finally:
        broker.stop()
    intake.close()
    table = load_table(tmp_path / "store")
    keys = set(zip(table["sensor_id"].to_pylist(), table["seq"].to_pylist(), strict=True))
    assert table.num_rows == len(keys) == 3000


def test_a_sensor_registered_while_the_intake_runs_counts_without_a_restart(
    broker: LocalBroker, data_dir: Path
) -> None:
    # The graph gains a sensor (an operator's `registerSensor`) after the intake started.
    graph = {"registry": Registry()}
    intake = Intake(graph["registry"], IntakeConfig(data_dir))
    intake.open()
    door = MqttIntake(intake, broker.host, broker.port, client_id="reload-test",
                      reload=lambda: graph["registry"], reload_s=3600)  # fmt: skip
    graph["registry"] = Registry(
        sensors={"TH-NEW": SensorInfo("TH-NEW", SensorKind.THERMOMETER, "A")},
        assets={"A": AssetInfo("A", "inventory", Decimal(1), "t")},
    )
    door.start()
    thread = threading.Thread(target=door.run, daemon=True)
    thread.start()
    try:
        time.sleep(1.1)  # an unknown sensor reloads the registry at most once a second
        now = datetime.now(UTC).isoformat()
        payload = {"ts": now, "kind": "temperature", "value": 4.5, "unit": "C", "seq": 1}
        send(broker, [(topic_for("TH-NEW"), json.dumps(payload).encode())])
        wait_for(lambda: door.acked == 1)
    finally:
        door.stop()
        thread.join(timeout=30)
        door.close()
    intake.close()
    assert "TH-NEW" in intake.registry.sensors
    assert load_table(data_dir).num_rows == 1  # stored, not rejected as unknown_device
