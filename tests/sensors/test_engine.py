"""Derived state, rules and valuation on simulated telemetry (no broker, no graph)."""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta
from decimal import Decimal

from sensors.engine import CollateralEngine, RuleConfig
from sensors.model import (
    AlertEvent,
    AlertKind,
    AssetInfo,
    Reading,
    Registry,
    ReleaseOrder,
    SensorInfo,
    SensorKind,
    to_us,
)
from sensors.simulator import CST, Scenario, build_scenario
from sensors.validation import validate
from sensors.valuation import Price, PriceTable


def run(scenario: Scenario, engine: CollateralEngine, batch: int = 1000) -> list[AlertEvent]:
    now = time.time_ns() // 1000
    readings = []
    for sensor_id, payload in scenario.readings:
        r = validate(sensor_id, payload, scenario.registry.sensors, now, 300_000_000)
        assert isinstance(r, Reading), r
        readings.append(r)
    alerts: list[AlertEvent] = []
    for i in range(0, len(readings), batch):
        alerts += engine.apply(readings[i : i + batch])
    return alerts


def test_every_planted_incident_raises_its_alert_once_and_normal_days_raise_none(
    scenario: Scenario,
) -> None:
    alerts = run(scenario, CollateralEngine(scenario.registry))
    assert sorted((a.kind, a.asset_id) for a in alerts) == sorted(
        (i.kind, i.asset_id) for i in scenario.incidents
    )
    assert all(a.raised_at >= scenario.normal_until() for a in alerts)
    for incident in scenario.incidents:
        (alert,) = [a for a in alerts if (a.kind, a.asset_id) == (incident.kind, incident.asset_id)]
        delay = alert.raised_at - incident.first_reading_at
        assert timedelta(0) <= delay <= timedelta(hours=2), (incident, delay)
        print(f"{incident.kind:<26} {incident.asset_id:<8} detected after {delay}")


def test_without_incidents_three_days_raise_nothing() -> None:
    quiet = build_scenario(seed=11, days=3, incidents=False)
    assert run(quiet, CollateralEngine(quiet.registry)) == []


def test_alert_keys_are_the_same_whatever_the_batching(scenario: Scenario) -> None:
    a = run(scenario, CollateralEngine(scenario.registry), batch=97)
    b = run(scenario, CollateralEngine(scenario.registry), batch=5000)
    assert [x.key for x in a] == [x.key for x in b]


def test_state_reports_head_count_stock_position_and_silence(scenario: Scenario) -> None:
    engine = CollateralEngine(scenario.registry)
    run(scenario, engine)
    end = to_us(scenario.end)
    herd = engine.state("HERD-1", end)
    assert herd.head_count == 35 and herd.camera_count == 35  # 15 of 50 sold
    stock = engine.state("STOCK-1", end)
    assert stock.measured_quantity is not None
    assert abs(stock.measured_quantity - Decimal(280)) < 2  # 500 - 100 released - 120 taken
    equip = engine.state("EQUIP-1", end)
    assert equip.inside_geofence is False and equip.distance_m is not None
    assert engine.state("EQUIP-2", end).inside_geofence is True
    assert engine.state("STOCK-2", end).silent_sensors == ["HY-2"]


def _stock_registry(order: bool) -> Registry:
    start = datetime(2026, 10, 1, tzinfo=CST)
    asset = AssetInfo("A", "inventory", Decimal(100), "t", unit_value=1_000_000)
    sensors = {"S": SensorInfo("S", SensorKind.SCALE, "A", None, 300)}
    releases = (
        [ReleaseOrder("RO", "A", Decimal(30), start, start + timedelta(hours=6))] if order else []
    )
    return Registry(sensors=sensors, assets={"A": asset}, releases=releases)


def _weights(tonnes: list[float]) -> list[Reading]:
    start = to_us(datetime(2026, 10, 1, 1, tzinfo=CST))
    return [
        Reading("S", start + i * 300_000_000, "weight", t * 1000, None, "kg", i)
        for i, t in enumerate(tonnes)
    ]


def test_stock_leaving_under_a_release_order_is_not_an_incident() -> None:
    levels = [100.0] * 3 + [90.0, 80.0, 70.0] + [70.0] * 6
    engine = CollateralEngine(_stock_registry(order=True))
    assert engine.apply(_weights(levels)) == []
    engine = CollateralEngine(_stock_registry(order=False))
    (alert,) = engine.apply(_weights(levels))
    assert alert.kind is AlertKind.STOCK_WITHOUT_RELEASE
    assert alert.evidence["reference_kg"] == 100_000.0
    assert alert.evidence["night"] is True  # 01:00 local


def test_more_than_the_order_allows_is_an_incident() -> None:
    levels = [100.0] * 3 + [85.0, 70.0, 55.0] + [55.0] * 6  # 45 t out, 30 t allowed
    (alert,) = CollateralEngine(_stock_registry(order=True)).apply(_weights(levels))
    assert alert.kind is AlertKind.STOCK_WITHOUT_RELEASE


def test_valuation_hook_gets_quantity_times_price_in_minor_units(scenario: Scenario) -> None:
    calls: list[tuple[str, int, str]] = []
    prices = PriceTable(by_goods={"G-CATTLE": Price(1_500_000, "CNY", "head")})
    engine = CollateralEngine(
        scenario.registry, prices=prices, on_valuation=[lambda *a: calls.append(a)]
    )
    run(scenario, engine)
    herd = [c for c in calls if c[0] == "HERD-1"]
    assert herd[0] == ("HERD-1", 50 * 1_500_000, "CNY")
    assert herd[-1] == ("HERD-1", 35 * 1_500_000, "CNY")
    stock = [c for c in calls if c[0] == "STOCK-1"]  # unit_value fallback: 68,000.00 per t
    assert 279 * 6_800_000 < stock[-1][1] < 281 * 6_800_000
    # Only changes are reported: no two consecutive calls carry the same value.
    assert all(a != b for a, b in itertools.pairwise(herd))


def test_a_single_spike_outside_the_fence_is_not_an_exit() -> None:
    from sensors.model import Geofence

    asset = AssetInfo("E", "equipment", Decimal(1), "pcs", geofence=Geofence(30.0, 114.0, 300))
    reg = Registry(
        sensors={"G": SensorInfo("G", SensorKind.GPS, "E", None, 300)}, assets={"E": asset}
    )
    start = to_us(datetime(2026, 10, 1, tzinfo=CST))
    fixes = [(30.0, 114.0)] * 4 + [(30.01, 114.0)] + [(30.0, 114.0)] * 4
    engine = CollateralEngine(reg, RuleConfig())
    readings = [
        Reading("G", start + i * 300_000_000, "position", lat, lon, "deg", i)
        for i, (lat, lon) in enumerate(fixes)
    ]
    assert engine.apply(readings) == []
