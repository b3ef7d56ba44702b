"""The device registry in the graph: registering monitored collateral, sensors and release
orders, and loading the snapshot (`Registry`) the intake validates against."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from neo4j import Driver

from graph.queries import ingest as ingest_q
from graph.queries import sensors as q
from ingest.book import financing_row
from sensors.model import (
    AssetInfo,
    Geofence,
    Registry,
    ReleaseOrder,
    SensorInfo,
    SensorKind,
)

if TYPE_CHECKING:
    from sensors.simulator import Scenario


def register_collateral(
    driver: Driver,
    database: str,
    assets: Sequence[AssetInfo],
    *,
    warehouses: dict[str, tuple[float, float]] | None = None,
) -> None:
    """Write monitored assets with owner, goods, warehouse (and its position), financings and
    the limits the rules use."""
    warehouses = warehouses or {}
    rows = []
    for a in assets:
        w = warehouses.get(a.warehouse_id or "")
        rows.append(
            {
                "id": a.id,
                "kind": a.kind,
                # A number, as ingest writes it: finance values assets by quantity times
                # unit value in Cypher (a string here failed every read of the owner's facts).
                "quantity": float(a.quantity),
                "unit": a.unit,
                "unit_value": a.unit_value,
                "currency": a.currency,
                "status": None,
                "owner_id": a.owner_id,
                "goods_id": a.goods_id,
                "warehouse_id": a.warehouse_id,
                "warehouse_lat": w[0] if w else None,
                "warehouse_lon": w[1] if w else None,
                "financing_ids": list(a.financing_ids),
                "geofence_lat": a.geofence.lat if a.geofence else None,
                "geofence_lon": a.geofence.lon if a.geofence else None,
                "geofence_radius_m": a.geofence.radius_m if a.geofence else None,
                "temp_min": a.temp_min,
                "temp_max": a.temp_max,
                "humidity_max": a.humidity_max,
            }
        )
    q.upsert_collateral(driver, database, rows)


def register_sensors(driver: Driver, database: str, sensors: Sequence[SensorInfo]) -> None:
    """Write sensors with `MONITORS` to their asset and `INSTALLED_AT` their warehouse."""
    q.upsert_sensors(
        driver,
        database,
        [
            {
                "id": s.id,
                "kind": s.kind.value,
                "interval_s": s.interval_s,
                "asset_id": s.asset_id,
                "warehouse_id": s.warehouse_id,
            }
            for s in sensors
        ],
    )


def register_release_orders(driver: Driver, database: str, orders: Sequence[ReleaseOrder]) -> None:
    """Release orders let stock leave a pledged warehouse without an alert."""
    q.upsert_release_orders(
        driver,
        database,
        [
            {
                "id": o.id,
                "asset_id": o.asset_id,
                "quantity": str(o.quantity),
                "valid_from": o.valid_from,
                "valid_to": o.valid_to,
            }
            for o in orders
        ],
    )


def load_registry(driver: Driver, database: str) -> Registry:
    """The registry snapshot: every sensor, every monitored asset, every release order."""
    data = q.registry(driver, database)
    sensors: dict[str, SensorInfo] = {}
    for row in data["sensors"]:
        try:
            kind = SensorKind(row["kind"])
        except ValueError:
            continue  # a device kind this version does not know: its readings are rejected
        sensors[row["id"]] = SensorInfo(
            id=row["id"],
            kind=kind,
            asset_id=row["asset_id"],
            warehouse_id=row["warehouse_id"],
            interval_s=row["interval_s"],
        )
    assets = {row["id"]: _asset(row) for row in data["assets"]}
    releases = [
        ReleaseOrder(
            id=row["id"],
            asset_id=row["asset_id"],
            quantity=Decimal(str(row["quantity"])),
            valid_from=_native(row["valid_from"]),
            valid_to=_native(row["valid_to"]),
        )
        for row in data["releases"]
    ]
    return Registry(sensors=sensors, assets=assets, releases=releases)


def _asset(row: dict[str, Any]) -> AssetInfo:
    fence = None
    if row["geofence_radius_m"] is not None and row["geofence_lat"] is not None:
        fence = Geofence(
            float(row["geofence_lat"]), float(row["geofence_lon"]), float(row["geofence_radius_m"])
        )
    return AssetInfo(
        id=row["id"],
        kind=row["kind"] or "inventory",
        quantity=Decimal(str(row["quantity"] if row["quantity"] is not None else 0)),
        unit=row["unit"] or "",
        owner_id=row["owner_id"],
        goods_id=row["goods_id"],
        warehouse_id=row["warehouse_id"],
        unit_value=row["unit_value"],
        currency=row["currency"] or "CNY",
        geofence=fence,
        temp_min=row["temp_min"],
        temp_max=row["temp_max"],
        humidity_max=row["humidity_max"],
        financing_ids=tuple(row["financing_ids"] or ()),
    )


def _native(value: Any) -> datetime:
    native = value.to_native() if hasattr(value, "to_native") else value
    if not isinstance(native, datetime):
        raise TypeError(f"expected a datetime, got {type(native).__name__}")
    return native


# The simulated lender's book: each simulated asset secures one live loan of this share of
# its value, a year long from the scenario's start.
SIMULATED_LENDER = "simulated lender"
SIMULATED_ADVANCE_PCT = 60


def _simulated_financings(scenario: Scenario) -> list[dict[str, Any]]:
    start = scenario.start.date()
    rows = []
    for a in scenario.registry.assets.values():
        value = int(a.quantity * (a.unit_value or 0)) * SIMULATED_ADVANCE_PCT // 100
        for fid in a.financing_ids:
            rows.append(financing_row({
                "id": fid, "product_kind": "movable_asset_pledge", "borrower_id": a.owner_id,
                "lender": SIMULATED_LENDER, "amount": max(value, 1), "currency": a.currency,
                "start_on": start, "maturity_on": start.replace(year=start.year + 1),
                "status": "live",
            }))  # fmt: skip
    return rows


def register_scenario(driver: Driver, database: str, scenario: Scenario) -> None:
    """Write a simulator scenario's collateral, sensors and release orders to the graph,
    with the simulated lender's loans that the collateral secures (as a loaded book)."""
    registry = scenario.registry
    assets = list(registry.assets.values())
    # Owners first (the collateral writer creates them), then their loans, then the
    # collateral again: it links each asset to its loans now that they exist.
    register_collateral(driver, database, assets, warehouses=scenario.warehouses)
    ingest_q.write_batch(
        driver, database, ingest_q.node_statements("financings", _simulated_financings(scenario)),
        source_file="simulator", loaded_at=scenario.start, mark=None,
    )  # fmt: skip
    register_collateral(driver, database, assets, warehouses=scenario.warehouses)
    register_sensors(driver, database, list(registry.sensors.values()))
    register_release_orders(driver, database, registry.releases)
