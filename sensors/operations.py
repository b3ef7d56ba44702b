"""Collateral operations for people (the API): register an asset and its sensors, set its
geofence and storage limits, issue release orders, revalue it.

Unlike the simulator's `sensors.registry.register_*`, which MERGE stub enterprises, warehouses
and goods when they are missing, these check everything first and write nothing when refused:
`InvalidArgument` (400) for bad input, `NotFound` (404) for an unknown enterprise, warehouse,
goods, asset or sensor, `CollateralConflict` (409) for a step the graph's state forbids (a
release order on an asset that backs a live financing, an asset or sensor already registered
with other links, a release order id reused with other terms). Repeating a registration with
the same terms changes nothing.

Sensors never imports finance: `revalue` writes the new unit price and returns the value;
the caller passes it to finance's `on_valuation` hook (margin calls), as the engine does.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from neo4j import Driver, ManagedTransaction

from chainlens.money import currency_problem, money_problem
from graph.queries import sensors as q
from ingest.formats import ASSETS
from sensors.errors import InvalidArgument, NotFound, SensorsError
from sensors.model import READING_SPECS, AssetInfo, Geofence, ReleaseOrder, SensorInfo, SensorKind
from sensors.registry import register_sensors

# The asset kinds of the ingest format (livestock, inventory, warehouse_receipt, equipment).
ASSET_KINDS: tuple[str, ...] = ASSETS.field("kind").choices
# Ids are what the ingest format and device topics accept: no spaces, ':' or '/'.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_UNIT = re.compile(r"[A-Za-z%]{1,16}")
MAX_QUANTITY = Decimal(10**12)
MAX_INTERVAL_S = 7 * 86_400
MAX_RADIUS_M = 1_000_000.0
TEMP_RANGE = (READING_SPECS[SensorKind.THERMOMETER].lo, READING_SPECS[SensorKind.THERMOMETER].hi)


class CollateralConflict(SensorsError):
    """The step contradicts what the graph holds (a live financing, other registered links)."""

    http_status = 409


@dataclass(frozen=True, slots=True)
class CollateralAsset:
    """An asset as registered, with the ids it is linked to."""

    info: AssetInfo
    status: str | None
    sensor_ids: tuple[str, ...]
    value_minor: int | None
    value_currency: str | None


@dataclass(frozen=True, slots=True)
class Revaluation:
    asset_id: str
    unit_value: int
    quantity: Decimal  # measured by the sensors when they can say, else the pledged quantity
    value_minor: int
    currency: str


# -- checks -------------------------------------------------------------------------------------


def checked_id(value: str, what: str) -> str:
    if not _ID.fullmatch(value):
        raise InvalidArgument(
            f"{what} is 1 to 64 letters, digits, '.', '_' or '-' (starting with a letter or "
            f"digit), got {value[:70]!r}"
        )
    return value


def _quantity(value: Decimal | float | int | str, what: str) -> Decimal:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError) as e:
        raise InvalidArgument(f"{what} is not a number: {str(value)[:40]!r}") from e
    if not d.is_finite() or d <= 0:
        raise InvalidArgument(f"{what} must be positive, got {d}")
    if d > MAX_QUANTITY:
        raise InvalidArgument(f"{what} is at most {MAX_QUANTITY}, got {d}")
    return d


def _money(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{what} is a whole number of minor units")
    problem = money_problem(value, what)
    if problem is not None:
        raise InvalidArgument(problem)
    return value


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgument(f"{what} needs a UTC offset, got the naive {value.isoformat()}")
    return value


def _finite(value: float | None, what: str, lo: float, hi: float) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value) or not lo <= value <= hi:
        raise InvalidArgument(f"{what} must be within {lo:g} to {hi:g}, got {value}")
    return float(value)


def _terms(driver: Driver, database: str, asset_id: str) -> dict[str, Any]:
    row = q.collateral_terms(driver, database, asset_id)
    if row is None:
        raise NotFound(f"asset {asset_id} does not exist")
    return row


def _one(ids: list[str]) -> str | None:
    return ids[0] if ids else None


def _asset_of(row: dict[str, Any]) -> CollateralAsset:
    a = row["asset"]
    fence = None
    if a.get("geofence_radius_m") is not None and a.get("geofence_lat") is not None:
        fence = Geofence(a["geofence_lat"], a["geofence_lon"], a["geofence_radius_m"])
    quantity = a.get("quantity")
    info = AssetInfo(
        id=a["id"], kind=a.get("kind") or "inventory",
        quantity=Decimal(str(quantity)) if quantity is not None else Decimal(0),
        unit=a.get("unit") or "", owner_id=_one(row["owner_ids"]),
        goods_id=_one(row["goods_ids"]), warehouse_id=_one(row["warehouse_ids"]),
        unit_value=a.get("unit_value"), currency=a.get("currency") or "CNY", geofence=fence,
        temp_min=a.get("temp_min"), temp_max=a.get("temp_max"),
        humidity_max=a.get("humidity_max"), financing_ids=tuple(row["financing_ids"]),
    )  # fmt: skip
    return CollateralAsset(
        info=info, status=a.get("status"), sensor_ids=tuple(sorted(row["sensor_ids"])),
        value_minor=a.get("value_minor"), value_currency=a.get("value_currency"),
    )  # fmt: skip


def get_asset(driver: Driver, database: str, asset_id: str) -> CollateralAsset:
    return _asset_of(_terms(driver, database, asset_id))


# -- operations ---------------------------------------------------------------------------------


def register_asset(
    driver: Driver, database: str, *, id: str, owner_id: str, kind: str, quantity: Decimal,
    unit: str, unit_value: int, currency: str, goods_id: str | None = None,
    warehouse_id: str | None = None,
) -> CollateralAsset:  # fmt: skip
    """Register (or re-register with new quantity, unit or price) an asset of an existing
    owner, stored at an existing warehouse, of existing goods. Its limits are kept."""
    checked_id(id, "an asset id")
    if kind not in ASSET_KINDS:
        raise InvalidArgument(f"kind must be one of {', '.join(ASSET_KINDS)}, got {kind[:40]!r}")
    qty = _quantity(quantity, "quantity")
    if not _UNIT.fullmatch(unit):
        raise InvalidArgument(f"unit is 1 to 16 letters (t, kg, head, ...), got {unit[:20]!r}")
    _money(unit_value, "unitValue")
    problem = currency_problem(currency)
    if problem is not None:
        raise InvalidArgument(problem)
    found = q.references_exist(driver, database, owner_id, warehouse_id, goods_id)
    missing = [
        f"{what} {ref}"
        for what, ref, key in (
            ("enterprise", owner_id, "owner"),
            ("warehouse", warehouse_id, "warehouse"),
            ("goods", goods_id, "goods"),
        )
        if ref is not None and not found[key]
    ]
    if missing:
        raise NotFound(f"{' and '.join(missing)} {'does' if len(missing) == 1 else 'do'} not exist")
    existing = q.collateral_terms(driver, database, id)
    if existing is not None:
        a = existing["asset"]
        for what, now, asked in (
            ("owned by", existing["owner_ids"], owner_id),
            ("of goods", existing["goods_ids"], goods_id),
            ("stored at", existing["warehouse_ids"], warehouse_id),
        ):
            if asked is not None and now and now != [asked]:
                raise CollateralConflict(f"asset {id} is {what} {', '.join(now)}, not {asked}")
        if a.get("kind") not in (None, kind):
            raise CollateralConflict(f"asset {id} is registered as {a['kind']}, not {kind}")
        live = ", ".join(existing["financing_ids"])
        if live and (Decimal(str(a.get("quantity") or 0)) != qty or a.get("unit") != unit):
            raise CollateralConflict(
                f"asset {id} backs live financing {live}: its pledged quantity cannot change"
            )
        if live and (a.get("unit_value") != unit_value or a.get("currency") != currency):
            raise CollateralConflict(
                f"asset {id} backs live financing {live}: change its price with "
                "revalueCollateral, which recomputes the loan-to-value"
            )
        limits = {k: a.get(k) for k in _LIMITS}
    else:
        limits = dict.fromkeys(_LIMITS)
    q.upsert_collateral(driver, database, [{
        "id": id, "kind": kind,
        # A number, as ingest writes it: finance values unvalued collateral at quantity x price.
        "quantity": float(qty), "unit": unit, "unit_value": unit_value, "currency": currency,
        "status": None, "owner_id": owner_id, "goods_id": goods_id,
        "warehouse_id": warehouse_id, "warehouse_lat": None, "warehouse_lon": None,
        "financing_ids": [], **limits,
    }])  # fmt: skip
    return get_asset(driver, database, id)


_LIMITS = (
    "geofence_lat", "geofence_lon", "geofence_radius_m", "temp_min", "temp_max", "humidity_max",
)  # fmt: skip


def register_sensor(
    driver: Driver, database: str, *, id: str, kind: str, asset_id: str,
    warehouse_id: str | None = None, interval_s: int | None = None,
) -> SensorInfo:  # fmt: skip
    """Register a sensor monitoring an existing asset; installed at `warehouse_id`, else at
    the asset's warehouse. Its readings are taken from the next registry refresh on."""
    checked_id(id, "a sensor id")
    try:
        sensor_kind = SensorKind(kind)
    except ValueError as e:
        kinds = ", ".join(k.value for k in SensorKind)
        raise InvalidArgument(f"kind must be one of {kinds}, got {kind[:40]!r}") from e
    if interval_s is not None and not 1 <= interval_s <= MAX_INTERVAL_S:
        raise InvalidArgument(f"intervalS is 1 to {MAX_INTERVAL_S} seconds, got {interval_s}")
    asset = _terms(driver, database, asset_id)
    if warehouse_id is not None:
        if not q.references_exist(driver, database, "", warehouse_id, None)["warehouse"]:
            raise NotFound(f"warehouse {warehouse_id} does not exist")
    else:
        warehouse_id = _one(asset["warehouse_ids"])
    existing = q.sensor_terms(driver, database, id)
    if existing is not None:
        if existing["asset_ids"] and existing["asset_ids"] != [asset_id]:
            raise CollateralConflict(
                f"sensor {id} monitors {', '.join(existing['asset_ids'])}, not {asset_id}"
            )
        if existing["kind"] not in (None, sensor_kind.value):
            raise CollateralConflict(f"sensor {id} is a {existing['kind']}, not a {kind}")
        if existing["warehouse_ids"] and warehouse_id not in existing["warehouse_ids"]:
            raise CollateralConflict(
                f"sensor {id} is installed at {', '.join(existing['warehouse_ids'])}, "
                f"not {warehouse_id}"
            )
    info = SensorInfo(id, sensor_kind, asset_id, warehouse_id, interval_s)
    register_sensors(driver, database, [info])
    return info


def set_limits(
    driver: Driver, database: str, asset_id: str, *, geofence: Geofence | None = None,
    temp_min: float | None = None, temp_max: float | None = None,
    humidity_max: float | None = None,
) -> CollateralAsset:  # fmt: skip
    """Replace the asset's monitoring limits: a limit left out is removed."""
    lo, hi = TEMP_RANGE
    t_min = _finite(temp_min, "tempMin", lo, hi)
    t_max = _finite(temp_max, "tempMax", lo, hi)
    if t_min is not None and t_max is not None and t_min >= t_max:
        raise InvalidArgument(f"tempMin {t_min:g} must be below tempMax {t_max:g}")
    h_max = _finite(humidity_max, "humidityMax", 0.0, 100.0)
    fence: dict[str, float | None] = {
        "geofence_lat": None, "geofence_lon": None, "geofence_radius_m": None
    }  # fmt: skip
    if geofence is not None:
        fence = {
            "geofence_lat": _finite(geofence.lat, "geofence lat", -90.0, 90.0),
            "geofence_lon": _finite(geofence.lon, "geofence lon", -180.0, 180.0),
            "geofence_radius_m": _finite(geofence.radius_m, "geofence radiusM", 0.0, MAX_RADIUS_M),
        }
        if not fence["geofence_radius_m"]:
            raise InvalidArgument("geofence radiusM must be positive")
    limits = {**fence, "temp_min": t_min, "temp_max": t_max, "humidity_max": h_max}
    if not q.set_limits(driver, database, asset_id, **limits):
        raise NotFound(f"asset {asset_id} does not exist")
    return get_asset(driver, database, asset_id)


def issue_release_order(
    driver: Driver, database: str, *, id: str, asset_id: str, quantity: Decimal,
    valid_from: datetime, valid_to: datetime,
) -> ReleaseOrder:  # fmt: skip
    """Let `quantity` (in the asset's unit) leave the warehouse between `valid_from` and
    `valid_to`. Refused while the asset backs a live financing: goods are released after
    repayment. Issuing the same order again returns it."""
    checked_id(id, "a release order id")
    qty = _quantity(quantity, "quantity")
    start = _aware(valid_from, "validFrom")
    end = _aware(valid_to, "validTo")
    if end <= start:
        raise InvalidArgument(
            f"validTo {end.isoformat()} must be after validFrom {start.isoformat()}"
        )
    if end <= datetime.now(UTC):
        raise InvalidArgument(f"validTo {end.isoformat()} is already past")
    order = ReleaseOrder(id, asset_id, qty, start, end)

    def work(tx: ManagedTransaction) -> ReleaseOrder:
        guard = q.release_guard(tx, asset_id, id)
        if guard is None:
            raise NotFound(f"asset {asset_id} does not exist")
        if guard["existing"] is not None:
            same = _release_of(guard["existing"], guard["existing_asset_id"])
            if same == order:
                return same
            raise CollateralConflict(f"release order {id} exists with other terms")
        if guard["live"]:
            raise CollateralConflict(
                f"asset {asset_id} backs live financing {', '.join(guard['live'])}: goods are "
                "released after it is repaid"
            )
        pledged = guard["asset_quantity"]
        if pledged is not None and qty > Decimal(str(pledged)):
            raise InvalidArgument(
                f"quantity {qty} is more than the asset's {pledged} {guard['unit'] or ''}".rstrip()
            )
        q.write_release_orders_tx(tx, [{
            "id": id, "asset_id": asset_id, "quantity": str(qty), "valid_from": start,
            "valid_to": end,
        }])  # fmt: skip
        return order

    with driver.session(database=database) as session:
        return session.execute_write(work)


def _release_of(row: dict[str, Any], asset_id: str | None) -> ReleaseOrder:
    def native(x: Any) -> datetime:
        value = x.to_native() if hasattr(x, "to_native") else x
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        return value

    return ReleaseOrder(
        id=row["id"], asset_id=asset_id or "", quantity=Decimal(str(row["quantity"])),
        valid_from=native(row["valid_from"]), valid_to=native(row["valid_to"]),
    )  # fmt: skip


def revalue(driver: Driver, database: str, asset_id: str, unit_value: int) -> Revaluation:
    """A new unit price for the asset: its value is the measured quantity (else the pledged
    one) times the price, rounded half to even. The caller hands the value to finance."""
    _money(unit_value, "unitValue")
    row = _terms(driver, database, asset_id)
    asset = _asset_of(row)
    measured = row["asset"].get("measured_quantity")
    quantity = Decimal(str(measured)) if measured is not None else asset.info.quantity
    currency = asset.info.currency
    if not q.set_unit_value(driver, database, asset_id, unit_value, currency):
        raise NotFound(f"asset {asset_id} does not exist")
    value = int((quantity * unit_value).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    return Revaluation(asset_id, unit_value, quantity, value, currency)
