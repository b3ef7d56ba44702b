"""Collateral operations for people (`sensors.operations`), against the real Neo4j: every
reference and every input is checked before anything is written, registrations repeat
without effect, and a release order waits for the financing the asset backs to be closed.
The same operations over HTTP, on a generated world: tests/journeys/test_collateral_journey.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from neo4j import Driver

from sensors import operations as ops
from sensors.errors import InvalidArgument, NotFound
from sensors.model import Geofence, SensorKind
from sensors.registry import load_registry

pytestmark = pytest.mark.neo4j

WORLD = """
CREATE (:Enterprise {id: 'E1', name: 'Owner One', status: 'active'})
CREATE (:Enterprise {id: 'E2', name: 'Owner Two', status: 'active'})
CREATE (:Warehouse {id: 'W1', name: 'Cold store', geo: point({latitude: 40.8, longitude: 111.9})})
CREATE (:Warehouse {id: 'W2', name: 'Dry store'})
CREATE (:Goods {id: 'G1', name: 'Feed', unit: 't'})
"""
NOW = datetime.now(UTC)


def run(driver: Driver, database: str, cypher: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(cypher, params, database_=database)
    return [r.data() for r in records]


@pytest.fixture
def world(db: Driver, database: str) -> Driver:
    run(db, database, WORLD)
    return db


def asset(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "WR-1", "owner_id": "E1", "kind": "warehouse_receipt", "quantity": Decimal(100),
        "unit": "t", "unit_value": 400_000, "currency": "CNY", "goods_id": "G1",
        "warehouse_id": "W1", **overrides,
    }  # fmt: skip


def counts(driver: Driver, database: str) -> dict[str, int]:
    rows = run(driver, database, "MATCH (n) RETURN labels(n)[0] AS label, count(*) AS n")
    return {r["label"]: r["n"] for r in rows}


@pytest.mark.parametrize(
    ("overrides", "error", "text"),
    [
        ({"owner_id": "E9"}, NotFound, "enterprise E9 does not exist"),
        ({"warehouse_id": "W9"}, NotFound, "warehouse W9 does not exist"),
        ({"goods_id": "G9", "warehouse_id": "W9"}, NotFound,
         "warehouse W9 and goods G9 do not exist"),
        ({"quantity": Decimal(0)}, InvalidArgument, "quantity must be positive"),
        ({"quantity": Decimal(-3)}, InvalidArgument, "quantity must be positive"),
        ({"quantity": Decimal("NaN")}, InvalidArgument, "quantity must be positive"),
        ({"kind": "receipt"}, InvalidArgument, "kind must be one of livestock, inventory"),
        ({"unit": ""}, InvalidArgument, "unit is 1 to 16 letters"),
        ({"unit_value": 0}, InvalidArgument, "unitValue must be positive"),
        ({"unit_value": 10**16}, InvalidArgument, "unitValue is at most"),
        ({"currency": "cny"}, InvalidArgument, "is not an ISO 4217 code"),
        ({"id": "WR 1"}, InvalidArgument, "an asset id is 1 to 64"),
    ],
)  # fmt: skip
def test_a_refused_registration_writes_nothing(
    world: Driver, database: str, overrides: dict[str, Any], error: type[Exception], text: str
) -> None:
    before = counts(world, database)
    with pytest.raises(error, match=text):
        ops.register_asset(world, database, **asset(**overrides))
    assert counts(world, database) == before  # no asset, and no stub owner, warehouse or goods


def test_registering_twice_is_once_and_keeps_the_limits(world: Driver, database: str) -> None:
    first = ops.register_asset(world, database, **asset())
    assert (first.info.owner_id, first.info.goods_id, first.info.warehouse_id) == ("E1", "G1", "W1")
    assert (first.status, first.info.quantity, first.sensor_ids) == ("active", Decimal(100), ())
    fence = Geofence(40.8, 111.9, 300.0)
    ops.set_limits(world, database, "WR-1", geofence=fence, temp_min=-5, temp_max=30)
    again = ops.register_asset(world, database, **asset(quantity=Decimal(120)))
    assert again.info.quantity == 120 and again.info.geofence == fence
    assert (again.info.temp_min, again.info.temp_max) == (-5, 30)
    assert counts(world, database)["Asset"] == 1
    links = run(world, database, "MATCH (a:Asset {id: 'WR-1'})-[r]-() RETURN count(r) AS n")
    assert links == [{"n": 3}]  # OWNS, OF, STORED_AT: nothing doubled
    # Stored as a number, as ingest stores it: finance values it at quantity x price.
    kind = run(world, database, "MATCH (a:Asset {id: 'WR-1'}) RETURN valueType(a.quantity) AS t")
    assert kind[0]["t"].startswith("FLOAT")
    for other, text in (({"owner_id": "E2"}, "owned by E1, not E2"),
                        ({"warehouse_id": "W2"}, "stored at W1, not W2"),
                        ({"kind": "inventory"}, "registered as warehouse_receipt")):  # fmt: skip
        with pytest.raises(ops.CollateralConflict, match=text):
            ops.register_asset(world, database, **asset(**other))


def test_a_sensor_monitors_one_asset_at_its_warehouse(world: Driver, database: str) -> None:
    ops.register_asset(world, database, **asset())
    scale = ops.register_sensor(world, database, id="SC-1", kind="scale", asset_id="WR-1")
    assert (scale.kind, scale.warehouse_id, scale.interval_s) == (SensorKind.SCALE, "W1", None)
    assert ops.register_sensor(world, database, id="SC-1", kind="scale", asset_id="WR-1") == scale
    with pytest.raises(NotFound, match="asset WR-9 does not exist"):
        ops.register_sensor(world, database, id="SC-2", kind="scale", asset_id="WR-9")
    with pytest.raises(NotFound, match="warehouse W9 does not exist"):
        ops.register_sensor(world, database, id="SC-2", kind="scale", asset_id="WR-1",
                            warehouse_id="W9")  # fmt: skip
    with pytest.raises(InvalidArgument, match="kind must be one of rfid_tag"):
        ops.register_sensor(world, database, id="SC-2", kind="weighbridge", asset_id="WR-1")
    with pytest.raises(InvalidArgument, match="intervalS is 1 to"):
        ops.register_sensor(world, database, id="SC-2", kind="scale", asset_id="WR-1",
                            interval_s=0)  # fmt: skip
    ops.register_asset(world, database, **asset(id="WR-2"))
    with pytest.raises(ops.CollateralConflict, match="sensor SC-1 monitors WR-1, not WR-2"):
        ops.register_sensor(world, database, id="SC-1", kind="scale", asset_id="WR-2")
    with pytest.raises(ops.CollateralConflict, match="sensor SC-1 is a scale"):
        ops.register_sensor(world, database, id="SC-1", kind="gps", asset_id="WR-1")
    assert counts(world, database)["Sensor"] == 1
    # The intake's registry sees the asset (now monitored) and its sensor.
    registry = load_registry(world, database)
    assert set(registry.sensors) == {"SC-1"} and set(registry.assets) == {"WR-1"}
    assert registry.assets["WR-1"].quantity == 100 and registry.assets["WR-1"].unit_value == 400_000


@pytest.mark.parametrize(
    ("limits", "text"),
    [
        ({"temp_min": 30.0, "temp_max": 5.0}, "tempMin 30 must be below tempMax 5"),
        ({"temp_min": -90.0}, "tempMin must be within -80 to 100"),
        ({"temp_max": float("nan")}, "tempMax must be within"),
        ({"humidity_max": 101.0}, "humidityMax must be within 0 to 100"),
        ({"geofence": Geofence(91.0, 0.0, 10.0)}, "geofence lat must be within"),
        ({"geofence": Geofence(0.0, 181.0, 10.0)}, "geofence lon must be within"),
        ({"geofence": Geofence(0.0, 0.0, 0.0)}, "geofence radiusM must be positive"),
    ],
)
def test_bad_limits_are_refused(
    world: Driver, database: str, limits: dict[str, Any], text: str
) -> None:
    ops.register_asset(world, database, **asset())
    with pytest.raises(InvalidArgument, match=text):
        ops.set_limits(world, database, "WR-1", **limits)


def test_limits_are_replaced_as_a_whole(world: Driver, database: str) -> None:
    ops.register_asset(world, database, **asset())
    got = ops.set_limits(world, database, "WR-1", geofence=Geofence(40.8, 111.9, 250.0),
                         humidity_max=85.0)  # fmt: skip
    assert got.info.geofence == Geofence(40.8, 111.9, 250.0) and got.info.humidity_max == 85.0
    got = ops.set_limits(world, database, "WR-1", temp_min=-20.0, temp_max=-15.0)
    assert (got.info.geofence, got.info.humidity_max) == (None, None)
    assert (got.info.temp_min, got.info.temp_max) == (-20.0, -15.0)
    with pytest.raises(NotFound, match="asset WR-9 does not exist"):
        ops.set_limits(world, database, "WR-9", temp_max=5.0)


def order(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "RO-1", "asset_id": "WR-1", "quantity": Decimal(100),
        "valid_from": NOW - timedelta(hours=1), "valid_to": NOW + timedelta(days=1), **overrides,
    }  # fmt: skip


def test_goods_are_released_after_repayment_only(world: Driver, database: str) -> None:
    ops.register_asset(world, database, **asset())
    # A loaded lender's live loan holds the receipt.
    run(
        world,
        database,
        """MATCH (a:Asset {id: 'WR-1'}) CREATE (a)-[:PLEDGED_TO]->
           (:Financing {id: 'F-BANK', status: 'active', origin: 'loaded'})""",
    )
    with pytest.raises(ops.CollateralConflict, match="WR-1 backs live financing F-BANK: goods"):
        ops.issue_release_order(world, database, **order())
    with pytest.raises(
        ops.CollateralConflict, match="F-BANK: change its price with revalueCollateral"
    ):
        ops.register_asset(world, database, **asset(unit_value=1))
    assert counts(world, database).get("ReleaseOrder") is None
    run(world, database, "MATCH (f:Financing {id: 'F-BANK'}) SET f.status = 'closed'")
    issued = ops.issue_release_order(world, database, **order())
    assert (issued.id, issued.asset_id, issued.quantity) == ("RO-1", "WR-1", Decimal(100))
    assert ops.issue_release_order(world, database, **order()) == issued  # a retry
    with pytest.raises(ops.CollateralConflict, match="release order RO-1 exists with other"):
        ops.issue_release_order(world, database, **order(quantity=Decimal(5)))
    (loaded,) = load_registry(world, database).releases
    assert loaded == issued


@pytest.mark.parametrize(
    ("overrides", "error", "text"),
    [
        ({"valid_from": datetime(2026, 12, 1, 8)}, InvalidArgument, "validFrom needs a UTC"),
        ({"valid_to": NOW - timedelta(hours=2)}, InvalidArgument, "must be after validFrom"),
        ({"valid_from": NOW - timedelta(days=3), "valid_to": NOW - timedelta(days=2)},
         InvalidArgument, "is already past"),
        ({"quantity": Decimal(0)}, InvalidArgument, "quantity must be positive"),
        ({"quantity": Decimal(101)}, InvalidArgument, "more than the asset's 100"),
        ({"asset_id": "WR-9"}, NotFound, "asset WR-9 does not exist"),
    ],
)  # fmt: skip
def test_a_bad_release_order_is_refused(
    world: Driver, database: str, overrides: dict[str, Any], error: type[Exception], text: str
) -> None:
    ops.register_asset(world, database, **asset())
    with pytest.raises(error, match=text):
        ops.issue_release_order(world, database, **order(**overrides))
    assert counts(world, database).get("ReleaseOrder") is None


def test_a_revaluation_prices_what_the_sensors_measured(world: Driver, database: str) -> None:
    ops.register_asset(world, database, **asset())
    done = ops.revalue(world, database, "WR-1", 5)
    assert (done.quantity, done.value_minor, done.currency) == (Decimal(100), 500, "CNY")
    # The intake writes the measured quantity as text; 0.5 t at 5 is 2.5, rounded half to even.
    run(world, database, "MATCH (a:Asset {id: 'WR-1'}) SET a.measured_quantity = '0.5'")
    done = ops.revalue(world, database, "WR-1", 5)
    assert (done.quantity, done.value_minor) == (Decimal("0.5"), 2)
    assert ops.get_asset(world, database, "WR-1").info.unit_value == 5
    with pytest.raises(InvalidArgument, match="unitValue must be positive"):
        ops.revalue(world, database, "WR-1", -1)
    with pytest.raises(NotFound, match="asset WR-9 does not exist"):
        ops.revalue(world, database, "WR-9", 5)
